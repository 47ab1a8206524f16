#include "core/decision_batch.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/cpu_yield.h"

namespace modelreg {
namespace {

using json = nlohmann::json;

enum class Field {
  kUnknown,
  kRequestId,
  kModel,
  kVersion,
  kDigest,
  kAgentId,
  kAtMs,
  kInputSha256,
  kOutput,
  kArm,
  kRolloutId,
  kFallback
};

Field FieldOf(std::string_view k) {
  switch (k.size()) {
    case 3:
      if (k == "arm") return Field::kArm;
      break;
    case 5:
      if (k == "model") return Field::kModel;
      if (k == "at_ms") return Field::kAtMs;
      break;
    case 6:
      if (k == "digest") return Field::kDigest;
      if (k == "output") return Field::kOutput;
      break;
    case 7:
      if (k == "version") return Field::kVersion;
      break;
    case 8:
      if (k == "agent_id") return Field::kAgentId;
      if (k == "fallback") return Field::kFallback;
      break;
    case 10:
      if (k == "request_id") return Field::kRequestId;
      if (k == "rollout_id") return Field::kRolloutId;
      break;
    case 12:
      if (k == "input_sha256") return Field::kInputSha256;
      break;
  }
  return Field::kUnknown;
}

const char* FieldName(Field f) {
  switch (f) {
    case Field::kRequestId:
      return "request_id";
    case Field::kModel:
      return "model";
    case Field::kVersion:
      return "version";
    case Field::kDigest:
      return "digest";
    case Field::kAgentId:
      return "agent_id";
    case Field::kAtMs:
      return "at_ms";
    case Field::kInputSha256:
      return "input_sha256";
    case Field::kOutput:
      return "output";
    case Field::kArm:
      return "arm";
    case Field::kRolloutId:
      return "rollout_id";
    case Field::kFallback:
      return "fallback";
    case Field::kUnknown:
      break;
  }
  return "?";
}

// The SAX handler: a small state machine over where the parser is. Each
// callback returns false to stop the parse at the first problem, which is
// kept in `error`.
class BatchSax {
 public:
  explicit BatchSax(size_t max_items) : max_items_(max_items) {}

  Status error = Status::OK();
  std::vector<DecisionRecord> items;
  bool saw_decisions = false;

  bool null() { return Scalar("null"); }
  bool boolean(bool) { return Scalar("boolean"); }
  bool number_integer(json::number_integer_t v) {
    if (where_ == kItem && IntegerField(field_)) return Integer(v);
    return Scalar("integer");
  }
  bool number_unsigned(json::number_unsigned_t v) {
    if (where_ == kItem && IntegerField(field_)) {
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return FieldError("want an integer up to 2^63-1, got " + std::to_string(v));
      return Integer(static_cast<int64_t>(v));
    }
    return Scalar("integer");
  }
  bool number_float(json::number_float_t, const json::string_t&) { return Scalar("number"); }
  bool binary(json::binary_t&) { return Fail(Status::InvalidArgument("request body is not valid JSON")); }

  bool string(json::string_t& s) {
    if (where_ != kItem) return Scalar("string");
    std::string* dst = nullptr;
    size_t cap = kMaxDecisionFieldBytes;
    DecisionRecord& d = cur_;
    switch (field_) {
      case Field::kRequestId:
        dst = &d.request_id;
        break;
      case Field::kModel:
        dst = &d.model;
        break;
      case Field::kDigest:
        dst = &d.digest;
        break;
      case Field::kAgentId:
        dst = &d.agent_id;
        break;
      case Field::kInputSha256:
        dst = &d.input_sha256;
        break;
      case Field::kOutput:
        if (s.size() > kMaxDecisionOutputBytes)
          return FieldError("longer than " + std::to_string(kMaxDecisionOutputBytes) + " bytes");
        d.output = std::move(s);
        return true;
      case Field::kArm:
        return OneOf(s, "baseline", "candidate", &d.arm);
      case Field::kFallback:
        return OneOf(s, "previous", "static", &d.fallback);
      case Field::kVersion:
      case Field::kAtMs:
      case Field::kRolloutId:
        return WrongType("string");
      case Field::kUnknown:
        return true;
    }
    if (s.size() > cap) return FieldError("longer than " + std::to_string(cap) + " bytes");
    *dst = std::move(s);
    return true;
  }

