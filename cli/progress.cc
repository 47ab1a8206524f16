#include "progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "client/progress_text.h"
#include "common.h"

namespace modelreg::cli {

ProgressLine::ProgressLine(const TransferProgress* progress, std::string verb, bool json_output)
    : progress_(progress), verb_(std::move(verb)), start_(std::chrono::steady_clock::now()), moving_since_(start_) {
  const char* env = std::getenv("MODELREG_PROGRESS");
  const std::string mode = env ? env : "";
  tty_ = ::isatty(STDERR_FILENO) != 0;
  const bool on = mode == "1" || (mode != "0" && !json_output && tty_);
  if (!on || !progress_) return;
  const auto period = std::chrono::milliseconds(tty_ ? 250 : 1000);
  thread_ = std::thread([this, period] {
    std::unique_lock<std::mutex> l(mu_);
    while (!cv_.wait_for(l, period, [this] { return stop_; })) Draw();
  });
}

ProgressLine::~ProgressLine() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  if (!tty_) {
    Draw();
  } else if (drawn_ > 0) {
    std::fprintf(stderr, "\r%*s\r", static_cast<int>(drawn_), "");
    std::fflush(stderr);
  }
}

void ProgressLine::Draw() {
  const uint64_t bytes = progress_->bytes.load(std::memory_order_relaxed);
  const uint64_t total = progress_->total.load(std::memory_order_relaxed);
  const uint64_t hashed = progress_->hashed.load(std::memory_order_relaxed);
  const uint64_t hash_total = progress_->hash_total.load(std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now();
  // The phase in progress: hashing until bytes move (`bytes` only grows),
  // then moving; its rate is measured from the last look that saw none move.
  const bool moving = bytes > 0;
  if (!moving) moving_since_ = now;
  if (bytes == 0 && hashed == 0) return;  // nothing read or moved yet, or nothing to move
  const double seconds = std::chrono::duration<double>(now - (moving ? moving_since_ : start_)).count();
  // While moving, what was hashed first stays in front: "hashed 3.0 MiB, sent ...".
  std::string line = "  " + (moving ? (hashed > 0 ? "hashed " + ByteText(hashed) + ", " : std::string()) +
                                          ProgressText(verb_, bytes, total, seconds)
                                    : ProgressText("hashed", hashed, hash_total, seconds));
  if (!tty_) {
    std::fprintf(stderr, "%s\n", line.c_str());
  } else {
    const size_t width = line.size();
    if (width < drawn_) line.append(drawn_ - width, ' ');  // cover a longer previous line
    std::fprintf(stderr, "\r%s", line.c_str());
    if (width > drawn_) drawn_ = width;
  }
  std::fflush(stderr);
}

}  // namespace modelreg::cli
