// monitor_bench: what the agent's monitoring costs per request
// (bench/monitor_overhead.sh; issue #27): a reference profile of 30 numeric
// features (20 quantile bins each) and a request of one row of 30 numbers,
// timed through the agent's own code (core/request_features.h,
// core/window_accumulator.h):
//   parse      ParseRequestRows: the body into cells in schema order
//   check+bin  WindowAccumulator::Evaluate: schema check and bin per value
//   add        WindowAccumulator::Add: the tally into the window (the lock)
// beside the baseline of the same run: nlohmann::json::parse of the same
// body (what any proxy that looks into JSON bodies pays).
//   monitor_bench [ITERATIONS]          prints the figures
//   monitor_bench --write-profile FILE  the profile (for a bundle's .modelreg/profile.json)
//   monitor_bench --write-body FILE     the request body
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/profile.h"
#include "core/request_features.h"
#include "core/window_accumulator.h"

using namespace modelreg;

namespace {

constexpr int kFeatures = 30;
constexpr int kBins = 20;

Profile MakeProfile() {
  Profile p;
  p.dataset = "bench";
  p.rows = 100000;
  for (int i = 0; i < kFeatures; ++i) {
    ColumnProfile c;
    c.name = "f" + std::to_string(i);
    c.type = ColumnType::kNumeric;
    c.count = p.rows;
    c.min = -4;
    c.max = 4;
    for (int k = 1; k < kBins; ++k) c.edges.push_back(-3 + 6.0 * k / kBins);
    c.fractions.assign(kBins, 1.0 / kBins);
    p.columns.push_back(c);
  }
  ColumnProfile out;
  out.name = "score";
  out.count = p.rows;
  out.min = 0;
  out.max = 1;
  for (int k = 1; k < 10; ++k) out.edges.push_back(k / 10.0);
  out.fractions.assign(10, 0.1);
  p.output = out;
  p.schema = SchemaFromProfile(p.columns);
  return p;
}

std::string MakeBody() {
  std::mt19937 rng(7);
  std::normal_distribution<double> z;
  nlohmann::json row = nlohmann::json::array();
  for (int i = 0; i < kFeatures; ++i) row.push_back(z(rng));
  return nlohmann::json{{"features", nlohmann::json::array({row})}}.dump();
}

bool WriteFile(const char* path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
  return static_cast<bool>(f);
}

template <typename F>
double NsPer(int n, F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) f();
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / n;
}

// The median of 5 timings of n iterations each.
template <typename F>
double Median(int n, F&& f) {
  std::vector<double> v;
  for (int r = 0; r < 5; ++r) v.push_back(NsPer(n, f));
  std::sort(v.begin(), v.end());
  return v[2];
}

}  // namespace

int main(int argc, char** argv) {
  const Profile profile = MakeProfile();
  const std::string body = MakeBody();
  if (argc == 3 && std::string(argv[1]) == "--write-profile")
    return WriteFile(argv[2], SerializeProfile(profile)) ? 0 : 1;
  if (argc == 3 && std::string(argv[1]) == "--write-body") return WriteFile(argv[2], body) ? 0 : 1;
  const int n = argc > 1 ? std::atoi(argv[1]) : 200000;
  if (n <= 0) {
    std::fprintf(stderr, "usage: monitor_bench [ITERATIONS] | --write-profile FILE | --write-body FILE\n");
    return 2;
  }
  WindowAccumulator acc(1, "sha256:" + std::string(64, 'a'), std::make_shared<const Profile>(profile), 300000);
  RequestTally tally;
  const Rows rows = ParseRequestRows(body, acc.columns());
  if (rows.rows != 1 || rows.width != kFeatures) return 1;
  acc.Evaluate(rows, true, &tally);
  if (tally.first) return 1;  // the row is meant to be clean
  const int64_t now = 1'800'000'000'000;
  size_t sink = 0;
  const double baseline = Median(n, [&] { sink += nlohmann::json::parse(body).size(); });
  const double parse = Median(n, [&] { sink += ParseRequestRows(body, acc.columns()).cells.size(); });
  const double check = Median(n, [&] { acc.Evaluate(rows, true, &tally); });
  const double add = Median(n, [&] { acc.Add("", tally, false, now); });
  const double whole = Median(n, [&] {
    acc.Evaluate(ParseRequestRows(body, acc.columns()), true, &tally);
    acc.Add("", tally, false, now);
  });
  std::printf("monitor_bench: %d numeric features, %d bins each, %zu-byte body, %d iterations x 5 (median)\n",
              kFeatures, kBins, body.size(), n);
  std::printf("  %-46s %8.0f ns/request\n", "baseline: nlohmann::json::parse of the body", baseline);
  std::printf("  %-46s %8.0f ns/request  %6.1f ns/feature\n", "parse into rows (ParseRequestRows)", parse,
              parse / kFeatures);
  std::printf("  %-46s %8.0f ns/request  %6.1f ns/feature\n", "schema check + binning (Evaluate)", check,
              check / kFeatures);
  std::printf("  %-46s %8.0f ns/request  %6.1f ns/feature\n", "add to the window (Add, under its lock)", add,
              add / kFeatures);
  std::printf("  %-46s %8.0f ns/request  %6.1f ns/feature  = %.2fx the baseline parse\n",
              "all of it (parse + check + bin + add)", whole, whole / kFeatures, whole / baseline);
  std::printf("RESULT per_feature_ns=%.1f per_request_ns=%.0f check_bin_per_feature_ns=%.1f baseline_ns=%.0f\n",
              whole / kFeatures, whole, check / kFeatures, baseline);
  return sink == 42 ? 3 : 0;  // keeps the work from being optimized away
}
