// decisions_bench URL AGENT_TOKEN AUDITOR_TOKEN DIGEST TOTAL LOOKUPS [--lookups-only]
// Sends TOTAL decisions in batches of 1000 from 2 threads (ingest rate),
// then looks up LOOKUPS random request ids (p50/p99), and GET /healthz the
// same number of times as the baseline round trip.
// BENCH_IDS picks the request ids, derived from each decision's number so a
// later --lookups-only run finds them:
//   agent (default): UUIDv7 ids as an agent makes them (core/request_id.h),
//     one millisecond apart: time-ordered;
//   random: 16 random hex characters, as a client sending its own random
//     X-Request-Id (or an agent before UUIDv7 ids) has them;
//   sequential: r0, r1, ... (this benchmark's ids until 2026-12-07).
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

#include "core/request_id.h"

using Clock = std::chrono::steady_clock;

static uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static std::string IdFor(long n, const std::string& mode) {
  if (mode == "sequential") return "r" + std::to_string(n);
  const uint64_t a = SplitMix(static_cast<uint64_t>(n)), b = SplitMix(a);
  if (mode == "random") {
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(a));
    return buf;
  }
  unsigned char r[10];
  for (int i = 0; i < 8; ++i) r[i] = static_cast<unsigned char>(a >> (8 * i));
  for (int i = 0; i < 2; ++i) r[8 + i] = static_cast<unsigned char>(b >> (8 * i));
  return modelreg::RequestIdV7(1790000000000ull + static_cast<uint64_t>(n), r);
}

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
  const std::string ids = getenv("BENCH_IDS") ? getenv("BENCH_IDS") : "agent";
  if (ids != "agent" && ids != "random" && ids != "sequential") {
    fprintf(stderr, "BENCH_IDS must be agent, random or sequential\n");
    return 2;
  }
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
        body += "{\"request_id\":\"" + IdFor(id, ids) + "\",\"model\":\"churn\",\"version\":1,\"digest\":\"" + digest +
                "\",\"agent_id\":\"bench-agent\",\"at_ms\":" + std::to_string(1790000000000L + id) +
                ",\"input_sha256\":\"" + hex + "\"}";
      }
      body += "]}";
      auto r = c.Post("/api/v1/decisions", h, body, "application/json");
      if (!r || r->status != 200) ++errors;
    }
  };
  if (!lookups_only) {  // else: the TOTAL decisions were sent by an earlier run
    std::vector<std::thread> ts;
    for (int i = 0; i < 2; ++i) ts.emplace_back(sender);
    for (auto& t : ts) t.join();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    printf("ingest: %ld decisions in %.2f s = %.0f decisions/s (batches of %ld, 2 connections, %s ids)\n",
           batches * batch, secs, batches * batch / secs, batch, ids.c_str());
  }

  httplib::Client c(url);
  c.set_tcp_nodelay(true);
  httplib::Headers h = {{"Authorization", "Bearer " + auditor}};
  std::mt19937_64 rng(7);
  std::vector<double> lk, base;
  for (long i = 0; i < lookups; ++i) {
    long id = static_cast<long>(rng() % static_cast<unsigned long>(batches * batch));
    auto a = Clock::now();
    auto r = c.Get("/api/v1/decisions/" + IdFor(id, ids), h);
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
