#include "net/chunked_decoder.h"

#include <algorithm>

namespace modelreg::net {

Status ChunkedDecoder::Fail(const std::string& why) {
  state_ = State::kFailed;
  return Status::InvalidArgument("malformed chunked body: " + why);
}

Result<bool> ChunkedDecoder::TakeLine(std::string_view in, size_t* pos) {
  constexpr size_t kMaxLine = 4096;
  while (*pos < in.size()) {
    const char c = in[(*pos)++];
    if (c == '\n') {
      if (line_.empty() || line_.back() != '\r') return Fail("a line ends in a bare LF");
      line_.pop_back();
      return true;
    }
    if (!line_.empty() && line_.back() == '\r') return Fail("a bare CR inside a line");
    if (line_.size() >= kMaxLine) return Fail("a line longer than 4 KiB");
    line_.push_back(c);
  }
  return false;
}

Status ChunkedDecoder::Feed(std::string_view in, size_t* used, const std::function<bool(const char*, size_t)>& data) {
  size_t pos = 0;
  *used = 0;
  if (state_ == State::kFailed) return Status::InvalidArgument("malformed chunked body");
  while (pos < in.size() && state_ != State::kDone) {
    switch (state_) {
      case State::kSize: {
        MR_ASSIGN_OR_RETURN(bool whole, TakeLine(in, &pos));
        if (!whole) break;
        std::string_view digits(line_);
        digits = digits.substr(0, digits.find(';'));
        while (!digits.empty() && (digits.back() == ' ' || digits.back() == '\t')) digits.remove_suffix(1);
        if (digits.empty() || digits.size() > 16) return Fail("bad chunk size '" + line_.substr(0, 40) + "'");
        uint64_t size = 0;
        for (char c : digits) {
          int v = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
          if (v < 0) return Fail("bad chunk size '" + line_.substr(0, 40) + "'");
          size = size * 16 + static_cast<uint64_t>(v);
        }
        line_.clear();
        if (size == 0) {
          state_ = State::kTrailer;
        } else {
          left_ = size;
          state_ = State::kData;
        }
        break;
      }
      case State::kData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(left_, in.size() - pos));
        const bool go_on = data(in.data() + pos, n);
        pos += n;
        left_ -= n;
        decoded_ += n;
        if (left_ == 0) state_ = State::kDataEnd;
        if (!go_on) {
          *used = pos;
          return Status::OK();
        }
        break;
      }
      case State::kDataEnd: {
        MR_ASSIGN_OR_RETURN(bool whole, TakeLine(in, &pos));
        if (!whole) break;
        if (!line_.empty()) return Fail("chunk data not followed by CRLF");
        state_ = State::kSize;
        break;
      }
      case State::kTrailer: {
        const size_t before = pos;
        MR_ASSIGN_OR_RETURN(bool whole, TakeLine(in, &pos));
        trailer_bytes_ += pos - before;
        if (trailer_bytes_ > (64 << 10)) return Fail("trailers larger than 64 KiB");
        if (!whole) break;
        if (line_.empty()) state_ = State::kDone;
        else if (line_.front() == ' ' || line_.front() == '\t' || line_.find(':') == std::string::npos)
          return Fail("bad trailer line");
        line_.clear();
        break;
      }
      case State::kDone:
      case State::kFailed:
        break;
    }
  }
  *used = pos;
  return Status::OK();
}

}  // namespace modelreg::net
