// modelreg: the registry server and every client and admin command.
#include <csignal>
#include <cstring>
#include <iostream>

#include "common.h"

namespace {

using modelreg::cli::CommandFn;

struct Command {
  const char* name;
  CommandFn fn;
  const char* synopsis;
};

const Command kCommands[] = {
    {"serve", modelreg::cli::CmdServe,
     "serve --data DIR [--listen 127.0.0.1:8080] [--tls-cert F --tls-key F] [--threads 64] [--upload-ttl SECONDS] "
     "[--no-direct-io]"},
    {"token", modelreg::cli::CmdToken, "token create --role ROLE --name NAME [--models GLOB]... [--data DIR] | token list | token revoke NAME"},
    {"register", modelreg::cli::CmdRegister, "register MODEL DIR [--data NAME=URI[@sha256:HEX]]... [--data-path NAME=PATH]... [--code-dir DIR | --code-repo URL --code-commit SHA] [--param K=V]... [--params-file F] [--metric K=V]... [--metrics-file F] [--env K=V]... [--parent DIGEST]"},
    {"models", modelreg::cli::CmdModels, "models"},
    {"versions", modelreg::cli::CmdVersions, "versions MODEL"},
    {"show", modelreg::cli::CmdShow, "show MODEL VERSION"},
    {"pull", modelreg::cli::CmdPull, "pull MODEL (VERSION | --stage STAGE) DEST"},
    {"promote", modelreg::cli::CmdPromote, "promote MODEL VERSION --to staging|production [--reason TEXT] [--override TEXT]"},
    {"approve", modelreg::cli::CmdApprove, "approve MODEL VERSION [--comment TEXT]"},
    {"reject", modelreg::cli::CmdReject, "reject MODEL VERSION --reason TEXT"},
    {"archive", modelreg::cli::CmdArchive, "archive MODEL VERSION [--reason TEXT]"},
    {"rollback", modelreg::cli::CmdRollback, "rollback MODEL --reason TEXT"},
    {"policy", modelreg::cli::CmdPolicy, "policy set MODEL [--approvals N] [--gate EXPR]... [--require-clean-code] [--require-data-digests] | policy show MODEL"},
    {"history", modelreg::cli::CmdHistory, "history MODEL"},
    {"audit", modelreg::cli::CmdAudit, "audit log [--model M [--version V]] [--since TIME] [--limit N] | audit verify [--data DIR] [--checkpoint FILE [--trust-key PEM]] | audit checkpoint [-o FILE] | audit decision ID | audit live --model M --at TIME [--agent A]"},
    {"lineage", modelreg::cli::CmdLineage, "lineage MODEL VERSION | lineage --dataset DIGEST | lineage --commit SHA"},
    {"diff", modelreg::cli::CmdDiff, "diff MODEL V1 V2"},
    {"provenance", modelreg::cli::CmdProvenance, "provenance MODEL VERSION [-o FILE] | provenance verify FILE|- [--trust-key PEM] [--digest sha256:...]"},
    {"agents", modelreg::cli::CmdAgents, "agents [--model MODEL]"},
    {"key", modelreg::cli::CmdKey, "key export"},
    {"whoami", modelreg::cli::CmdWhoami, "whoami"},
    {"admin", modelreg::cli::CmdAdmin, "admin fsck --data DIR | admin backup --data DIR DEST"},
};

void Usage(std::ostream& o) {
  o << "modelreg — model registry and artifact lineage\n\nUsage:\n";
  for (const auto& c : kCommands) o << "  modelreg " << c.synopsis << "\n";
  o << "\nGlobal options (client commands):\n"
       "  --registry URL   registry URL (env MODELREG_URL, default http://127.0.0.1:8080)\n"
       "  --token T        bearer token (env MODELREG_TOKEN)\n"
       "  --ca FILE        trust this CA certificate for https\n"
       "  --json           machine-readable output on stdout\n"
       "\nA VERSION is a number or a bundle digest (sha256:...).\n"
       "Exit status: 0 success, 1 failure (one line on stderr), 2 usage error.\n";
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a peer closing mid-upload is an error value, not a crash
  signal(SIGXFSZ, SIG_IGN);  // a file-size limit is an EFBIG error value too
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    Usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? modelreg::cli::kExitUsage : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    std::cout << "modelreg 0.1.0\n";
    return 0;
  }
  std::vector<std::string> rest(argv + 2, argv + argc);
  for (const auto& c : kCommands) {
    if (strcmp(argv[1], c.name) != 0) continue;
    for (const auto& a : rest)
      if (a == "--help" || a == "-h") {
        std::cout << "Usage: modelreg " << c.synopsis << "\n";
        return 0;
      }
    try {
      return c.fn(rest);
    } catch (const modelreg::cli::UsageError& e) {
      std::cerr << "modelreg " << c.name << ": " << e.what() << "\nUsage: modelreg " << c.synopsis << "\n";
      return modelreg::cli::kExitUsage;
    }
  }
  std::cerr << "modelreg: unknown command '" << argv[1] << "'\n";
  Usage(std::cerr);
  return modelreg::cli::kExitUsage;
}
