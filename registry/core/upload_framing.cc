#include "core/upload_framing.h"

#include <algorithm>
#include <cstring>
#include <optional>

namespace modelreg {
namespace {

constexpr size_t kMaxHeaderBytes = 200;

// 1 to 19 decimal digits (fits in uint64_t), nothing else.
std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

Result<std::pair<uint64_t, uint64_t>> ParseContentRange(std::string_view text) {
  const auto bad = [&] {
    return Status::OutOfRange("bad Content-Range '" + std::string(text.substr(0, 100)) + "': want START-END");
  };
  std::string_view v = text;
  if (v.substr(0, 6) == "bytes ") v.remove_prefix(6);
  std::optional<uint64_t> total;
  if (const size_t slash = v.find('/'); slash != std::string_view::npos) {
    const std::string_view t = v.substr(slash + 1);
    if (t != "*" && !(total = ParseDecimal(t))) return bad();
    v = v.substr(0, slash);
  }
  const size_t dash = v.find('-');
  if (dash == std::string_view::npos) return bad();
  const auto start = ParseDecimal(v.substr(0, dash));
  const auto end = ParseDecimal(v.substr(dash + 1));
  if (!start || !end || *end < *start) return bad();
  if (total && *end >= *total)
    return Status::OutOfRange("bad Content-Range '" + std::string(text.substr(0, 100)) + "': it ends at byte " +
                              std::to_string(*end) + " of a " + std::to_string(*total) + "-byte whole");
  return std::make_pair(*start, *end);
}

std::string BatchFrameHeader(const Digest& digest, uint64_t size) {
  return digest.str() + " " + std::to_string(size) + "\n";
}

BatchFrameParser::BatchFrameParser(Events events, size_t max_blobs)
    : events_(std::move(events)), max_blobs_(max_blobs) {}

Status BatchFrameParser::ParseHeader() {
  const size_t sp = header_.find(' ');
  if (sp == std::string::npos) return Status::InvalidArgument("batch frame header must be '<digest> <size>'");
  auto d = Digest::Parse(std::string_view(header_).substr(0, sp));
  if (!d.ok()) return d.status();
  const auto size = ParseDecimal(std::string_view(header_).substr(sp + 1));
  if (!size) return Status::InvalidArgument("bad size in batch frame header");
  if (++count_ > max_blobs_)
    return Status::ResourceExhausted("more than " + std::to_string(max_blobs_) + " blobs in one batch");
  header_.clear();
  MR_RETURN_IF_ERROR(events_.begin(*d, *size));
  remaining_ = *size;
  in_blob_ = true;
  return Status::OK();
}

Status BatchFrameParser::Feed(const char* data, size_t n) {
  if (!failed_.ok()) return failed_;
  while (n > 0 || (in_blob_ && remaining_ == 0)) {
    if (!in_blob_) {
      const char* nl = static_cast<const char*>(memchr(data, '\n', n));
      const size_t take = nl ? static_cast<size_t>(nl - data) : n;
      if (header_.size() + take > kMaxHeaderBytes)
        return failed_ = Status::InvalidArgument("batch frame header too long");
      header_.append(data, take);
      data += take;
      n -= take;
      if (!nl) return Status::OK();
      ++data;
      --n;
      if (Status st = ParseHeader(); !st.ok()) return failed_ = st;
      continue;
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n));
    if (take > 0) {
      if (Status st = events_.write(data, take); !st.ok()) return failed_ = st;
      data += take;
      n -= take;
      remaining_ -= take;
    }
    if (remaining_ == 0) {
      in_blob_ = false;
      if (Status st = events_.end(); !st.ok()) return failed_ = st;
    }
  }
  return Status::OK();
}

Status BatchFrameParser::Finish() const {
  if (!failed_.ok()) return failed_;
  if (in_blob_ || !header_.empty())
    return Status::InvalidArgument("batch body ends inside a frame; nothing from it was stored");
  return Status::OK();
}

}  // namespace modelreg
