// modelreg: the registry server and every client and admin command.
#include <csignal>
#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <iostream>

#include "common.h"

namespace {

using modelreg::cli::CommandFn;

struct Command {
  const char* name;
  CommandFn fn;
  const char* synopsis;
  const char* help;  // what it does, its options, an example
};

const Command kCommands[] = {
    {"serve", modelreg::cli::CmdServe,
     "serve --data DIR [--listen 127.0.0.1:8080] [--tls-cert F --tls-key F] [--threads 64] [--upload-ttl SECONDS] "
     "[--drain SECONDS] [--no-direct-io]",
     "Runs the registry on DIR (SQLite database, blobs, upload sessions). On first start it\n"
     "writes an admin token to DIR/admin.token (mode 0600). Stops cleanly on SIGTERM/SIGINT:\n"
     "idle connections close and long polls answer at once, requests in progress get --drain\n"
     "seconds to finish; a second serve on the same DIR is refused.\n"
     "  --listen HOST:PORT    where to listen (default 127.0.0.1:8080; 0.0.0.0:PORT for every\n"
     "                        interface, [::1]:PORT for IPv6; port 0 picks a free port, written\n"
     "                        to DIR/serve.url)\n"
     "  --tls-cert F --tls-key F   serve HTTPS with this certificate and key (PEM)\n"
     "  --threads N           worker threads (64); each open connection holds one, idle ones\n"
     "                        are closed when a new one would wait, long polls take half at most\n"
     "  --upload-ttl SECONDS  unfinished upload sessions older than this are removed (86400;\n"
     "                        SECONDS is 30, 0.5, or with a unit: 45s, 30m, 12h, 7d)\n"
     "  --drain SECONDS       on stop, requests still running after this are cut; uploads keep\n"
     "                        what arrived and clients resume (10)\n"
     "  --no-direct-io        write blobs through the page cache instead of O_DIRECT\n"
     "Example: modelreg serve --data /srv/modelreg --listen 127.0.0.1:8080"},
    {"token", modelreg::cli::CmdToken,
     "token create --role ROLE --name NAME [--models GLOB]... [--expires DURATION|TIME] [--data DIR] | token list "
     "[--data DIR] | token revoke NAME [--data DIR]",
     "Manages bearer tokens (admin). `create` prints the new token once; only its sha256 is stored.\n"
     "  --role ROLE     admin, trainer, approver, agent or auditor\n"
     "  --name NAME     a unique name, shown in the audit log\n"
     "  --models GLOB   limit the token to models matching GLOB (repeatable; e.g. 'fraud-*')\n"
     "  --expires D|T   the token stops working after a duration (90d, 12h, 30m, 45s) or at a\n"
     "                  time (2026-12-31T00:00:00Z); default: never. `list` shows it.\n"
     "  --data DIR      work on the data directory directly (on the server host, even while\n"
     "                  serve runs) instead of through the registry's API\n"
     "Example: modelreg token create --role trainer --name training-job --models 'churn*'"},
    {"register", modelreg::cli::CmdRegister,
     "register MODEL DIR [--data NAME=URI[@sha256:HEX]]... [--data-path NAME=PATH]... [--code-dir DIR | --code-repo "
     "URL --code-commit SHA [--code-branch B]] [--entrypoint F] [--param K=V]... [--params-file F] [--metric K=V]... "
     "[--metrics-file F] [--env K=V]... [--parent DIGEST]",
     "Registers the files under DIR as the next version of MODEL, with its lineage. Paths are\n"
     "checked first (no symlinks, hardlinks, devices, '..', control characters, nor names\n"
     "equal after case-folding and Unicode normalization); every file is hashed, files\n"
     "over 64 MiB while they upload unless the registry may hold them already (a digest\n"
     "cache in MODELREG_CACHE_DIR, then a probe of size and a 64 KiB sample); only blobs\n"
     "the registry lacks are uploaded (resumable).\n"
     "The same files with the same lineage give the same version.\n"
     "  --data NAME=URI[@sha256:HEX]   a training dataset, by URI and (optionally) digest\n"
     "  --data-path NAME=PATH   a dataset hashed here (a file, or a directory as a whole)\n"
     "  --code-dir DIR          the git checkout that trained it: HEAD commit, branch, origin\n"
     "                          URL (credentials stripped), dirty flag\n"
     "  --code-repo URL --code-commit SHA [--code-branch B]   the code, given instead\n"
     "  --entrypoint F          the script or command that trained it\n"
     "  --param K=V, --params-file F      hyperparameters (numbers, booleans or strings; F: JSON object)\n"
     "  --metric K=V, --metrics-file F    metrics (numbers; F: JSON object), used by policy gates\n"
     "  --env K=V               environment facts (e.g. python=3.11)\n"
     "  --parent DIGEST         the bundle digest this one was fine-tuned from\n"
     "On a terminal a progress line shows the bytes hashed, then sent, and the rate\n"
     "(MODELREG_PROGRESS=1: also in a log, a line a second; =0: never).\n"
     "Example: modelreg register churn ./out --data-path train=data/train.csv --code-dir . \\\n"
     "           --metric auc=0.91 --param seed=42"},
    {"models", modelreg::cli::CmdModels, "models [-o wide|json|yaml|name]",
     "Lists the models this token may read: how many versions, the latest, the one in production.\n"
     "  -o FORMAT   wide (every column whole), json, yaml, or name (one a line)"},
    {"versions", modelreg::cli::CmdVersions, "versions MODEL [-o wide|json|yaml|name]",
     "Lists MODEL's versions: number, stage, digest (12 hex; -o wide: whole), files, size,\n"
     "who registered it, when (-o wide), metrics.\n"
     "  -o FORMAT   wide (every column whole), json, yaml, or name (version numbers)"},
    {"show", modelreg::cli::CmdShow, "show MODEL VERSION",
     "Shows one version: digest, stage, files, lineage (data, code, params, metrics,\n"
     "environment), approvals.\n"
     "VERSION is a number or a bundle digest (sha256:...)."},
    {"pull", modelreg::cli::CmdPull, "pull MODEL (VERSION | --stage STAGE) DEST [--force]",
     "Downloads a version into DEST (absent or an empty directory). Every file's size and sha256\n"
     "are checked while streaming; small files come in batches, large ones resume after a lost\n"
     "connection. Files are written to a temporary directory beside DEST, made durable and\n"
     "renamed: DEST is whole or absent. A file that would land outside DEST is refused.\n"
     "A pull that was killed, or gave up on an unreachable registry, is resumed by the next\n"
     "pull of the same version into the same DEST: the files it finished are checked (size,\n"
     "sha256) and kept, a large file it cut short is continued, the rest downloaded.\n"
     "A DEST that holds the version's files already is left as it is (\"nothing to pull\").\n"
     "  --stage STAGE   the version now in STAGE (staging or production)\n"
     "  --force         replace a DEST holding anything else: the version is pulled beside it\n"
     "                  and swapped in with one rename, the old files removed\n"
     "On a terminal a progress line shows the bytes received, of how many, and the rate\n"
     "(MODELREG_PROGRESS=1: also in a log, a line a second; =0: never).\n"
     "Environment: MODELREG_DIRECT_IO=off writes through the page cache instead of O_DIRECT.\n"
     "Example: modelreg pull churn --stage production ./churn-prod"},
    {"promote", modelreg::cli::CmdPromote,
     "promote MODEL VERSION --to staging|production [--reason TEXT] [--override TEXT]",
     "Moves a version to staging or production. Production needs the model policy's approvals\n"
     "(from approvers other than the registrant) and gates; a refusal lists every failing check.\n"
     "Promoting to production archives the previous production version in the same step.\n"
     "  --to STAGE        staging or production\n"
     "  --reason TEXT     recorded in the history and the audit log\n"
     "  --override TEXT   (admin) promote despite failing checks; the reason and what it\n"
     "                    overrode are recorded"},
    {"approve", modelreg::cli::CmdApprove, "approve MODEL VERSION [--comment TEXT]",
     "Approves a version for production (approver or admin; not the version's registrant).\n"
     "  --comment TEXT   recorded with the approval"},
    {"reject", modelreg::cli::CmdReject, "reject MODEL VERSION --reason TEXT",
     "Rejects a version for good (not one in production).\n  --reason TEXT   required; recorded"},
    {"archive", modelreg::cli::CmdArchive, "archive MODEL VERSION [--reason TEXT]",
     "Archives a version; it may be staged again later.\n  --reason TEXT   recorded"},
    {"rollback", modelreg::cli::CmdRollback, "rollback MODEL --reason TEXT",
     "Puts the previous production version back in production (no new approvals needed);\n"
     "repeated rollbacks walk back version by version.\n  --reason TEXT   required; recorded"},
    {"policy", modelreg::cli::CmdPolicy,
     "policy set MODEL [--approvals N] [--gate EXPR]... [--require-clean-code] [--require-data-digests] | policy show "
     "MODEL",
     "Sets (admin) or shows what a promotion to production must pass.\n"
     "  --approvals N            approvals needed (default 1)\n"
     "  --gate EXPR              METRIC OP NUMBER or METRIC OP production, OP one of >= > <= < ==\n"
     "                           (repeatable; e.g. 'auc >= 0.85', 'logloss <= production')\n"
     "  --require-clean-code     the version's code must be a clean git checkout\n"
     "  --require-data-digests   every dataset must have a digest"},
    {"history", modelreg::cli::CmdHistory, "history MODEL [-o wide|json|yaml]",
     "Every stage change of MODEL's versions: when, who, from, to, why.\n"
     "  -o FORMAT   wide (reasons whole), json or yaml"},
    {"audit", modelreg::cli::CmdAudit,
     "audit log [--model M [--version V]] [--since TIME] [--limit N] | audit verify [--data DIR] [--checkpoint FILE "
     "[--trust-key PEM]] | audit checkpoint [-o FILE] | audit decision ID | audit live --model M --at TIME [--agent A]",
     "Questions for auditors.\n"
     "  log         the hash-chained audit log, oldest first (--model, --version, --since; --limit N: the newest N)\n"
     "  verify      re-checks the whole chain (through the API, or --data DIR on the server host);\n"
     "              with --checkpoint FILE also that the log still extends that signed checkpoint\n"
     "              (--trust-key PEM: the registry key to check its signature with)\n"
     "  checkpoint  a signed checkpoint of the chain's head, to keep elsewhere (-o FILE)\n"
     "  decision    which version answered the request with this id, and everything behind it\n"
     "  live        which version was live for --model at --at TIME (per agent, or --agent A)\n"
     "TIME (UTC): 2026-11-23T18:00:00Z, 2026-11-23T18:00:00.123Z, 2026-11-23 or epoch milliseconds."},
    {"lineage", modelreg::cli::CmdLineage, "lineage MODEL VERSION | lineage --dataset DIGEST | lineage --commit SHA",
     "Upstream: a version's datasets, code and parents. Downstream: the versions a dataset\n"
     "(--dataset DIGEST) or a commit (--commit SHA or prefix) fed, and where they are live."},
    {"diff", modelreg::cli::CmdDiff, "diff MODEL V1 V2",
     "What changed between two versions: files, datasets, code, params, metrics, environment."},
    {"provenance", modelreg::cli::CmdProvenance,
     "provenance MODEL VERSION [-o FILE] | provenance verify FILE|- [--trust-key PEM] [--digest sha256:...]",
     "Exports signed SLSA provenance (an in-toto statement in a DSSE envelope) for a version,\n"
     "or verifies one "
     "offline: --trust-key PEM (the registry's key, from `modelreg key export`) and, with\n"
     "--digest, that it is about that bundle."},
    {"agents", modelreg::cli::CmdAgents, "agents [--model MODEL] [-o wide|json|yaml|name]",
     "Serving agents and what they report: model, version, state, heartbeat, digest, decision\n"
     "spool, last error.\n"
     "  -o FORMAT   wide (every column whole), json, yaml, or name (agent ids)"},
    {"key", modelreg::cli::CmdKey, "key export",
     "Prints the registry's public signing key (PEM): agents pin it with --trust-key."},
    {"whoami", modelreg::cli::CmdWhoami, "whoami", "The token's name and role (with --json, also the models it is limited to)."},
    {"admin", modelreg::cli::CmdAdmin, "admin fsck --data DIR [--repair] | admin backup --data DIR DEST",
     "On the server host.\n"
     "  fsck     re-hashes every blob and checks every reference; compares each version's rows\n"
     "           with its manifest, its hashed lineage record and the audit log, and approvals\n"
     "           and policies with the audit log; exit 1 on any problem\n"
     "           --repair: moves corrupt blobs to DIR/quarantine/ (kept as evidence); the\n"
     "           versions using them then report them missing until a register of a bundle\n"
     "           holding those bytes uploads good copies (or restore them from a backup)\n"
     "  backup   a consistent online backup (SQLite backup API + blobs) into DEST;\n"
     "           `serve --data DEST` starts from it"},
};

void GlobalOptions(std::ostream& o) {
  o << "\nGlobal options (client commands):\n"
       "  --registry URL   http[s]://host[:port], no path (env MODELREG_URL, default http://127.0.0.1:8080)\n"
       "  --token T        bearer token (env MODELREG_TOKEN)\n"
       "  --ca FILE        trust this CA certificate for https\n"
       "  --json           machine-readable output on stdout\n";
}

void Usage(std::ostream& o) {
  o << "modelreg — model registry and artifact lineage\n\nUsage:\n";
  for (const auto& c : kCommands) o << "  modelreg " << c.synopsis << "\n";
  o << "\n`modelreg COMMAND --help` (or `modelreg help COMMAND`) explains a command and its options.\n";
  GlobalOptions(o);
  o << "\nA VERSION is a number or a bundle digest (sha256:...).\n" << modelreg::cli::kExitCodesHelp;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a peer closing mid-upload is an error value, not a crash
  signal(SIGXFSZ, SIG_IGN);  // a file-size limit is an EFBIG error value too
  modelreg::cli::SetJsonErrorsFromArgv(argc, argv);
  std::vector<std::string> rest(argv + std::min(argc, 2), argv + argc);
  if (argc >= 3 && !strcmp(argv[1], "help")) {  // modelreg help COMMAND
    rest = {"--help"};
    argv[1] = argv[2];
  }
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    Usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? modelreg::cli::kExitUsage : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    std::cout << "modelreg 0.1.0\n";
    return 0;
  }
  for (const auto& c : kCommands) {
    if (strcmp(argv[1], c.name) != 0) continue;
    for (const auto& a : rest)
      if (a == "--help" || a == "-h") {
        std::cout << "Usage: modelreg " << c.synopsis << "\n\n" << c.help << "\n";
        if (strcmp(c.name, "serve") != 0 && strcmp(c.name, "admin") != 0) GlobalOptions(std::cout);
        return 0;
      }
    try {
      return c.fn(rest);
    } catch (const modelreg::cli::UsageError& e) {
      return modelreg::cli::FailUsage(c.name, e.what(), c.synopsis);
    } catch (const std::exception& e) {
      std::cerr << "modelreg: unexpected error: " << modelreg::TerminalSafe(e.what()) << "\n";
      return modelreg::cli::kExitFailure;
    }
  }
  std::cerr << "modelreg: unknown command '" << argv[1] << "'\n";
  Usage(std::cerr);
  return modelreg::cli::kExitUsage;
}