  bool start_object(size_t) {
    if (!Deeper()) return false;
    switch (where_) {
      case kTop:
        where_ = kTopObject;
        return true;
      case kTopObject:
        if (want_decisions_) return Fail(Status::InvalidArgument("decisions: want an array, got object"));
        return Skip();
      case kArray:
        if (items.size() >= max_items_)
          return Fail(Status::ResourceExhausted("at most " + std::to_string(max_items_) + " decisions per batch"));
        cur_ = DecisionRecord{};
        field_ = Field::kUnknown;
        where_ = kItem;
        return true;
      case kItem:
        if (field_ != Field::kUnknown) return WrongType("object");
        return Skip();
      case kSkip:
        return true;
      case kDone:
        break;
    }
    return Fail(Status::InvalidArgument("request body is not valid JSON"));
  }

  bool key(json::string_t& k) {
    if (where_ == kTopObject) {
      want_decisions_ = k == "decisions";
      if (want_decisions_ && saw_decisions) return Fail(Status::InvalidArgument("decisions: given twice"));
    } else if (where_ == kItem) {
      field_ = FieldOf(k);
    }
    return true;
  }

  bool end_object() {
    --depth_;
    switch (where_) {
      case kSkip:
        if (depth_ == skip_from_) where_ = skip_back_;
        return true;
      case kItem:
        items.push_back(std::move(cur_));
        where_ = kArray;
        return true;
      case kTopObject:
        where_ = kDone;
        return true;
      default:
        return true;
    }
  }

  bool start_array(size_t) {
    if (!Deeper()) return false;
    switch (where_) {
      case kTop:
        return NotABatch("array");
      case kTopObject:
        if (!want_decisions_) return Skip();
        saw_decisions = true;
        want_decisions_ = false;
        where_ = kArray;
        return true;
      case kArray:
        return Fail(Status::InvalidArgument(Index() + ": want an object, got array"));
      case kItem:
        if (field_ != Field::kUnknown) return WrongType("array");
        return Skip();
      case kSkip:
        return true;
      case kDone:
        break;
    }
    return Fail(Status::InvalidArgument("request body is not valid JSON"));
  }

  bool end_array() {
    --depth_;
    if (where_ == kSkip) {
      if (depth_ == skip_from_) where_ = skip_back_;
    } else if (where_ == kArray) {
      where_ = kTopObject;
    }
    return true;
  }

  bool parse_error(size_t pos, const std::string&, const json::exception&) {
    if (error.ok())
      error = Status::InvalidArgument("request body is not valid JSON (at byte " + std::to_string(pos) + ")");
    return false;
  }

 private:
  enum State { kTop, kTopObject, kArray, kItem, kSkip, kDone };

  std::string Index() const { return "decisions[" + std::to_string(items.size()) + "]"; }

  bool Fail(Status st) {
    error = std::move(st);
    return false;
  }
  bool FieldError(const std::string& why) {
    return Fail(Status::InvalidArgument(Index() + "." + FieldName(field_) + ": " + why));
  }
  static bool IntegerField(Field f) { return f == Field::kVersion || f == Field::kAtMs || f == Field::kRolloutId; }
  static bool Nullable(Field f) {
    return f == Field::kVersion || f == Field::kOutput || f == Field::kArm || f == Field::kRolloutId ||
           f == Field::kFallback;
  }
  static const char* Want(Field f) {
    switch (f) {
      case Field::kVersion:
        return "an integer or null";
      case Field::kRolloutId:
        return "a positive integer or null";
      case Field::kArm:
        return "\"baseline\", \"candidate\" or null";
      case Field::kFallback:
        return "\"previous\", \"static\" or null";
      case Field::kAtMs:
        return "an integer";
      case Field::kOutput:
        return "a string or null";
      default:
        return "a string";
    }
  }
  bool WrongType(const char* got) { return FieldError(std::string("want ") + Want(field_) + ", got " + got); }
  bool NotABatch(const char* got) {
    return Fail(
        Status::InvalidArgument(std::string("want {\"decisions\": [{\"request_id\",\"model\",\"version\",\"digest\","
                                            "\"agent_id\",\"at_ms\",\"input_sha256\"}, ...]}, got ") +
                                got));
  }

