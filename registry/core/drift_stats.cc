#include "core/drift_stats.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace modelreg {
namespace {

// Pseudo-count added to every bin of both sides before taking logs: an empty
// bin gives a finite PSI, and on a small window it keeps one unlucky empty
// bin from dominating the statistic (a fixed epsilon such as 1e-4 makes the
// null distribution of PSI depend on how many bins happen to be empty, which
// at n = 50 and 20 bins is most windows).
constexpr double kPseudoCount = 0.5;

// Regularized lower incomplete gamma P(a, x) (series below a + 1, Lentz
// continued fraction for Q above), accurate to ~1e-12 for the a, x used here.
double GammaP(double a, double x) {
  if (x <= 0) return 0;
  double gln = std::lgamma(a);
  if (x < a + 1) {
    double ap = a, sum = 1.0 / a, del = sum;
    for (int i = 0; i < 1000; ++i) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (std::fabs(del) < std::fabs(sum) * 1e-15) break;
    }
    return sum * std::exp(-x + a * std::log(x) - gln);
  }
  const double tiny = 1e-300;
  double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (int i = 1; i < 1000; ++i) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < 1e-15) break;
  }
  return 1 - std::exp(-x + a * std::log(x) - gln) * h;
}

// Safety margin on the chi-square threshold. With the pseudo-count above,
// the measured (1 - alpha) quantile of PSI under no drift divided by the
// chi-square one stayed between 0.09 and 1.11 over the grid of
// bench/drift_false_alarms (A/A windows of n = 50..100000 values drawn from
// uniform, geometric, boolean 0.99/0.01 and near-empty-bin references,
// k = 2..50, m = 500..10000, 20 000 windows each, alpha 0.001 and 0.01):
// the approximation is good from a few values per bin upwards and
// conservative below (the smoothing shrinks sparse windows), with the
// largest excess (~10 %) at 5 to 50 expected values in the smallest bin.
// 1.2 covers that excess and the simulation's own noise.
constexpr double kSafety = 1.2;

}  // namespace

double ChiSquareQuantile(double p, double df) {
  if (!(p > 0 && p < 1) || !(df > 0)) return std::nan("");
  // Bisection on the CDF P(df/2, x/2): monotone, no derivative needed, and a
  // few dozen steps give far more precision than the threshold needs.
  double lo = 0, hi = std::max(1.0, df);
  while (GammaP(df / 2, hi / 2) < p) hi *= 2;
  for (int i = 0; i < 100 && hi - lo > 1e-12 * hi; ++i) {
    double mid = (lo + hi) / 2;
    if (GammaP(df / 2, mid / 2) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

double PsiThreshold(const std::vector<double>& reference_fractions, int64_t reference_n, int64_t n,
                    const DriftOptions& options) {
  size_t k = reference_fractions.size();
  double nn = std::max<int64_t>(n, 1), m = std::max<int64_t>(reference_n, 1);
  // Under no drift, n*m/(n+m) * PSI is approximately chi-square with k - 1
  // degrees of freedom (PSI is the symmetric Kullback-Leibler divergence,
  // whose second-order term is the Pearson statistic).
  double q = ChiSquareQuantile(1 - options.alpha, static_cast<double>(k - 1)) * (1 / nn + 1 / m);
  q *= kSafety;
  return std::max(q, options.min_psi);
}

Result<DriftStats> ComputeDrift(const std::vector<double>& reference_fractions, int64_t reference_n,
                                const std::vector<int64_t>& counts, int64_t missing, int64_t out_of_range,
                                const DriftOptions& options) {
  size_t k = reference_fractions.size();
  if (k < 2) return Status::InvalidArgument("drift: the reference has " + std::to_string(k) + " bins, want >= 2");
  if (counts.size() != k)
    return Status::InvalidArgument("drift: the window has " + std::to_string(counts.size()) +
                                   " bin counts, the reference " + std::to_string(k) + " bins");
  if (reference_n < 1) return Status::InvalidArgument("drift: reference size must be >= 1");
  if (missing < 0 || out_of_range < 0) return Status::InvalidArgument("drift: negative missing or out_of_range");
  if (!(options.alpha > 0 && options.alpha < 1)) return Status::InvalidArgument("drift: alpha must be in (0, 1)");
  if (!(options.min_psi >= 0) || !std::isfinite(options.min_psi))
    return Status::InvalidArgument("drift: min_psi must be a finite number >= 0");
  if (options.min_n < 1) return Status::InvalidArgument("drift: min_n must be >= 1");
  double sum = 0;
  for (double r : reference_fractions) {
    if (!std::isfinite(r) || r < 0) return Status::InvalidArgument("drift: reference fractions must be >= 0");
    sum += r;
  }
  if (std::fabs(sum - 1) > 1e-6) return Status::InvalidArgument("drift: reference fractions do not sum to 1");
  int64_t n = 0;
  for (int64_t c : counts) {
    if (c < 0) return Status::InvalidArgument("drift: negative bin count");
    if (c > INT64_MAX - n) return Status::InvalidArgument("drift: bin counts overflow");
    n += c;
  }

  DriftStats s;
  s.n = n;
  s.missing_rate = n + missing > 0 ? static_cast<double>(missing) / static_cast<double>(n + missing) : 0;
  s.out_of_range_rate = n > 0 ? std::min(1.0, static_cast<double>(out_of_range) / static_cast<double>(n)) : 0;
  s.threshold = PsiThreshold(reference_fractions, reference_n, n, options);
  if (n == 0) return s;

  double m = static_cast<double>(reference_n), nn = static_cast<double>(n);
  double pseudo_total = kPseudoCount * static_cast<double>(k);
  double psi = 0, kl_w = 0, kl_r = 0;
  for (size_t i = 0; i < k; ++i) {
    double r = (reference_fractions[i] / sum * m + kPseudoCount) / (m + pseudo_total);
    double w = (static_cast<double>(counts[i]) + kPseudoCount) / (nn + pseudo_total);
    psi += (w - r) * std::log(w / r);
    // Jensen-Shannon on the raw shares (0 log 0 = 0): no smoothing needed.
    double rr = reference_fractions[i] / sum, ww = static_cast<double>(counts[i]) / nn, mid = (rr + ww) / 2;
    if (ww > 0) kl_w += ww * std::log2(ww / mid);
    if (rr > 0) kl_r += rr * std::log2(rr / mid);
  }
  s.psi = std::max(0.0, psi);
  s.js = std::sqrt(std::clamp((kl_w + kl_r) / 2, 0.0, 1.0));
  s.alarm = n >= options.min_n && s.psi > s.threshold;
  return s;
}

}  // namespace modelreg
