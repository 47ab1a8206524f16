#include "store/monitor_store.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "store/sql.h"

namespace modelreg::store {
namespace {

constexpr char kSelectPoint[] =
    "SELECT w.id, w.model_id, w.version_id, v.number, w.agent_id, w.run, w.arm, w.start_ms, w.end_ms,"
    " w.has_reference, w.requests, w.row_count, w.unreadable, w.violations, w.rejected, w.received_at_ms,"
    " d.feature, d.is_output, d.n, d.missing, d.out_of_range, d.type_errors, d.unknown_category, d.counts, d.psi,"
    " d.js, d.threshold, d.missing_rate, d.out_of_range_rate, d.alarm"
    " FROM drift_stats d JOIN monitor_windows w ON w.id = d.window_id JOIN versions v ON v.id = w.version_id";

std::optional<double> OptReal(const SqlColumn& c) {
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

DriftPoint ReadPoint(Statement& q) {
  DriftPoint p;
  auto& w = p.window;
  w.id = q.getColumn(0).getInt64();
  w.model_id = q.getColumn(1).getInt64();
  w.version_id = q.getColumn(2).getInt64();
  w.version = q.getColumn(3).getInt64();
  w.agent_id = q.getColumn(4).getString();
  w.run = q.getColumn(5).getString();
  w.arm = q.getColumn(6).getString();
  w.start_ms = q.getColumn(7).getInt64();
  w.end_ms = q.getColumn(8).getInt64();
  w.reference = q.getColumn(9).getInt64() != 0;
  w.requests = q.getColumn(10).getInt64();
  w.rows = q.getColumn(11).getInt64();
  w.unreadable = q.getColumn(12).getInt64();
  w.violations = q.getColumn(13).getInt64();
  w.rejected = q.getColumn(14).getInt64();
  w.received_at_ms = q.getColumn(15).getInt64();
  auto& s = p.stat;
  s.feature = q.getColumn(16).getString();
  s.is_output = q.getColumn(17).getInt64() != 0;
  s.n = q.getColumn(18).getInt64();
  s.missing = q.getColumn(19).getInt64();
  s.out_of_range = q.getColumn(20).getInt64();
  s.type_errors = q.getColumn(21).getInt64();
  s.unknown_category = q.getColumn(22).getInt64();
  s.counts = q.getColumn(23).getString();
  s.psi = OptReal(q.getColumn(24));
  s.js = OptReal(q.getColumn(25));
  s.threshold = OptReal(q.getColumn(26));
  s.missing_rate = q.getColumn(27).getDouble();
  s.out_of_range_rate = q.getColumn(28).getDouble();
  s.alarm = q.getColumn(29).getInt64() != 0;
  return p;
}

void BindOpt(Statement& q, int i, const std::optional<double>& v) {
  if (v) q.bind(i, *v);
  else q.bind(i);
}

}  // namespace

int64_t InsertMonitorWindow(Tx& tx, const MonitorWindowRow& w) {
  Statement ins(tx,
                "INSERT INTO monitor_windows (model_id, version_id, agent_id, run, arm, start_ms, end_ms,"
                " has_reference, requests, row_count, unreadable, violations, rejected, received_at_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id");
  ins.bind(1, w.model_id);
  ins.bind(2, w.version_id);
  ins.bind(3, w.agent_id);
  ins.bind(4, w.run);
  ins.bind(5, w.arm);
  ins.bind(6, w.start_ms);
  ins.bind(7, w.end_ms);
  ins.bind(8, w.reference);
  ins.bind(9, w.requests);
  ins.bind(10, w.rows);
  ins.bind(11, w.unreadable);
  ins.bind(12, w.violations);
  ins.bind(13, w.rejected);
  ins.bind(14, w.received_at_ms);
  if (!ins.executeStep()) return 0;
  return ins.getColumn(0).getInt64();
}

void InsertDriftStat(Tx& tx, int64_t window_id, const DriftStatRow& s) {
  Statement ins(tx,
                "INSERT INTO drift_stats (window_id, feature, is_output, n, missing, out_of_range, type_errors,"
                " unknown_category, counts, psi, js, missing_rate, out_of_range_rate, threshold, alarm)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  ins.bind(1, window_id);
  ins.bind(2, s.feature);
  ins.bind(3, s.is_output);
  ins.bind(4, s.n);
  ins.bind(5, s.missing);
  ins.bind(6, s.out_of_range);
  ins.bind(7, s.type_errors);
  ins.bind(8, s.unknown_category);
  ins.bind(9, s.counts);
  BindOpt(ins, 10, s.psi);
  BindOpt(ins, 11, s.js);
  ins.bind(12, s.missing_rate);
  ins.bind(13, s.out_of_range_rate);
  BindOpt(ins, 14, s.threshold);
  ins.bind(15, s.alarm);
  ins.exec();
}

std::vector<DriftPoint> ListDrift(Tx& tx, const DriftQuery& dq) {
  std::string sql = std::string(kSelectPoint) + " WHERE w.model_id = ? AND w.start_ms >= ?";
  if (dq.version_id) sql += " AND w.version_id = ?";
  if (!dq.agent_id.empty()) sql += " AND w.agent_id = ?";
  // Newest first to apply the limit, then put back in time order.
  sql += " ORDER BY w.start_ms DESC, w.id DESC, d.is_output DESC, d.feature DESC LIMIT ?";
  Statement q(tx, sql);
  int i = 1;
  q.bind(i++, dq.model_id);
  q.bind(i++, dq.since_ms);
  if (dq.version_id) q.bind(i++, *dq.version_id);
  if (!dq.agent_id.empty()) q.bind(i++, dq.agent_id);
  q.bind(i++, static_cast<int64_t>(dq.limit));
  std::vector<DriftPoint> out;
  while (q.executeStep()) out.push_back(ReadPoint(q));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::pair<int64_t, bool>> MonitoredVersions(Tx& tx, int64_t model_id) {
  Statement q(tx,
              "SELECT v.number, w.has_reference FROM monitor_windows w JOIN versions v ON v.id = w.version_id"
              " WHERE w.model_id = ? AND w.id = (SELECT MAX(w2.id) FROM monitor_windows w2"
              " WHERE w2.version_id = w.version_id) ORDER BY v.number");
  q.bind(1, model_id);
  std::vector<std::pair<int64_t, bool>> out;
  while (q.executeStep()) out.emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getInt64() != 0);
  return out;
}

std::vector<LatestDrift> LatestDriftPerFeature(Tx& tx) {
  Statement q(tx,
              "SELECT m.name, v.number, d.feature, d.psi, d.js, d.missing_rate, d.out_of_range_rate, d.threshold"
              " FROM drift_stats d JOIN monitor_windows w ON w.id = d.window_id"
              " JOIN versions v ON v.id = w.version_id JOIN models m ON m.id = w.model_id"
              " WHERE d.psi IS NOT NULL AND w.start_ms = (SELECT MAX(w2.start_ms) FROM monitor_windows w2"
              " WHERE w2.version_id = w.version_id AND w2.has_reference = 1)"
              " ORDER BY m.name, v.number, d.feature, d.n DESC, w.id DESC");
  std::vector<LatestDrift> out;
  while (q.executeStep()) {
    LatestDrift l{q.getColumn(0).getString(), q.getColumn(1).getInt64(),  q.getColumn(2).getString(),
                  q.getColumn(3).getDouble(), q.getColumn(4).getDouble(), q.getColumn(5).getDouble(),
                  q.getColumn(6).getDouble(), q.getColumn(7).getDouble()};
    if (!out.empty() && out.back().model == l.model && out.back().version == l.version &&
        out.back().feature == l.feature)
      continue;  // another agent's copy of the same window, with fewer values
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace modelreg::store
