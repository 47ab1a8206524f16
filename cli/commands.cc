#include "commands.h"

#include <regex>
#include <set>

namespace modelreg::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> k = {
      {"serve", CmdServe,
       "serve --data DIR [--listen 127.0.0.1:8080] [--tls-cert F --tls-key F] [--threads 64] [--max-long-polls 16000] "
       "[--upload-ttl SECONDS] [--drain SECONDS] [--write-mode auto|direct|buffered] [--db "
       "postgresql://USER@HOST:PORT/DB "
       "[--db-password-file F]] [--release-key F] [--blobs oci://HOST:PORT/PREFIX [--blobs-ca F] "
       "[--blobs-credentials F]] [--oci-agent-stages-only] [--webhooks-allow-private] [--webhook-timeout S] "
       "[--no-webhooks] [--metrics-allow CIDR[,CIDR]...] [--config F]",
       "Runs the registry on DIR (SQLite database, blobs, upload sessions). On first start it\n"
       "writes an admin token to DIR/admin.token (mode 0600). Stops cleanly on SIGTERM/SIGINT:\n"
       "idle connections close and long polls answer at once, requests in progress get --drain\n"
       "seconds to finish; a second serve on the same DIR is refused.\n"
       "  --listen HOST:PORT    where to listen (default 127.0.0.1:8080; 0.0.0.0:PORT for every\n"
       "                        interface, [::1]:PORT for IPv6; port 0 picks a free port, written\n"
       "                        to DIR/serve.url)\n"
       "  --tls-cert F --tls-key F   serve HTTPS with this certificate and key (PEM)\n"
       "  --threads N           worker threads (64); a request holds one while it is served;\n"
       "                        idle connections and waiting long polls hold none\n"
       "  --max-long-polls N    release long polls held at once (16000); past it one is\n"
       "                        answered at once\n"
       "  --upload-ttl SECONDS  unfinished upload sessions older than this are removed (86400;\n"
       "                        SECONDS is 30, 0.5, or with a unit: 45s, 30m, 12h, 7d)\n"
       "  --drain SECONDS       on stop, requests still running after this are cut; uploads keep\n"
       "                        what arrived and clients resume (10)\n"
       "  --write-mode M        how uploaded blobs reach the disk: direct (O_DIRECT, around the\n"
       "                        page cache), buffered (page cache with write-behind, pages dropped\n"
       "                        once written), or auto (default): at start, time both on DIR\n"
       "                        (2 x 32 MiB each, well under a second) and use buffered only if\n"
       "                        it was >10 % faster; the log's \"write mode\" line says which and why.\n"
       "                        --no-direct-io is --write-mode buffered; MODELREG_WRITE_MODE sets\n"
       "                        the default\n"
       "  --db URL              keep metadata in PostgreSQL instead of DIR/registry.db, shared by\n"
       "                        every replica (password from PGPASSWORD, ~/.pgpass or\n"
       "                        --db-password-file F; never in the URL). The first replica on an\n"
       "                        empty database creates the admin token in its DIR\n"
       "  --release-key F       sign releases with this Ed25519 key (PEM) instead of\n"
       "                        DIR/keys/release.key; give every replica of one database the same\n"
       "                        file (a replica with another key is refused)\n"
       "  --blobs oci://HOST:PORT/PREFIX   keep blobs and bundle manifests in an OCI registry\n"
       "                        (TLS; oci+http:// for a loopback registry only) instead of DIR/blobs\n"
       "  --blobs-ca F          PEM CA bundle to verify that registry with (default: system CAs)\n"
       "  --blobs-credentials F a file holding user:password for it (else MODELREG_BLOBS_USER and\n"
       "                        MODELREG_BLOBS_PASSWORD)\n"
       "  --oci-agent-stages-only   through the OCI endpoint /v2/, agent tokens resolve only the\n"
       "                        production and staging tags and pull only versions that were\n"
       "                        approved into one of them (docs/oci.md)\n"
       "  --webhooks-allow-private  deliver webhooks to loopback, link-local and private\n"
       "                        addresses too (refused by default: docs/events.md)\n"
       "  --webhook-timeout S   cut a webhook delivery attempt after S seconds (default 10)\n"
       "  --no-webhooks         deliver no webhooks from this replica (events are still recorded\n"
       "                        and other replicas deliver them)\n"
       "  --metrics-allow CIDR[,CIDR]...  peers in these ranges may GET /metrics without a\n"
       "                        token (Prometheus), e.g. 127.0.0.1,::1 or 10.0.0.0/8; they see\n"
       "                        what an auditor's token for every model sees\n"
       "  --config F            settings from file F (or MODELREG_CONFIG_FILE): lines 'name = value',\n"
       "                        name being a flag without its dashes (listen = 0.0.0.0:8080,\n"
       "                        no-webhooks = true). Each flag may also come from the environment:\n"
       "                        MODELREG_ + its name in upper case, '-' as '_' (MODELREG_LISTEN,\n"
       "                        MODELREG_NO_WEBHOOKS=true). Flags win over the environment, which\n"
       "                        wins over the file; the log names what came from where\n"
       "The same port also speaks the OCI distribution API at /v2/ (docs/oci.md).\n"
       "Example: modelreg serve --data /srv/modelreg --listen 127.0.0.1:8080"},
      {"token", CmdToken,
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
      {"register", CmdRegister,
       "register MODEL DIR [--data NAME=URI[@sha256:HEX]]... [--data-path NAME=PATH]... [--code-dir DIR | --code-repo "
       "URL --code-commit SHA [--code-branch B]] [--entrypoint F] [--param K=V]... [--params-file F] [--metric K=V]... "
       "[--metrics-file F] [--env K=V]... [--parent DIGEST] [--profile-data NAME=PATH [--target C] "
       "[--output-column C]] [--schema FILE]",
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
       "  --profile-data NAME=PATH   a reference profile of the training data (CSV with a header\n"
       "                          row, or JSON Lines), for the serving agents' schema checks and\n"
       "                          drift (docs/monitoring.md): per column its type, range and\n"
       "                          quantile bins; stored in the bundle as .modelreg/profile.json\n"
       "  --target C              the label column: left out of the profile\n"
       "  --output-column C       a column of the model's outputs on those rows: the reference\n"
       "                          for output drift, left out of the inputs\n"
       "  --schema FILE           the input schema (JSON, docs/monitoring.md) instead of the one\n"
       "                          derived from the profile; alone: a profile holding only it\n"
       "On a terminal a progress line shows the bytes hashed, then sent, and the rate\n"
       "(MODELREG_PROGRESS=1: also in a log, a line a second; =0: never).\n"
       "Example: modelreg register churn ./out --data-path train=data/train.csv --code-dir . \\\n"
       "           --metric auc=0.91 --param seed=42"},
      {"models", CmdModels, "models [-o wide|json|yaml|name]",
       "Lists the models this token may read: how many versions, the latest, the one in production.\n"
       "  -o FORMAT   wide (every column whole), json, yaml, or name (one a line)"},
      {"versions", CmdVersions, "versions MODEL [-o wide|json|yaml|name]",
       "Lists MODEL's versions: number, stage, digest (12 hex; -o wide: whole), files, size,\n"
       "who registered it, when (-o wide), metrics.\n"
       "  -o FORMAT   wide (every column whole), json, yaml, or name (version numbers)"},
      {"show", CmdShow, "show MODEL VERSION",
       "Shows one version: digest, stage, files, lineage (data, code, params, metrics,\n"
       "environment), approvals.\n"
       "VERSION is a number, a digest (sha256:...), a unique digest prefix (12+ hex), production,\n"
       "staging or latest."},
      {"pull", CmdPull, "pull MODEL (VERSION | --stage STAGE) DEST [--force]",
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
      {"promote", CmdPromote, "promote MODEL VERSION --to staging|production [--reason TEXT] [--override TEXT]",
       "Moves a version to staging or production. Production needs the model policy's approvals\n"
       "(from approvers other than the registrant) and gates; a refusal lists every failing check.\n"
       "Promoting to production archives the previous production version in the same step.\n"
       "  --to STAGE        staging or production\n"
       "  --reason TEXT     recorded in the history and the audit log\n"
       "  --override TEXT   (admin) promote despite failing checks; the reason and what it\n"
       "                    overrode are recorded"},
      {"approve", CmdApprove, "approve MODEL VERSION [--comment TEXT]",
       "Approves a version for production (approver or admin; not the version's registrant).\n"
       "  --comment TEXT   recorded with the approval"},
      {"reject", CmdReject, "reject MODEL VERSION --reason TEXT",
       "Rejects a version for good (not one in production).\n  --reason TEXT   required; recorded"},
      {"archive", CmdArchive, "archive MODEL VERSION [--reason TEXT]",
       "Archives a version; it may be staged again later.\n  --reason TEXT   recorded"},
      {"rollback", CmdRollback, "rollback MODEL --reason TEXT",
       "Puts the previous production version back in production (no new approvals needed);\n"
       "repeated rollbacks walk back version by version.\n  --reason TEXT   required; recorded"},
      {"policy", CmdPolicy,
       "policy set MODEL [--approvals N] [--gate EXPR]... [--require-clean-code] [--require-data-digests] "
       "[--drift-alpha A] [--drift-min-psi X] [--max-violation-rate R] | policy show MODEL",
       "Sets (admin) or shows what a promotion to production must pass.\n"
       "  --approvals N            approvals needed (default 1)\n"
       "  --gate EXPR              METRIC OP NUMBER or METRIC OP production, OP one of >= > <= < ==\n"
       "                           (repeatable; e.g. 'auc >= 0.85', 'logloss <= production')\n"
       "  --require-clean-code     the version's code must be a clean git checkout\n"
       "  --require-data-digests   every dataset must have a digest\n"
       "Monitoring (docs/monitoring.md; a flag left out goes back to its default):\n"
       "  --drift-alpha A          false-alarm probability of a drift alarm per feature-window,\n"
       "                           in (0, 0.5] (default 0.001)\n"
       "  --drift-min-psi X        PSI below X never alarms, however large the window (default 0.02)\n"
       "  --max-violation-rate R   a window whose share of rows breaking the input schema is over\n"
       "                           R (0..1; windows of >= 20 rows) raises schema.violations (default: never)"},
      {"delete", CmdDelete, "delete MODEL VERSION --reason TEXT",
       "Deletes a version (admin): its files go at the next `modelreg gc`; its record, lineage,\n"
       "approvals, stage history and audit events stay, and `show` says when, by whom and why.\n"
       "A pull of it then fails (410). Refused for the production version, a version in staging\n"
       "(archive or reject it first) and a version in a running rollout.\n"
       "  --reason TEXT   required; recorded\n"
       "Example: modelreg delete churn 3 --reason 'superseded; disk space'"},
      {"retention", CmdRetention,
       "retention set MODEL [--keep-archived N] [--keep-rejected-days D] | retention show MODEL",
       "Sets (admin) or shows which versions `modelreg gc` deletes by itself. A flag left out\n"
       "keeps every version of that kind. Production and a running rollout's versions are never\n"
       "deleted.\n"
       "  --keep-archived N        archived versions beyond the newest N are deleted\n"
       "  --keep-rejected-days D   rejected versions registered more than D days ago are deleted\n"
       "Example: modelreg retention set churn --keep-archived 5 --keep-rejected-days 30"},
      {"gc", CmdGc, "gc [--dry-run] [--grace SECONDS] [--no-retention]",
       "Garbage collection on the running registry (admin): applies every model's retention\n"
       "rules, then removes the blobs no remaining version (nor OCI referrer) references and\n"
       "that are older than the grace period. Registrations and pulls go on meanwhile; a blob a\n"
       "registration in flight is about to reference is never removed (docs/operations.md).\n"
       "  --dry-run        prints what would go and how many bytes; changes nothing\n"
       "  --grace SECONDS  spare blobs written or asked about less than this long ago\n"
       "                   (default: the upload TTL, 24 h)\n"
       "  --no-retention   only remove unreferenced blobs\n"
       "Example: modelreg gc --dry-run"},
      {"history", CmdHistory, "history MODEL [-o wide|json|yaml]",
       "Every stage change of MODEL's versions: when, who, from, to, why (an admin's override\n"
       "past failing gates is kind 'override').\n"
       "  -o FORMAT   wide (reasons whole), json or yaml"},
      {"audit", CmdAudit,
       "audit log [--model M [--version V]] [--since TIME] [--until TIME] [--actor A] [--action X] [--limit N] | audit "
       "verify [--data DIR] [--checkpoint FILE "
       "[--trust-key PEM]] | audit checkpoint [-o FILE] | audit decision ID | audit live --model M --at TIME [--agent "
       "A]",
       "Questions for auditors.\n"
       "  log         the hash-chained audit log, oldest first (--model, --version, --since, --until, --actor,\n"
       "              --action; --limit N: the newest N)\n"
       "  verify      re-checks the whole chain (through the API, or --data DIR on the server host);\n"
       "              with --checkpoint FILE also that the log still extends that signed checkpoint\n"
       "              (--trust-key PEM: the registry key to check its signature with)\n"
       "  checkpoint  a signed checkpoint of the chain's head, to keep elsewhere (-o FILE)\n"
       "  decision    which version answered the request with this id, and everything behind it\n"
       "  live        which version was live for --model at --at TIME (per agent, or --agent A)\n"
       "TIME (UTC): 2026-11-23T18:00:00Z, 2026-11-23T18:00:00.123Z, 2026-11-23 or epoch milliseconds."},
      {"lineage", CmdLineage, "lineage MODEL VERSION | lineage --dataset DIGEST | lineage --commit SHA",
       "Upstream: a version's datasets, code and parents. Downstream: the versions a dataset\n"
       "(--dataset DIGEST) or a commit (--commit SHA or prefix) fed, and where they are live."},
      {"diff", CmdDiff, "diff MODEL V1 V2",
       "What changed between two versions: files, datasets, code, params, metrics, environment."},
      {"provenance", CmdProvenance,
       "provenance MODEL VERSION [-o FILE] | provenance verify FILE|- [--trust-key PEM] [--digest sha256:...]",
       "Exports signed SLSA provenance (an in-toto statement in a DSSE envelope) for a version,\n"
       "or verifies one "
       "offline: --trust-key PEM (the registry's key, from `modelreg key export`) and, with\n"
       "--digest, that it is about that bundle."},
      {"drift", CmdDrift, "drift MODEL [--version V] [--since TIME] [--agent ID] [--json]",
       "Input and output drift of a model's served versions (docs/monitoring.md): per feature, the\n"
       "newest monitoring window's PSI, Jensen-Shannon distance, the alarm threshold at that\n"
       "window's size, missing and out-of-range rates; most drifted first. A version registered\n"
       "without a reference profile shows as \"no reference\".\n"
       "  --version V   one version only (default: every version with windows)\n"
       "  --since TIME  windows starting at or after TIME (2026-12-06T10:00:00Z, epoch ms)\n"
       "  --agent ID    the windows of one agent only\n"
       "  --json        every feature-window: feature, version, agent, start_ms, end_ms, n, psi,\n"
       "                js, missing_rate, out_of_range_rate, threshold, alarm"},
      {"agents", CmdAgents, "agents [--model MODEL] [-o wide|json|yaml|name]",
       "Serving agents and what they report: model, version, state, heartbeat, digest, decision\n"
       "spool, last error.\n"
       "  -o FORMAT   wide (every column whole), json, yaml, or name (agent ids)"},
      {"key", CmdKey, "key export", "Prints the registry's public signing key (PEM): agents pin it with --trust-key."},
      {"whoami", CmdWhoami, "whoami", "The token's name and role (with --json, also the models it is limited to)."},
      {"rollout", CmdRollout,
       "rollout start MODEL VERSION (--shadow | --canary PCT [--steps 5,25,50,100] [--step-every DURATION "
       "--auto-advance] | --ab PCT) [--key-header NAME] [--horizon REQUESTS] [--override REASON] | rollout status "
       "MODEL | rollout "
       "advance MODEL | rollout abort MODEL --reason TEXT | rollout finish MODEL",
       "Serves a candidate version beside production and judges it (docs/rollouts.md).\n"
       "  --shadow        every request is also sent to the candidate; its answers are compared,\n"
       "                  never returned (needs the candidate approved)\n"
       "  --canary PCT    the candidate answers PCT % of requests, then each of --steps in turn\n"
       "                  (`advance`, or by itself every --step-every with --auto-advance)\n"
       "  --ab PCT        a fixed share for as long as it runs\n"
       "  --key-header H  route by this request header (same value, same arm, on every agent);\n"
       "                  default: the request id\n"
       "  --horizon N     the judge's planned horizon per step, in requests (default 20000):\n"
       "                  error-rate tests at N/4, N/2 and N besides the always-valid test;\n"
       "                  0 = the always-valid test alone\n"
       "A canary or A/B needs what promotion to production needs (approvals, gates; --override).\n"
       "The registry aborts a candidate that is significantly worse (errors, p50/p99 latency)\n"
       "by itself; `finish` makes a canary or A/B candidate production (shadow: just ends).\n"
       "`status` shows the arms, shares, counts, error rates, latency, shadow agreement and the\n"
       "verdict. Example: modelreg rollout start churn 4 --canary 5 --steps 25,50,100"},
      {"webhook", CmdWebhook,
       "webhook create --name NAME --url URL --events LIST [--models GLOB] [--secret-file F] [--ca F] | webhook list "
       "| webhook delete NAME | webhook test NAME | webhook deliveries NAME [--limit N]",
       "Manages webhooks (admin): the registry POSTs each event of the listed types, signed,\n"
       "at least once and in order per model, retrying for a day (docs/events.md).\n"
       "  --events LIST   comma-separated event types (model_version.created, stage.changed,\n"
       "                  approval.added, rollback, ...; docs/events.md) or '*' for all\n"
       "  --models GLOB   only events about models matching GLOB (default: every model, and\n"
       "                  the registry-wide events)\n"
       "  --secret-file F the signing secret (one line, 16+ bytes); default: one is generated\n"
       "                  and printed once\n"
       "  --ca F          PEM certificates to verify an https:// receiver with (default: system CAs)\n"
       "`test` sends a webhook.test event now and says what the receiver answered;\n"
       "`deliveries` lists the newest deliveries with their state and last error.\n"
       "Example: modelreg webhook create --name ci --url https://ci.example/hooks/modelreg \\\n"
       "           --events stage.changed,rollback --models 'churn*' --secret-file ci.secret"},
      {"events", CmdEvents, "events [--after ID] [--limit N] [--follow]",
       "Lists the registry's events this token may see, oldest first, after event ID (default:\n"
       "from the start); --follow keeps listening for new ones (long polls). With --json, one\n"
       "JSON object per line, as webhooks receive them (docs/events.md).\n"
       "Example: modelreg events --follow --json"},
      {"admin", CmdAdmin,
       "admin fsck --data DIR [--repair] [--blobs URL [--blobs-ca F] [--blobs-credentials F]] | admin backup --data "
       "DIR DEST | admin migrate --from-data DIR --db URL [--db-password-file F] [--blobs URL ...] | admin gc --data "
       "DIR [--dry-run] [--grace SECONDS] [--no-retention]",
       "On the server host.\n"
       "  fsck     re-hashes every blob and checks every reference; compares each version's rows\n"
       "           with its manifest, its hashed lineage record and the audit log, and approvals\n"
       "           and policies with the audit log; exit 1 on any problem\n"
       "           --repair: moves corrupt blobs to DIR/quarantine/ (kept as evidence); the\n"
       "           versions using them then report them missing until a register of a bundle\n"
       "           holding those bytes uploads good copies (or restore them from a backup)\n"
       "           --blobs: the blobs are in that OCI registry (as serve's): each blob the database\n"
       "           references is fetched and hashed; --repair does nothing there\n"
       "  gc       `modelreg gc` (retention, then unreferenced blobs) on DIR directly; safe\n"
       "           beside a running serve, but prefer `modelreg gc` through it (registrations\n"
       "           in flight there are then also pinned, docs/operations.md)\n"
       "  backup   a consistent online backup (SQLite backup API + blobs) into DEST;\n"
       "           `serve --data DEST` starts from it\n"
       "  migrate  copies a single-node registry (stopped) into PostgreSQL, and its blobs into\n"
       "           --blobs (else they stay in DIR): every version, stage, approval, token,\n"
       "           decision and audit event, the audit chain unchanged; run it again after an\n"
       "           interruption to finish. Replicas then sign with DIR/keys/release.key"},
      {"login", CmdLogin, "login URL [--context NAME] [--token-file F | --token T] [--ca FILE]",
       "Stores URL and its token in the configuration file as context NAME (default: default)\n"
       "and makes it the current context; the token is checked with the registry first.\n"
       "The token: --token-file F, --token T, MODELREG_TOKEN, else read from stdin (a prompt\n"
       "without echo on a terminal). The file is $XDG_CONFIG_HOME/modelreg/config (else\n"
       "~/.config/modelreg/config; MODELREG_CONFIG names another), mode 0600.\n"
       "Flags and the environment override it: --registry/MODELREG_URL, --token/--token-file/\n"
       "MODELREG_TOKEN, --ca; a context's token is only sent to that context's registry.\n"
       "  --context NAME   the context to write (letters, digits, '.', '_', '-')\n"
       "Example: modelreg login https://registry.example:8443 --context prod --token-file ~/.prod-token"},
      {"context", CmdContext, "context list | context use NAME | context remove NAME",
       "The contexts `modelreg login` stored.\n"
       "  list     every context, its registry; * marks the current one\n"
       "  use      makes NAME the current context\n"
       "  remove   forgets NAME and its token\n"
       "One command may use another context with --context NAME."},
      {"completion", CmdCompletion, "completion bash|zsh|fish",
       "Prints a shell completion script for commands, subcommands and flags.\n"
       "Example: source <(modelreg completion bash)   # or: modelreg completion fish | source"},
  };
  return k;
}

bool Command::global_options() const {
  const std::string n = name;
  return n != "serve" && n != "admin" && n != "completion";
}

const Command* FindCommand(const std::string& name) {
  for (const auto& c : Commands())
    if (name == c.name) return &c;
  return nullptr;
}

std::vector<std::string> CommandNames() {
  std::vector<std::string> out;
  for (const auto& c : Commands()) out.push_back(c.name);
  return out;
}

const std::vector<GlobalOption>& GlobalOptionList() {
  static const std::vector<GlobalOption> k = {
      {"--registry", "URL",
       "http[s]://host[:port], no path (env MODELREG_URL, then the context's, default http://127.0.0.1:8080)"},
      {"--token-file", "F", "read the bearer token from F (a token on the command line shows in `ps`)"},
      {"--token", "T", "bearer token (env MODELREG_TOKEN, then the context's)"},
      {"--context", "NAME", "use this context of `modelreg login` instead of the current one"},
      {"--ca", "FILE", "trust this CA certificate for https"},
      {"--json", nullptr, "machine-readable output on stdout"},
  };
  return k;
}

void PrintGlobalOptions(std::ostream& o) {
  o << "\nGlobal options (client commands; before or after the command):\n";
  for (const auto& g : GlobalOptionList()) {
    std::string head = std::string(g.flag) + (g.value ? std::string(" ") + g.value : "");
    head.resize(std::max<size_t>(head.size() + 1, 19), ' ');
    o << "  " << head << g.help << "\n";
  }
  o << "Flags override the environment, which overrides the configuration `modelreg login` writes.\n";
}

void PrintVersionNames(std::ostream& o) {
  o << "A VERSION is a number (3), a bundle digest (sha256:...), a unique prefix of one of at\n"
       "least 12 hex digits (as tables print it), production or staging (the version in that\n"
       "stage) or latest (the highest number).\n"
       "Exit status: 0 success, 1 failure (one line on stderr), 2 usage error.\n";
}

void PrintUsage(std::ostream& o) {
  o << "modelreg — model registry and artifact lineage\n\nUsage:\n";
  for (const auto& c : Commands()) o << "  modelreg " << c.synopsis << "\n";
  o << "  modelreg --version\n";
  o << "\n`modelreg COMMAND --help` (or `modelreg help COMMAND`) explains a command and its options;\n"
       "`modelreg help --man` prints all of it as a man page.\n";
  PrintGlobalOptions(o);
  o << "\n";
  PrintVersionNames(o);
  o << "\n" << kExitCodesHelp;
}

void PrintCommandHelp(std::ostream& o, const Command& c) {
  o << "Usage: modelreg " << c.synopsis << "\n\n" << c.help << "\n";
  if (c.global_options()) PrintGlobalOptions(o);
}

std::vector<std::string> SynopsisFlags(const Command& c) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  static const std::regex flag(R"((^|[\s\[(|])(--?[a-z][a-z0-9-]*))");
  const std::string s = c.synopsis;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), flag); it != std::sregex_iterator(); ++it) {
    std::string f = (*it)[2];
    if (seen.insert(f).second) out.push_back(f);
  }
  return out;
}

std::vector<std::string> Subcommands(const Command& c) {
  std::vector<std::string> out;
  const std::string name = c.name, s = c.synopsis;
  static const std::regex word(R"((^|\|\s*)([a-z]+) ([a-z][a-z-]*)\b)");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), word); it != std::sregex_iterator(); ++it)
    if ((*it)[2] == name && std::find(out.begin(), out.end(), (*it)[3].str()) == out.end()) out.push_back((*it)[3]);
  if (name == "completion") out = {"bash", "zsh", "fish"};
  return out;
}

}  // namespace modelreg::cli
