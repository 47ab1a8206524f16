// decisions_bench URL AGENT_TOKEN AUDITOR_TOKEN DIGEST TOTAL LOOKUPS
// Sends TOTAL decisions in batches of 1000 from 2 threads (ingest rate),
// then looks up LOOKUPS random request ids (p50/p99), and GET /healthz the
// same number of times as the baseline round trip.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;

static double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

int main(int argc, char** argv) {
  const bool lookups_only = argc == 8 && std::string(argv[7]) == "--lookups-only";
  if (argc != 7 && !lookups_only) {
    fprintf(stderr, "usage: decisions_bench URL AGENT_TOKEN AUDITOR_TOKEN DIGEST TOTAL LOOKUPS [--lookups-only]\n");
    return 2;
  }
  std::string url = argv[1], agent = argv[2], auditor = argv[3], digest = argv[4];
  long total = std::atol(argv[5]), lookups = std::atol(argv[6]);
  const long batch = 1000, batches = total / batch;
  std::atomic<long> next{0}, errors{0};
  auto t0 = Clock::now();
  auto sender = [&] {
    httplib::Client c(url);
    c.set_tcp_nodelay(true);
    c.set_read_timeout(60, 0);
    httplib::Headers h = {{"Authorization", "Bearer " + agent}};
    std::string hex = digest.substr(7);
    for (long b; (b = next++) < batches;) {
      std::string body = "{\"decisions\":[";
      body.reserve(batch * 260);
      for (long i = 0; i < batch; ++i) {
        long id = b * batch + i;
        if (i) body += ',';
        body += "{\"request_id\":\"r" + std::to_string(id) + "\",\"model\":\"churn\",\"version\":1,\"digest\":\"" +
                digest + "\",\"agent_id\":\"bench-agent\",\"at_ms\":" + std::to_string(1790000000000L + id) +
                ",\"input_sha256\":\"" + hex + "\"}";
      }
      body += "]}";
      auto r = c.Post("/api/v1/decisions", h, body, "application/json");
      if (!r || r->status != 200) ++errors;
    }
  };
  if (!lookups_only) {  // else: the TOTAL decisions r0... were sent by an earlier run
    std::vector<std::thread> ts;
    for (int i = 0; i < 2; ++i) ts.emplace_back(sender);
    for (auto& t : ts) t.join();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    printf("ingest: %ld decisions in %.2f s = %.0f decisions/s (batches of %ld, 2 connections)\n", batches * batch,
           secs, batches * batch / secs, batch);
  }

  httplib::Client c(url);
  c.set_tcp_nodelay(true);
  httplib::Headers h = {{"Authorization", "Bearer " + auditor}};
  std::mt19937_64 rng(7);
  std::vector<double> lk, base;
  for (long i = 0; i < lookups; ++i) {
    long id = static_cast<long>(rng() % static_cast<unsigned long>(batches * batch));
    auto a = Clock::now();
    auto r = c.Get("/api/v1/decisions/r" + std::to_string(id), h);
    lk.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    if (!r || r->status != 200) ++errors;
    a = Clock::now();
    auto b = c.Get("/healthz");
    base.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    if (!b || b->status != 200) ++errors;
  }
  printf("baseline GET /healthz round trip:  p50 %.3f ms  p99 %.3f ms\n", Pct(base, 0.5), Pct(base, 0.99));
  printf("decision lookup by request id:     p50 %.3f ms  p99 %.3f ms  (%ld lookups) = %.1fx the baseline p99\n",
         Pct(lk, 0.5), Pct(lk, 0.99), lookups, Pct(lk, 0.99) / Pct(base, 0.99));
  printf("errors: %ld\n", errors.load());
  return errors ? 1 : 0;
}
