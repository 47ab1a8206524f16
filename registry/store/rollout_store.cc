#include "store/rollout_store.h"

#include <nlohmann/json.hpp>

namespace modelreg::store {
namespace {

constexpr char kSelect[] =
    "SELECT r.id, m.name, r.mode, r.steps, r.step, r.step_started_ms, r.step_every_ms, r.auto_advance, r.key_header,"
    " r.salt, r.state, r.revision, r.override_reason, r.started_at_ms, r.started_by, r.ended_at_ms, r.ended_by,"
    " r.reason, r.verdict, b.number, b.digest, c.number, c.digest, r.horizon_requests, r.judged_requests, r.last_look"
    " FROM rollouts r JOIN models m ON m.id = r.model_id JOIN versions b ON b.id = r.baseline_id"
    " JOIN versions c ON c.id = r.candidate_id";

RolloutRecord RolloutOf(Statement& q) {
  RolloutRecord r;
  r.id = q.getColumn(0).getInt64();
  r.model = q.getColumn(1).getString();
  auto mode = ParseRolloutMode(q.getColumn(2).getString());
  r.mode = mode.ok() ? *mode : RolloutMode::kCanary;
  auto steps = ParseStepsBp(q.getColumn(3).getString());
  if (steps.ok()) r.steps = *steps;
  r.step = static_cast<int>(q.getColumn(4).getInt64());
  if (r.steps.empty()) r.steps = {0};
  if (r.step < 0 || static_cast<size_t>(r.step) >= r.steps.size()) r.step = 0;
  r.step_started_ms = q.getColumn(5).getInt64();
  r.step_every_ms = q.getColumn(6).getInt64();
  r.auto_advance = q.getColumn(7).getInt64() != 0;
  r.key_header = q.getColumn(8).getString();
  r.salt = q.getColumn(9).getString();
  r.state = q.getColumn(10).getString();
  r.revision = q.getColumn(11).getInt64();
  r.override_reason = q.getColumn(12).getString();
  r.started_at_ms = q.getColumn(13).getInt64();
  r.started_by = q.getColumn(14).getString();
  if (!q.getColumn(15).isNull()) r.ended_at_ms = q.getColumn(15).getInt64();
  r.ended_by = q.getColumn(16).getString();
  r.reason = q.getColumn(17).getString();
  r.verdict = q.getColumn(18).getString();
  r.baseline = {q.getColumn(19).getInt64(), q.getColumn(20).getString()};
  r.candidate = {q.getColumn(21).getInt64(), q.getColumn(22).getString()};
  r.horizon_requests = q.getColumn(23).getInt64();
  r.judged_requests = q.getColumn(24).getInt64();
  r.last_look = q.getColumn(25).getString();
  return r;
}

std::optional<RolloutRecord> One(Tx& tx, const std::string& where, const std::string& arg) {
  Statement q(tx, std::string(kSelect) + where);
  q.bind(1, arg);
  if (!q.executeStep()) return std::nullopt;
  return RolloutOf(q);
}

std::string BucketsText(const std::vector<int64_t>& b) { return nlohmann::json(b).dump(); }

std::vector<int64_t> BucketsOf(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::vector<int64_t> out;
  if (!j.is_array() || j.size() != static_cast<size_t>(kLatencyBucketCount)) return out;
  for (const auto& v : j) out.push_back(v.is_number_integer() ? v.get<int64_t>() : 0);
  return out;
}

}  // namespace

void InsertRollout(Tx& tx, int64_t model_id, int64_t baseline_id, int64_t candidate_id, RolloutRecord* r) {
  Statement q(tx,
              "INSERT INTO rollouts (model_id, mode, baseline_id, candidate_id, steps, step, step_started_ms,"
              " step_every_ms, auto_advance, key_header, salt, state, revision, override_reason, started_at_ms,"
              " started_by, ended_at_ms, ended_by, reason, verdict, horizon_requests, judged_requests, last_look)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', '', '', ?, 0, '') RETURNING id");
  q.bind(1, model_id);
  q.bind(2, RolloutModeName(r->mode));
  q.bind(3, baseline_id);
  q.bind(4, candidate_id);
  q.bind(5, FormatStepsBp(r->steps));
  q.bind(6, r->step);
  q.bind(7, r->step_started_ms);
  q.bind(8, r->step_every_ms);
  q.bind(9, r->auto_advance);
  q.bind(10, r->key_header);
  q.bind(11, r->salt);
  q.bind(12, r->state);
  q.bind(13, r->revision);
  q.bind(14, r->override_reason);
  q.bind(15, r->started_at_ms);
  q.bind(16, r->started_by);
  q.bind(17, r->horizon_requests);
  q.executeStep();
  r->id = q.getColumn(0).getInt64();
}

std::optional<RolloutRecord> ActiveRollout(Tx& tx, const std::string& model) {
  return One(tx, " WHERE m.name = ? AND r.state = 'active'", model);
}

std::optional<RolloutRecord> LatestRollout(Tx& tx, const std::string& model) {
  return One(tx, " WHERE m.name = ? ORDER BY r.id DESC LIMIT 1", model);
}

std::optional<RolloutRecord> FindRollout(Tx& tx, int64_t id) {
  Statement q(tx, std::string(kSelect) + " WHERE r.id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  return RolloutOf(q);
}

void UpdateRollout(Tx& tx, const RolloutRecord& r) {
  Statement q(tx,
              "UPDATE rollouts SET step = ?, step_started_ms = ?, state = ?, revision = ?, ended_at_ms = ?,"
              " ended_by = ?, reason = ?, verdict = ?, judged_requests = ?, last_look = ? WHERE id = ?");
  q.bind(1, r.step);
  q.bind(2, r.step_started_ms);
  q.bind(3, r.state);
  q.bind(4, r.revision);
  if (r.ended_at_ms) q.bind(5, *r.ended_at_ms);
  else q.bind(5);
  q.bind(6, r.ended_by);
  q.bind(7, r.reason);
  q.bind(8, r.verdict);
  q.bind(9, r.judged_requests);
  q.bind(10, r.last_look);
  q.bind(11, r.id);
  q.exec();
}

int64_t RolloutRevisions(Tx& tx, const std::string& model) {
  Statement q(tx,
              "SELECT COALESCE(SUM(r.revision), 0) FROM rollouts r JOIN models m ON m.id = r.model_id"
              " WHERE m.name = ?");
  q.bind(1, model);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

void UpsertRolloutCounts(Tx& tx, const RolloutCounts& c) {
  Statement q(tx,
              "INSERT INTO rollout_stats (rollout_id, step, agent_id, run, updated_at_ms, baseline_requests,"
              " baseline_errors, baseline_latency, candidate_requests, candidate_errors, candidate_latency,"
              " shadow_compared, shadow_equal, shadow_differ, shadow_dropped, shadow_max_abs_diff)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
              " ON CONFLICT (rollout_id, step, agent_id, run) DO UPDATE SET updated_at_ms = excluded.updated_at_ms,"
              " baseline_requests = excluded.baseline_requests, baseline_errors = excluded.baseline_errors,"
              " baseline_latency = excluded.baseline_latency, candidate_requests = excluded.candidate_requests,"
              " candidate_errors = excluded.candidate_errors, candidate_latency = excluded.candidate_latency,"
              " shadow_compared = excluded.shadow_compared, shadow_equal = excluded.shadow_equal,"
              " shadow_differ = excluded.shadow_differ, shadow_dropped = excluded.shadow_dropped,"
              " shadow_max_abs_diff = excluded.shadow_max_abs_diff");
  q.bind(1, c.rollout_id);
  q.bind(2, c.step);
  q.bind(3, c.agent_id);
  q.bind(4, c.run);
  q.bind(5, c.updated_at_ms);
  q.bind(6, c.baseline.requests);
  q.bind(7, c.baseline.errors);
  q.bind(8, BucketsText(c.baseline.latency_buckets));
  q.bind(9, c.candidate.requests);
  q.bind(10, c.candidate.errors);
  q.bind(11, BucketsText(c.candidate.latency_buckets));
  q.bind(12, c.shadow.compared);
  q.bind(13, c.shadow.equal);
  q.bind(14, c.shadow.differ);
  q.bind(15, c.shadow.dropped);
  q.bind(16, c.shadow.max_abs_diff);
  q.exec();
}

std::vector<RolloutCounts> RolloutCountsOf(Tx& tx, int64_t rollout_id, int step) {
  Statement q(tx,
              "SELECT agent_id, run, updated_at_ms, baseline_requests, baseline_errors, baseline_latency,"
              " candidate_requests, candidate_errors, candidate_latency, shadow_compared, shadow_equal,"
              " shadow_differ, shadow_dropped, shadow_max_abs_diff FROM rollout_stats"
              " WHERE rollout_id = ? AND step = ? ORDER BY agent_id, run");
  q.bind(1, rollout_id);
  q.bind(2, step);
  std::vector<RolloutCounts> out;
  while (q.executeStep()) {
    RolloutCounts c;
    c.rollout_id = rollout_id;
    c.step = step;
    c.agent_id = q.getColumn(0).getString();
    c.run = q.getColumn(1).getString();
    c.updated_at_ms = q.getColumn(2).getInt64();
    c.baseline = {q.getColumn(3).getInt64(), q.getColumn(4).getInt64(), BucketsOf(q.getColumn(5).getString())};
    c.candidate = {q.getColumn(6).getInt64(), q.getColumn(7).getInt64(), BucketsOf(q.getColumn(8).getString())};
    c.shadow = {q.getColumn(9).getInt64(), q.getColumn(10).getInt64(), q.getColumn(11).getInt64(),
                q.getColumn(12).getInt64(), q.getColumn(13).getDouble()};
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace modelreg::store
