// The agents' monitoring windows and the drift statistics computed from them
// (migrations/0016_monitoring.sql; docs/monitoring.md). Call only inside
// Database::Transact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/drift_record.h"
#include "store/database.h"

namespace modelreg::store {

using MonitorWindowRow = MonitorWindowRecord;
using DriftStatRow = DriftStatRecord;
using DriftPoint = DriftPointRecord;
using LatestDrift = LatestDriftRecord;

// Inserts the window unless one with its (agent, run, version, arm,
// start_ms) is stored: returns the new id, or 0 when it was there already
// (a resent window; the first copy is kept).
int64_t InsertMonitorWindow(Tx& tx, const MonitorWindowRow& w);
void InsertDriftStat(Tx& tx, int64_t window_id, const DriftStatRow& s);

struct DriftQuery {
  int64_t model_id = 0;
  std::optional<int64_t> version_id;
  int64_t since_ms = 0;  // windows starting at or after
  std::string agent_id;  // "" = every agent
  size_t limit = 10000;  // newest rows kept when more match
};
// Matching feature-windows, oldest window first, features by name.
std::vector<DriftPoint> ListDrift(Tx& tx, const DriftQuery& q);

// Versions of the model that have reported windows, with whether they had
// a reference (as the newest window says).
std::vector<std::pair<int64_t, bool>> MonitoredVersions(Tx& tx, int64_t model_id);

// Per model, version and feature with a reference: the statistics of the
// version's newest window (of any agent; of several agents' copies of that
// window, the one with the most values).
std::vector<LatestDrift> LatestDriftPerFeature(Tx& tx);

}  // namespace modelreg::store
