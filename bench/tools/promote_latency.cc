// promote_latency URL ADMIN_TOKEN APPROVER_TOKEN MODELS ROUNDS: 4 (MODELS)
// concurrent approvers, each on its own model with versions 1 and 2 staged
// and approved, alternate "promote v2 to production" and "rollback"; the same
// threads then time GET /readyz (one SELECT 1 through the same server).
// Prints p50/p99 of each and their ratio.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: promote_latency URL ADMIN_TOKEN APPROVER_TOKEN MODELS ROUNDS\n");
    return 2;
  }
  std::string url = argv[1], approver = argv[3];
  int models = std::atoi(argv[4]), rounds = std::atoi(argv[5]);
  std::mutex mu;
  std::vector<double> promote, rollback, select1;
  int errors = 0;
  auto run = [&](int m) {
    httplib::Client c(url);
    c.set_tcp_nodelay(true);
    httplib::Headers h = {{"Authorization", std::string("Bearer ") + approver}};
    std::string model = "bench-" + std::to_string(m);
    std::vector<double> p, r, s;
    int err = 0;
    for (int i = 0; i < rounds; ++i) {
      auto t0 = Clock::now();
      auto a = c.Post("/api/v1/models/" + model + "/versions/2/stage", h, R"({"to":"production"})", "application/json");
      auto t1 = Clock::now();
      auto b = c.Post("/api/v1/models/" + model + "/rollback", h, R"({"reason":"bench"})", "application/json");
      auto t2 = Clock::now();
      auto st = c.Post("/api/v1/models/" + model + "/versions/2/stage", h, R"({"to":"staging"})", "application/json");
      if (!a || a->status != 200 || !b || b->status != 200 || !st || st->status != 200) ++err;
      p.push_back(Ms(t1 - t0));
      r.push_back(Ms(t2 - t1));
    }
    for (int i = 0; i < 2 * rounds; ++i) {
      auto t0 = Clock::now();
      auto a = c.Get("/readyz", h);
      s.push_back(Ms(Clock::now() - t0));
      if (!a || a->status != 200) ++err;
    }
    std::lock_guard<std::mutex> l(mu);
    promote.insert(promote.end(), p.begin(), p.end());
    rollback.insert(rollback.end(), r.begin(), r.end());
    select1.insert(select1.end(), s.begin(), s.end());
    errors += err;
  };
  std::vector<std::thread> ts;
  for (int m = 0; m < models; ++m) ts.emplace_back(run, m);
  for (auto& t : ts) t.join();
  double s50 = Pct(select1, 0.5), s99 = Pct(select1, 0.99);
  printf("%-34s p50 %7.3f ms  p99 %7.3f ms  (%zu requests)\n", "baseline: GET /readyz (SELECT 1)", s50, s99,
         select1.size());
  printf("%-34s p50 %7.3f ms  p99 %7.3f ms  (%zu)  = %.1fx / %.1fx the baseline\n", "promote to production",
         Pct(promote, 0.5), Pct(promote, 0.99), promote.size(), Pct(promote, 0.5) / s50, Pct(promote, 0.99) / s99);
  printf("%-34s p50 %7.3f ms  p99 %7.3f ms  (%zu)  = %.1fx / %.1fx the baseline\n", "rollback", Pct(rollback, 0.5),
         Pct(rollback, 0.99), rollback.size(), Pct(rollback, 0.5) / s50, Pct(rollback, 0.99) / s99);
  printf("errors: %d\n", errors);
  return errors == 0 ? 0 : 1;
}