  bool Deeper() {
    if (++depth_ > kMaxDecisionNesting)
      return Fail(
          Status::InvalidArgument("request body nests deeper than " + std::to_string(kMaxDecisionNesting) + " levels"));
    return true;
  }
  // Skips the object or array just opened (a member this parser does not know).
  bool Skip() {
    skip_back_ = where_;
    skip_from_ = depth_ - 1;
    where_ = kSkip;
    return true;
  }

  // A scalar (null, boolean, number, string) that is no known field's value.
  bool Scalar(const char* type) {
    switch (where_) {
      case kTop:
        return NotABatch(type);
      case kTopObject:
        if (want_decisions_) return Fail(Status::InvalidArgument(std::string("decisions: want an array, got ") + type));
        return true;
      case kArray:
        return Fail(Status::InvalidArgument(Index() + ": want an object, got " + type));
      case kItem:
        if (field_ == Field::kUnknown) return true;
        if (std::string_view(type) == "null" && Nullable(field_)) {
          if (field_ == Field::kVersion) cur_.version.reset();
          else if (field_ == Field::kOutput) cur_.output.reset();
          else if (field_ == Field::kArm) cur_.arm.clear();
          else if (field_ == Field::kRolloutId) cur_.rollout_id.reset();
          else cur_.fallback.clear();
          return true;
        }
        return WrongType(type);
      case kSkip:
      case kDone:
        return true;
    }
    return true;
  }

  bool Integer(int64_t v) {
    if (field_ == Field::kVersion) cur_.version = v;
    else if (field_ == Field::kAtMs) cur_.at_ms = v;
    else if (v <= 0) return FieldError("want a positive integer, got " + std::to_string(v));
    else cur_.rollout_id = v;
    return true;
  }

  // A string field with two allowed values; "" is absent, like null.
  bool OneOf(const std::string& s, const char* a, const char* b, std::string* dst) {
    if (!s.empty() && s != a && s != b) {
      // The value is quoted back when short (JSON-escaped: no control bytes reach a log).
      const std::string got = s.size() <= 32 ? json(s).dump() : "a string of " + std::to_string(s.size()) + " bytes";
      return FieldError(std::string("want \"") + a + "\" or \"" + b + "\", got " + got);
    }
    *dst = s;
    return true;
  }

  size_t max_items_;
  State where_ = kTop;
  State skip_back_ = kTop;
  size_t depth_ = 0, skip_from_ = 0;
  bool want_decisions_ = false;
  Field field_ = Field::kUnknown;
  DecisionRecord cur_;
};

}  // namespace

namespace {

// The fast path: one pass over the bytes for the batch agents send
// (agent/proxy_connection.cc: {"decisions":[{known members}, ...]}, plain
// integers, strings whose escapes are the short ones), writing straight into
// the records, no token or key strings built on the way. Whatever it is not
// sure of (an unknown member, \u escapes, a float, a negative number, a
// value that breaks a rule, more than max_items, bad JSON) it leaves to the
// SAX parse, which then answers for the whole body, errors included: so the
// fast path decides no error message and accepts only what the SAX parse
// accepts identically (the fuzz target checks that both agree).
class FastBatch {
 public:
  FastBatch(std::string_view body, size_t max_items)
      : p_(body.data()), end_(body.data() + body.size()), max_items_(max_items) {}

