// Where a client command connects and with which token, from flags, the
// environment and the configuration file, in that order (docs/cli.md):
//   registry: --registry, MODELREG_URL, the context's, http://127.0.0.1:8080
//   token:    --token or --token-file F, MODELREG_TOKEN, the context's
//   ca:       --ca, the context's
// The context is --context NAME, else the configuration's current one. A
// context's token is sent only to that context's registry: with another
// registry given by flag or environment it is not used.
#pragma once

#include <string>

#include "args.h"
#include "core/status.h"

namespace modelreg::cli {

struct Connection {
  std::string url;  // as given (RegistryClient normalizes and checks it)
  std::string token;
  std::string ca_file;
  std::string context;  // the context used, "" for none
};

Result<Connection> ResolveConnection(const Args& args);

}  // namespace modelreg::cli
