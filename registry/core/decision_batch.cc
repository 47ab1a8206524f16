#include "core/decision_batch.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <string>

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

Field FieldOf(const std::string& k) {
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

Result<std::vector<DecisionRecord>> ParseDecisionBatch(std::string_view body, size_t max_items) {
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

}  // namespace modelreg
