// The monitoring of one served model version (docs/agent.md "Monitoring"):
// what its requests (and answers) held during the current wall-clock
// window, per arm, binned with the version's reference profile
// (core/profile.h) and checked against its input schema
// (core/schema_check.h); rolled into a MonitorWindow
// (core/monitor_window.h) once the window has ended.
//
// Windows are aligned: start = floor(now / window) * window. A window in
// which nothing was seen is not produced. The work per request happens
// outside the lock (Evaluate: check and bin each value into a tally); the
// lock is held only to add the tally's counts (Add). Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/monitor_window.h"
#include "core/profile.h"
#include "core/request_features.h"
#include "core/schema_check.h"

namespace modelreg {

// One request, evaluated: its counts, ready to add, and its first
// violation. Reusable (Evaluate clears it).
struct RequestTally {
  bool body = false;      // the request had a body the monitor looked at
  bool readable = false;  // ... in a format it reads
  int64_t rows = 0, violations = 0;
  std::vector<int64_t> bins;      // every feature's bins, back to back
  std::vector<int64_t> counters;  // per feature: n, missing, out_of_range, type_errors, unknown_category
  std::optional<Violation> first;
};

class WindowAccumulator {
 public:
  // `profile` null: the version has no reference profile (requests are
  // counted, "reference": false). window_ms >= 1. Not copyable or movable
  // (the features point into the schema it holds).
  WindowAccumulator(int64_t version, std::string digest, std::shared_ptr<const Profile> profile, int64_t window_ms);
  WindowAccumulator(const WindowAccumulator&) = delete;
  WindowAccumulator& operator=(const WindowAccumulator&) = delete;

  int64_t version() const { return version_; }
  const std::string& digest() const { return digest_; }
  bool reference() const { return reference_; }
  bool has_output() const { return output_.has_value(); }
  // The schema's column names, in order (what ParseRequestRows wants).
  const std::vector<std::string>& columns() const { return names_; }

  // Checks and bins `rows` into *t (no lock). `check`: count violations
  // and find the first (--validate flag|reject); without it they are not looked for.
  void Evaluate(const Rows& rows, bool check, RequestTally* t) const;
  // A request whose body was not looked at (too large): counted unreadable.
  static void Unreadable(RequestTally* t);
  // Adds a request's tally to the window of `arm` ("", "baseline",
  // "candidate") that holds now_ms; `rejected`: it was refused.
  void Add(std::string_view arm, const RequestTally& t, bool rejected, int64_t now_ms);
  // Adds the outputs read from an answer (no-op without an output profile).
  void AddOutputs(std::string_view arm, const Rows& outputs, int64_t now_ms);

  // Appends the windows that ended at or before now_ms and forgets them.
  void Roll(int64_t now_ms, std::vector<MonitorWindow>* out);
  // Whether a window is open (something seen and not yet rolled).
  bool open() const;

 private:
  struct Feature {
    std::string name;
    CheckedColumn check;
    const ColumnProfile* ref = nullptr;  // null: not profiled (no bins)
    size_t bin_at = 0;                   // offset into the bins
  };
  struct Window {
    int64_t start_ms = -1;  // -1: nothing seen
    int64_t requests = 0, rows = 0, unreadable = 0, violations = 0, rejected = 0;
    std::vector<int64_t> bins, counters;
    std::vector<int64_t> out_bins;
    std::array<int64_t, 5> out_counters{};
    bool outputs_seen = false;
  };
  static constexpr int kCounters = 5;
  void EvaluateCell(const Feature& f, size_t index, const Rows& rows, const Cell& cell, bool check, RequestTally* t,
                    bool* violated, int64_t row) const;
  // The window of `arm` holding now_ms (under mu_); one that ended goes to ended_.
  Window& At(std::string_view arm, int64_t now_ms);
  MonitorWindow Finish(size_t arm, Window& w) const;

  const int64_t version_;
  const std::string digest_;
  const std::shared_ptr<const Profile> profile_;
  const int64_t window_ms_;
  bool reference_ = false;
  InputSchema schema_;  // the profile's (or derived from its columns)
  std::vector<std::string> names_;
  std::vector<Feature> features_;
  size_t total_bins_ = 0;
  SchemaColumn output_column_;  // what output_.check points to
  std::optional<Feature> output_;

  mutable std::mutex mu_;
  std::array<Window, 3> windows_;     // by arm: "", "baseline", "candidate"; guarded by mu_
  std::vector<MonitorWindow> ended_;  // windows replaced by a later one before Roll; guarded by mu_
};

}  // namespace modelreg
