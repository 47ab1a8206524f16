#include "monitoring.h"

#include <sys/stat.h>

#include <vector>

#include "core/file_util.h"
#include "core/profile.h"

namespace modelreg::agent {

Result<ValidateMode> ParseValidateMode(const std::string& s) {
  if (s == "flag") return ValidateMode::kFlag;
  if (s == "reject") return ValidateMode::kReject;
  if (s == "off") return ValidateMode::kOff;
  return Status::InvalidArgument("--validate is reject, flag or off, not '" + s + "'");
}

Monitoring::Monitoring(int64_t window_ms, std::string run,
                       std::function<void(const std::string&, const std::string&)> log)
    : window_ms_(window_ms), run_(std::move(run)), log_(std::move(log)) {}

std::shared_ptr<WindowAccumulator> Monitoring::For(const CurrentVersion& v) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (auto it = by_digest_.find(v.digest); it != by_digest_.end()) return it->second;
  }
  // The profile is a file of the verified version (docs/agent.md): a bad
  // one is the release's problem, never a reason not to serve it.
  std::shared_ptr<const Profile> profile;
  const std::string path = v.dir + "/" + kProfilePath;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    auto bytes = ReadSmallFile(path);
    Result<Profile> p = bytes.ok() ? ParseProfile(*bytes) : Result<Profile>(bytes.status());
    if (p.ok()) profile = std::make_shared<const Profile>(std::move(p).value());
    else if (log_)
      log_("error", "version " + std::to_string(v.version) + ": " + kProfilePath +
                        " is not a usable profile; monitored without a reference: " + p.status().message());
  }
  auto acc = std::make_shared<WindowAccumulator>(v.version, v.digest, std::move(profile), window_ms_);
  std::lock_guard<std::mutex> l(mu_);
  auto [it, added] = by_digest_.emplace(v.digest, acc);
  return it->second;  // another thread's, if it came first
}

std::optional<Monitoring::Batch> Monitoring::Pending(int64_t now_ms) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<MonitorWindow> ended;
  for (auto it = by_digest_.begin(); it != by_digest_.end();) {
    it->second->Roll(now_ms, &ended);
    // No longer served (only we hold it) and nothing open: forget it.
    if (it->second.use_count() == 1 && !it->second->open()) it = by_digest_.erase(it);
    else ++it;
  }
  for (auto& w : ended) {
    if (waiting_.size() >= kMaxWindowsPerReport) {
      waiting_.pop_front();
      ++dropped_;
    }
    waiting_.emplace_back(next_seq_++, std::move(w));
  }
  if (waiting_.empty()) return std::nullopt;
  // The oldest windows that fit in kMaxBatchBytes (the registry bounds a
  // status body); the rest wait for the next report.
  MonitorReport r;
  r.run = run_;
  r.dropped = dropped_;
  for (size_t count = waiting_.size();; count = (count + 1) / 2) {
    r.windows.clear();
    for (size_t i = 0; i < count; ++i) r.windows.push_back(waiting_[i].second);
    std::string text = SerializeMonitorReport(r);
    if (text.size() <= kMaxBatchBytes || count == 1) return Batch{std::move(text), waiting_[count - 1].first};
  }
}

void Monitoring::Ack(uint64_t upto) {
  std::lock_guard<std::mutex> l(mu_);
  while (!waiting_.empty() && waiting_.front().first <= upto) waiting_.pop_front();
}

void Monitoring::Drop(uint64_t upto) {
  std::lock_guard<std::mutex> l(mu_);
  while (!waiting_.empty() && waiting_.front().first <= upto) {
    waiting_.pop_front();
    ++dropped_;
  }
}

size_t Monitoring::waiting() {
  std::lock_guard<std::mutex> l(mu_);
  return waiting_.size();
}

int64_t Monitoring::dropped() {
  std::lock_guard<std::mutex> l(mu_);
  return dropped_;
}

}  // namespace modelreg::agent
