// The reference profile builder (registry/core/profile_builder.h) on a
// generated table, no server; run by bench/profile.sh.
//   profile_build generate PATH ROWS COLS   writes a CSV of ROWS x COLS numbers (seeded)
//   profile_build run PATH THREADS          profiles it, prints rows, columns, seconds
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "core/profile_builder.h"

using namespace modelreg;

int Generate(const char* path, long rows, int cols) {
  FILE* f = std::fopen(path, "w");
  if (!f) return 1;
  std::string line;
  for (int c = 0; c < cols; ++c) line += (c ? ",f" : "f") + std::to_string(c);
  line += "\n";
  std::fputs(line.c_str(), f);
  std::mt19937_64 rng(27);
  std::normal_distribution<double> normal(0, 1);
  char buf[32];
  for (long r = 0; r < rows; ++r) {
    line.clear();
    for (int c = 0; c < cols; ++c) {
      if (c) line += ',';
      // Features of assorted scales, as a training table has (ages, amounts, rates).
      const double x = normal(rng) * (1 + c % 7) * 10 + c;
      auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed, 4);
      line.append(buf, res.ptr);
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), f);
  }
  return std::fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "generate" && argc == 5) return Generate(argv[2], std::atol(argv[3]), std::atoi(argv[4]));
  if (cmd != "run" || argc != 4) {
    std::fprintf(stderr, "usage: profile_build generate PATH ROWS COLS | run PATH THREADS\n");
    return 2;
  }
  ProfileOptions o;
  o.dataset = "bench";
  o.threads = std::atoi(argv[3]);
  const auto start = std::chrono::steady_clock::now();
  auto p = BuildProfileFromFile(argv[2], o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!p.ok()) {
    std::fprintf(stderr, "profile_build: %s\n", p.status().message().c_str());
    return 1;
  }
  std::printf("%lld %zu %.3f\n", static_cast<long long>(p->rows), p->columns.size(), s);
  return 0;
}
