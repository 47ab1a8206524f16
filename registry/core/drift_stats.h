// Drift statistics of one feature-window against its reference
// (docs/monitoring.md "Honest alarms"). Pure functions of counts.
//
// Inputs: the reference's bin fractions (core/profile.h ColumnProfile),
// its sample size m (non-missing reference values), and the window's bin
// counts (core/monitor_window.h FeatureWindow).
// Outputs: PSI and Jensen-Shannon distance (base 2, in [0, 1]) between the
// window's bin shares and the reference's, the missing and out-of-range
// rates, and the alarm threshold for PSI at this window's sample size: the
// (1 - alpha) quantile of PSI under "no drift" (window drawn from the
// reference distribution), so the false-alarm rate per feature-window is
// at most alpha (validated by bench/drift_false_alarms). Below min_n values
// in the window there is no alarm (too few to tell).
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace modelreg {

struct DriftOptions {
  double alpha = 0.001;   // false-alarm probability per feature-window
  double min_psi = 0.02;  // effect floor: smaller PSI never alarms however large n is
  int64_t min_n = 50;     // fewer values in the window: no alarm
};

struct DriftStats {
  int64_t n = 0;
  double psi = 0, js = 0;
  double missing_rate = 0, out_of_range_rate = 0;
  double threshold = 0;  // PSI threshold at this n (max(null quantile, min_psi))
  bool alarm = false;
};

// InvalidArgument when sizes differ, counts are negative, fractions are not
// a distribution or options are out of range.
Result<DriftStats> ComputeDrift(const std::vector<double>& reference_fractions, int64_t reference_n,
                                const std::vector<int64_t>& counts, int64_t missing, int64_t out_of_range,
                                const DriftOptions& options = {});

// The PSI alarm threshold ComputeDrift uses for a window of n values
// against this reference (max(null quantile, min_psi)); exposed for the
// false-alarm bench and the tests.
double PsiThreshold(const std::vector<double>& reference_fractions, int64_t reference_n, int64_t n,
                    const DriftOptions& options);

// The p-quantile of the chi-square distribution with df degrees of freedom
// (NaN when p is not in (0, 1) or df <= 0).
double ChiSquareQuantile(double p, double df);

}  // namespace modelreg
