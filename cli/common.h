// Shared plumbing of the modelreg CLI commands: global flags, the registry
// client, output helpers, exit codes (kExitCodesHelp below; docs/cli.md).
#pragma once

#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "args.h"
#include "auth/signing.h"
#include "client/registry_client.h"
#include "core/status.h"
#include "core/terminal_text.h"
#include "service/registry_service.h"

namespace modelreg {
class RegistryService;
}

namespace modelreg::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitRefused = 4;       // a stage change refused by policy (HTTP 422: gates, approvals)
inline constexpr int kExitUnauthorized = 5;  // unknown token, or the token's role or models do not allow it
inline constexpr int kExitUnreachable = 6;   // no answer from the registry (or 502/503/504)

// The exit codes as `modelreg --help` and docs/cli.md list them.
inline constexpr const char* kExitCodesHelp =
    "Exit status: 0 success; 1 failure; 2 usage error; 3 not found; 4 refused by policy\n"
    "(a stage change: failing gates, missing approvals, a stage rule); 5 unauthorized or\n"
    "forbidden; 6 registry unreachable.\n"
    "With --json, an error is also JSON, on stderr: {\"error\":{\"code\",\"message\",\"details\"}}.\n";

// The exit code for a failure with this status (kExit* above).
int ExitCodeFor(const Status& st);

// Flags every client command accepts.
std::set<std::string> GlobalValueFlags();
std::set<std::string> GlobalBoolFlags();
std::set<std::string> Merge(std::set<std::string> a, const std::set<std::string>& b);

// --registry / MODELREG_URL, --token / MODELREG_TOKEN, --ca.
// `progress`: counters for a ProgressLine (cli/progress.h), or none.
Result<std::unique_ptr<RegistryClient>> MakeClient(const Args& args, TransferProgress* progress = nullptr);

// The key that signed envelopes are checked with: --trust-key PEM, else the
// key the registry serves now (with a note on stderr that it is not pinned).
Result<std::unique_ptr<VerifyKey>> TrustedKey(const Args& args);

// The registry in DIR for the commands that work on a data directory
// directly (admin, audit verify, token --data): it must exist. Opening a
// mistyped DIR would create an empty registry there and report on that
// ("audit log verified: 0 events"). Only `serve` creates one.
Result<std::unique_ptr<RegistryService>> OpenExistingRegistry(const std::string& data_dir, ServiceOptions options = {});
// --blobs oci://HOST[:PORT]/PREFIX with --blobs-ca FILE and --blobs-credentials
// FILE (else MODELREG_BLOBS_USER/_PASSWORD): blobs in an OCI registry
// (docs/operations.md "Blobs in an OCI registry"). nullopt without --blobs.
Result<std::optional<OciConfig>> BlobsFromFlags(const Args& args);

// Writes `text` to --output / -o FILE (atomically), or to stdout without
// one. Returns the file written, "" for stdout.
Result<std::string> WriteOutput(const Args& args, const std::string& text);

// Whether errors are printed as JSON: set once from the command line (any
// "--json" before a "--"), before a command runs.
void SetJsonErrors(bool on);
void SetJsonErrorsFromArgv(int argc, char** argv);
bool JsonErrors();

// Prints "modelreg: <message>" (and details) to stderr, escaped, or with
// --json {"error":{"code","message","details"}}; returns ExitCodeFor(st).
int Fail(const Status& st);
// Fail for a check made here, not an answer of the registry (a signature
// that does not verify, a local file): exit 1 whatever the code.
int FailLocal(const Status& st);
// Fail for a stage change (promote, approve, reject, archive, rollback): a
// refusal by the registry's rules (FAILED_PRECONDITION, HTTP 422: failing
// gates, missing approvals, a stage rule) exits 4; elsewhere that code is 1.
int FailStageChange(const Status& st);
// A usage error of `command` ("" before one was found): the message and a
// one-line hint (e.g. "Run 'modelreg pull --help' …"); returns kExitUsage.
// With --json: {"error":{"code":"USAGE","message":…,"details":[hint]}} on stderr.
int FailUsage(const std::string& command, const std::string& message, const std::string& hint);
bool WantJson(const Args& args);
// Runs a command that reads an answer's JSON by key (audit, lineage, diff:
// the client hands those over as JSON): an answer of the wrong shape (another
// server at the URL) is one line and exit 1, not an exception. The other
// commands get records from RegistryClient's typed calls, which check the
// shape themselves.
int ReadingAnswers(const std::function<int()>& command);
// --json output: nlohmann escapes C0 controls; DEL and C1 are escaped too.
void PrintJson(const nlohmann::json& j);
std::string HumanBytes(uint64_t n);
// "1 file", "2 files": n and the noun, plural unless n is 1.
std::string Count(uint64_t n, const std::string& noun);
// Everything the human (non --json) output prints from a registry's answer
// goes through JsonText, FieldText or, for other text (map keys, a PEM),
// TerminalSafe (core/terminal_text.h): control characters escaped, invalid
// UTF-8 replaced. A registry, or text stored in it, must not drive the
// reader's terminal.
// A JSON value for a human: strings as they are, null as "-", others as JSON.
std::string JsonText(const nlohmann::json& v);
// The string member `key` of `obj` for a human: "" when absent or null,
// other types as JSON.
std::string FieldText(const nlohmann::json& obj, const char* key);

using CommandFn = int (*)(const std::vector<std::string>& argv);

int CmdServe(const std::vector<std::string>& argv);
int CmdToken(const std::vector<std::string>& argv);
int CmdRegister(const std::vector<std::string>& argv);
int CmdModels(const std::vector<std::string>& argv);
int CmdVersions(const std::vector<std::string>& argv);
int CmdShow(const std::vector<std::string>& argv);
int CmdPull(const std::vector<std::string>& argv);
int CmdWhoami(const std::vector<std::string>& argv);
int CmdAdmin(const std::vector<std::string>& argv);
int CmdPromote(const std::vector<std::string>& argv);
int CmdApprove(const std::vector<std::string>& argv);
int CmdReject(const std::vector<std::string>& argv);
int CmdArchive(const std::vector<std::string>& argv);
int CmdRollback(const std::vector<std::string>& argv);
int CmdPolicy(const std::vector<std::string>& argv);
int CmdDelete(const std::vector<std::string>& argv);     // cmd_storage.cc
int CmdRetention(const std::vector<std::string>& argv);  // cmd_storage.cc
int CmdGc(const std::vector<std::string>& argv);         // cmd_storage.cc
// A gc answer (docs/api.md) as text (cmd_storage.cc).
void PrintGcReport(const nlohmann::json& r);
int CmdHistory(const std::vector<std::string>& argv);
int CmdAudit(const std::vector<std::string>& argv);
int CmdAgents(const std::vector<std::string>& argv);
int CmdKey(const std::vector<std::string>& argv);
int CmdLineage(const std::vector<std::string>& argv);
int CmdDiff(const std::vector<std::string>& argv);
int CmdProvenance(const std::vector<std::string>& argv);

}  // namespace modelreg::cli