  std::optional<std::vector<DecisionRecord>> Parse() {
    std::vector<DecisionRecord> items;
    Ws();
    if (!Eat('{')) return std::nullopt;
    Ws();
    std::string_view k;
    if (!Key(&k) || k != "decisions") return std::nullopt;
    Ws();
    if (!Eat('[')) return std::nullopt;
    Ws();
    // A guess at the batch's size from the body's: reserve once, not by doubling.
    items.reserve(std::min<size_t>(max_items_, static_cast<size_t>(end_ - p_) / 200 + 1));
    if (!Eat(']')) {
      CpuYield yield;  // a batch is up to 10 000 items: share the core (core/cpu_yield.h)
      for (;;) {
        yield.Tick();
        if (items.size() >= max_items_) return std::nullopt;
        items.emplace_back();
        if (!Item(items.back())) return std::nullopt;
        Ws();
        if (Eat(']')) break;
        if (!Eat(',')) return std::nullopt;
        Ws();
      }
    }
    Ws();
    if (!Eat('}')) return std::nullopt;
    Ws();
    if (p_ != end_) return std::nullopt;
    return items;
  }

 private:
  void Ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool Eat(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  // "key" then ':' (whitespace around it); a key with an escape is left to SAX.
  bool Key(std::string_view* k) {
    if (!Eat('"')) return false;
    const char* s = p_;
    while (p_ != end_ && *p_ != '"') {
      const auto c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
      ++p_;
    }
    if (p_ == end_) return false;
    *k = std::string_view(s, static_cast<size_t>(p_ - s));
    ++p_;
    Ws();
    return Eat(':');
  }
  // The byte length of a UTF-8 sequence starting at p_ as RFC 3629 allows it
  // (as nlohmann's lexer checks it: no overlong forms, no surrogates, at most
  // U+10FFFF), or 0.
  size_t Utf8Len() const {
    const auto* u = reinterpret_cast<const unsigned char*>(p_);
    const size_t left = static_cast<size_t>(end_ - p_);
    auto cont = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
      return i < left && u[i] >= lo && u[i] <= hi;
    };
    const unsigned char c = u[0];
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c == 0xE0) return cont(1, 0xA0, 0xBF) && cont(2) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    if (c == 0xF0) return cont(1, 0x90, 0xBF) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
  }
  // A string value into *out (at most cap bytes); short escapes decoded,
  // \u escapes left to SAX.
  bool String(std::string* out, size_t cap) {
    if (!Eat('"')) return false;
    out->clear();
    for (;;) {
      const char* s = p_;
      while (p_ != end_) {
        const auto c = static_cast<unsigned char>(*p_);
        if (c == '"' || c == '\\' || c < 0x20) break;
        if (c < 0x80) {
          ++p_;
        } else {
          const size_t n = Utf8Len();
          if (n == 0) return false;
          p_ += n;
        }
      }
      out->append(s, static_cast<size_t>(p_ - s));
      if (out->size() > cap || p_ == end_) return false;
      if (*p_ == '"') {
        ++p_;
        return true;
      }
      if (*p_ != '\\' || end_ - p_ < 2) return false;  // a control byte, or a cut escape
      char e;
      switch (p_[1]) {
        case '"':
          e = '"';
          break;
        case '\\':
          e = '\\';
          break;
        case '/':
          e = '/';
          break;
        case 'b':
          e = '\b';
          break;
        case 'f':
          e = '\f';
          break;
        case 'n':
          e = '\n';
          break;
        case 'r':
          e = '\r';
          break;
        case 't':
          e = '\t';
          break;
        default:
          return false;  // \u (surrogate pairs and all) or not JSON
      }
      out->push_back(e);
      p_ += 2;
    }
  }
  // A non-negative integer without fraction or exponent, up to 18 digits
  // (no overflow to think of); anything else is left to SAX.
  bool Integer(int64_t* v) {
    const char* s = p_;
    int64_t x = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
      if (p_ - s == 18) return false;  // a 19th digit: before it could overflow
      x = x * 10 + (*p_++ - '0');
    }
    const auto n = p_ - s;
    if (n == 0 || n > 18 || (n > 1 && *s == '0')) return false;
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    *v = x;
    return true;
  }
  bool Null() {
    if (end_ - p_ < 4 || std::string_view(p_, 4) != "null") return false;
    p_ += 4;
    return true;
  }
  // "" (absent) or one of two values, as BatchSax::OneOf.
  bool OneOf(std::string* dst, std::string_view a, std::string_view b) {
    if (p_ != end_ && *p_ == 'n') {
      dst->clear();
      return Null();
    }
    if (!String(dst, 16)) return false;
    return dst->empty() || *dst == a || *dst == b;
  }
  bool Item(DecisionRecord& d) {
    if (!Eat('{')) return false;
    Ws();
    if (Eat('}')) return true;
    for (;;) {
      std::string_view k;
      if (!Key(&k)) return false;
      Ws();
      if (!Value(FieldOf(k), d)) return false;
      Ws();
      if (Eat('}')) return true;
      if (!Eat(',')) return false;
      Ws();
    }
  }
  bool Value(Field f, DecisionRecord& d) {
    const bool null = p_ != end_ && *p_ == 'n';
    switch (f) {
      case Field::kRequestId:
        return String(&d.request_id, kMaxDecisionFieldBytes);
      case Field::kModel:
        return String(&d.model, kMaxDecisionFieldBytes);
      case Field::kDigest:
        return String(&d.digest, kMaxDecisionFieldBytes);
      case Field::kAgentId:
        return String(&d.agent_id, kMaxDecisionFieldBytes);
      case Field::kInputSha256:
        return String(&d.input_sha256, kMaxDecisionFieldBytes);
      case Field::kAtMs:
        return Integer(&d.at_ms);
      case Field::kVersion: {
        if (null) {
          d.version.reset();
          return Null();
        }
        int64_t v;
        if (!Integer(&v)) return false;
        d.version = v;
        return true;
      }
      case Field::kRolloutId: {
        if (null) {
          d.rollout_id.reset();
          return Null();
        }
        int64_t v;
        if (!Integer(&v) || v <= 0) return false;
        d.rollout_id = v;
        return true;
      }
      case Field::kOutput:
        if (null) {
          d.output.reset();
          return Null();
        }
        if (!d.output) d.output.emplace();
        return String(&*d.output, kMaxDecisionOutputBytes);
      case Field::kArm:
        return OneOf(&d.arm, "baseline", "candidate");
      case Field::kFallback:
        return OneOf(&d.fallback, "previous", "static");
      case Field::kUnknown:
        break;
    }
    return false;
  }

  const char* p_;
  const char* end_;
  size_t max_items_;
};

}  // namespace

Result<std::vector<DecisionRecord>> ParseDecisionBatchSax(std::string_view body, size_t max_items) {
  BatchSax sax(max_items);
  const bool ok = json::sax_parse(body.data(), body.data() + body.size(), &sax);
  if (!sax.error.ok()) return sax.error;
  if (!ok) return Status::InvalidArgument("request body is not valid JSON");
  if (!sax.saw_decisions)
    return Status::InvalidArgument(
        "want {\"decisions\": [{\"request_id\",\"model\",\"version\",\"digest\",\"agent_id\",\"at_ms\","
        "\"input_sha256\"}, ...]}");
  return std::move(sax.items);
}

std::optional<std::vector<DecisionRecord>> ParseDecisionBatchFast(std::string_view body, size_t max_items) {
  return FastBatch(body, max_items).Parse();
}

Result<std::vector<DecisionRecord>> ParseDecisionBatch(std::string_view body, size_t max_items) {
  if (auto fast = ParseDecisionBatchFast(body, max_items)) return std::move(*fast);
  return ParseDecisionBatchSax(body, max_items);
}

}  // namespace modelreg
