// The text of a transfer's progress line (cli/progress.h draws it): bytes
// done, of how many when known, the percentage, the rate and the time left
// at that rate. Pure, for `register` and `pull` alike.
#pragma once

#include <cstdint>
#include <string>

namespace modelreg {

// "0 B", "512 B", "1.5 KiB", "3.0 MiB", ... (powers of 1024).
std::string ByteText(uint64_t n);

// "sent 1.0 MiB of 3.0 MiB (33%), 1 MB/s, ETA 2s": `total` 0 is unknown (no
// "of", no ETA); `seconds` 0 gives no rate; no ETA once done reaches total.
std::string ProgressText(const std::string& verb, uint64_t done, uint64_t total, double seconds);

}  // namespace modelreg
