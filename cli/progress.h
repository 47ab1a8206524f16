// The progress line of `register` and `pull`: bytes hashed before sending
// (register, of the bundle's size), then bytes moved so far, of how many
// when known, the percentage, the rate and the time left at that rate (ETA).
//
// On a terminal (stderr), unless --json: one line rewritten in place four
// times a second while a transfer runs, erased when it ends.
// MODELREG_PROGRESS=1 also reports where stderr is not a terminal (a log):
// a line a second, and a last one when the transfer ends. =0: never.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "client/registry_client.h"

namespace modelreg::cli {

class ProgressLine {
 public:
  // `verb`: "sent" or "received". Does nothing unless enabled (see above).
  ProgressLine(const TransferProgress* progress, std::string verb, bool json_output);
  ~ProgressLine();  // stops; erases the line (terminal) or writes the last one (log)
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  void Draw();

  const TransferProgress* progress_;
  std::string verb_;
  bool tty_ = false;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  size_t drawn_ = 0;  // terminal: width of the widest line written
  // The last look that saw no bytes sent or received: when they began, about.
  std::chrono::steady_clock::time_point moving_since_;
  std::thread thread_;
};

}  // namespace modelreg::cli
