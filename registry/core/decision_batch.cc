#include "core/decision_batch.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace modelreg {
namespace {

using json = nlohmann::json;

enum class Field { kUnknown, kRequestId, kModel, kVersion, kDigest, kAgentId, kAtMs, kInputSha256, kOutput };

Field FieldOf(const std::string& k) {
  switch (k.size()) {
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
      break;
    case 10:
      if (k == "request_id") return Field::kRequestId;
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
    if (where_ == kItem && (field_ == Field::kVersion || field_ == Field::kAtMs)) return Integer(v);
    return Scalar("integer");
  }
  bool number_unsigned(json::number_unsigned_t v) {
    if (where_ == kItem && (field_ == Field::kVersion || field_ == Field::kAtMs)) {
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
      case Field::kVersion:
      case Field::kAtMs:
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
  static const char* Want(Field f) {
    switch (f) {
      case Field::kVersion:
        return "an integer or null";
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
        if (std::string_view(type) == "null" && (field_ == Field::kVersion || field_ == Field::kOutput)) {
          if (field_ == Field::kVersion) cur_.version.reset();
          else cur_.output.reset();
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
    else cur_.at_ms = v;
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
