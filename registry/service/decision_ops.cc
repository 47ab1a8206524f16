// Decisions recorded by agents: batch ingest (idempotent) and lookup.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "core/bundle_path.h"
#include "core/cpu_yield.h"
#include "service/registry_service.h"
#include "store/decision_store.h"

namespace modelreg {
namespace {

// model_checked, digest_checked: the same as the row before's, already checked.
Status ValidateDecision(const DecisionRecord& d, size_t i, bool model_checked, bool digest_checked) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("decisions[" + std::to_string(i) + "]: " + why);
  };
  if (d.request_id.empty() || d.request_id.size() > 128) return bad("request_id must be 1 to 128 characters");
  for (unsigned char c : d.request_id)
    if (c < 0x21 || c > 0x7e) return bad("request_id must be printable ASCII without spaces");
  if (!model_checked && !ValidateModelName(d.model).ok()) return bad("bad model name");
  if (!digest_checked && !Digest::Parse(d.digest).ok()) return bad("digest must be sha256:<64 hex>");
  if (d.agent_id.empty() || d.agent_id.size() > 128) return bad("agent_id must be 1 to 128 characters");
  if (d.input_sha256.size() != 64 || !std::all_of(d.input_sha256.begin(), d.input_sha256.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      }))
    return bad("input_sha256 must be 64 lowercase hex characters");
  if (d.at_ms <= 0) return bad("at_ms must be a positive time in milliseconds");
  if (d.output && d.output->size() > kMaxDecisionOutputBytes) return bad("output is larger than 64 KiB");
  // A NUL cannot be stored in a PostgreSQL text column; refused on every backend alike.
  if (d.agent_id.find('\0') != std::string::npos) return bad("agent_id must not contain NUL characters");
  if (d.output && d.output->find('\0') != std::string::npos) return bad("output must not contain NUL characters");
  // Which arm of which rollout answered (docs/api.md): both or neither.
  if (!d.arm.empty() && d.arm != "baseline" && d.arm != "candidate") return bad("arm must be baseline or candidate");
  if (d.rollout_id && *d.rollout_id <= 0) return bad("rollout_id must be a positive integer");
  if (d.arm.empty() && d.rollout_id) return bad("rollout_id needs the arm that answered (baseline or candidate)");
  if (!d.arm.empty() && !d.rollout_id) return bad("arm needs the rollout_id of its rollout");
  if (!d.fallback.empty() && d.fallback != "previous" && d.fallback != "static")
    return bad("fallback must be previous or static");
  return Status::OK();
}

// Group commit (SQLite, one writer): the batches that arrive while one
// transaction is committing wait, and the next transaction stores them all,
// one INSERT per batch (so each batch's count of new rows is its own), with
// one fsync for all. The thread that finds no transaction running commits
// what is queued, itself included; the others wait for its outcome. A batch
// is answered only after the transaction holding it committed (or failed:
// then every batch in it gets the error, and none of them is stored), so
// what was acknowledged survives a crash as before (docs/operations.md).
// Rows are checked before they queue: one bad batch never fails another.
// One queue per process; a transaction takes only batches for the same
// database (tests run several services in one process).
class DecisionCommits {
 public:
  // At most this many rows in one transaction (a longer one would only
  // delay the first batches in it); a batch larger than it goes alone.
  static constexpr size_t kMaxRows = 20000;

  struct Pending {
    Database* db;
    const std::vector<DecisionRecord>* batch;
    size_t accepted = 0;
    Status status = Status::OK();
    bool done = false;
  };

  Result<size_t> Commit(Database& db, const std::vector<DecisionRecord>& batch) {
    Pending me{&db, &batch};
    std::unique_lock<std::mutex> l(mu_);
    queue_.push_back(&me);
    while (!me.done) {
      if (committing_) {
        cv_.wait(l);
        continue;
      }
      committing_ = true;
      std::vector<Pending*> group;
      size_t rows = 0;
      // The oldest batch and those after it for the same database, up to kMaxRows.
      Database* const target = queue_.front()->db;
      for (auto it = queue_.begin(); it != queue_.end();) {
        Pending* p = *it;
        if (p->db != target || (!group.empty() && rows + p->batch->size() > kMaxRows)) {
          ++it;
          continue;
        }
        rows += p->batch->size();
        group.push_back(p);
        it = queue_.erase(it);
      }
      l.unlock();
      const int64_t now = NowMs();
      Status st = target->Transact(TxMode::kAppend, [&](Tx& tx) {
        for (Pending* p : group) p->accepted = store::InsertDecisions(tx, *p->batch, now);
        return Status::OK();
      });
      l.lock();
      for (Pending* p : group) {
        p->status = st;
        p->done = true;
      }
      committing_ = false;
      cv_.notify_all();
    }
    if (!me.status.ok()) return me.status;
    return me.accepted;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending*> queue_;  // guarded by mu_
  bool committing_ = false;     // guarded by mu_
};

Result<size_t> GroupCommit(Database& db, const std::vector<DecisionRecord>& batch) {
  static DecisionCommits* const commits = new DecisionCommits();  // never destroyed: used until exit
  return commits->Commit(db, batch);
}

}  // namespace

Result<RegistryService::IngestResult> RegistryService::IngestDecisions(const Principal& p,
                                                                       std::vector<DecisionRecord> batch) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReportAgent));
  if (batch.size() > kMaxDecisionBatch)
    return Status::ResourceExhausted("at most " + std::to_string(kMaxDecisionBatch) + " decisions per batch");
  // An agent's batch is one model and digest row after row: checked once
  // each while they repeat.
  const std::string* model_ok = nullptr;
  const std::string* digest_ok = nullptr;
  CpuYield yield;  // share the core with request threads (core/cpu_yield.h)
  for (size_t i = 0; i < batch.size(); ++i) {
    yield.Tick();
    const DecisionRecord& d = batch[i];
    MR_RETURN_IF_ERROR(ValidateDecision(d, i, model_ok && *model_ok == d.model, digest_ok && *digest_ok == d.digest));
    if (!(model_ok && *model_ok == d.model) && !p.CanSeeModel(d.model))
      return Status::PermissionDenied("token '" + p.name + "' may not record decisions of model '" + d.model + "'");
    model_ok = &d.model;
    digest_ok = &d.digest;
  }
  IngestResult r;
  if (db_->dialect() == SqlDialect::kPostgres) {
    // Concurrent appends commit side by side there (TxMode::kAppend).
    MR_RETURN_IF_ERROR(db_->Transact(TxMode::kAppend, [&](Tx& tx) {
      r.accepted = store::InsertDecisions(tx, batch, NowMs());
      return Status::OK();
    }));
  } else {
    MR_ASSIGN_OR_RETURN(r.accepted, GroupCommit(*db_, batch));
  }
  r.duplicates = batch.size() - r.accepted;
  return r;
}

Result<DecisionRecord> RegistryService::GetDecision(const Principal& p, const std::string& request_id) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadAudit));
  std::optional<DecisionRecord> d;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    d = store::FindDecision(tx, request_id);
    return Status::OK();
  }));
  if (!d || !p.CanSeeModel(d->model)) return Status::NotFound("no decision with request id '" + request_id + "'");
  return *d;
}

}  // namespace modelreg
