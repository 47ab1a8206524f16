#include "core/request_features.h"

#include <nlohmann/json.hpp>
#include <unordered_map>

namespace modelreg {
namespace {
using nlohmann::json;

// Whether `s` nests arrays and objects deeper than kMaxBodyDepth (checked
// before parsing: the parser's work and memory stay linear and shallow).
bool TooDeep(std::string_view s) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxBodyDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

json Parse(std::string_view body) {
  if (body.empty() || TooDeep(body)) return json(json::value_t::discarded);
  return json::parse(body.begin(), body.end(), nullptr, false);
}

class Builder {
 public:
  Builder(Rows* out, const std::vector<std::string>* columns) : out_(out), columns_(columns) {}

  // Starts `n` more rows of missing cells; false when over kMaxCells.
  bool AddRows(size_t n) {
    if (n > kMaxCells || out_->rows + n > kMaxCells) return false;
    if (out_->width > 0 && (out_->rows + n) * out_->width > kMaxCells) return false;
    out_->rows += n;
    out_->cells.resize(out_->rows * out_->width);
    return true;
  }
  void Set(size_t row, size_t col, const json& v) {
    Cell& c = out_->cells[row * out_->width + col];
    switch (v.type()) {
      case json::value_t::null:
        c.kind = Cell::kMissing;
        break;
      case json::value_t::boolean:
        c.kind = Cell::kBool;
        c.number = v.get<bool>() ? 1 : 0;
        break;
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
      case json::value_t::number_float:
        c.kind = Cell::kNumber;
        c.number = v.get<double>();
        break;
      case json::value_t::string: {
        const std::string& s = v.get_ref<const std::string&>();
        c.kind = Cell::kString;
        c.text_at = out_->text.size();
        c.text_size = static_cast<uint32_t>(std::min<size_t>(s.size(), UINT32_MAX));
        out_->text.append(s, 0, c.text_size);
        break;
      }
      default:
        c.kind = Cell::kOther;
    }
  }
  // A positional row (an array, or a scalar as a row of one).
  void Positional(size_t row, const json& r) {
    if (!r.is_array()) {
      if (out_->width == 1) Set(row, 0, r);
      else BadWidth(row, 1);
      return;
    }
    Span(row, r, 0, r.size());
  }
  // Elements [at, at + n) of `arr` as a positional row.
  void Span(size_t row, const json& arr, size_t at, size_t n) {
    if (n != out_->width) return BadWidth(row, n);
    for (size_t i = 0; i < n; ++i) Set(row, i, arr[at + i]);
  }
  void BadWidth(size_t row, size_t width, size_t expected = 0) {
    if (out_->width == 0) return;  // no schema: nothing to be wrong about
    auto u32 = [](size_t n) { return static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX)); };
    out_->bad_width.push_back({u32(row), u32(width), u32(expected ? expected : out_->width)});
  }
  // A named row: {name: value}; names not in the schema are ignored.
  void Named(size_t row, const json& r) {
    for (const auto& [k, v] : r.items())
      if (int col = Column(k); col >= 0) Set(row, static_cast<size_t>(col), v);
  }
  int Column(std::string_view name) {
    if (index_.empty())
      for (size_t i = 0; i < columns_->size(); ++i) index_.emplace((*columns_)[i], static_cast<int>(i));
    auto it = index_.find(name);
    return it == index_.end() ? -1 : it->second;
  }

 private:
  Rows* out_;
  const std::vector<std::string>* columns_;
  std::unordered_map<std::string_view, int> index_;
};

// {"features"|"instances"|MLflow "inputs": [row, ...]}: a row is an array
// (positional), an object (named) or a scalar (a row of one).
bool RowList(const json& rows, Builder& b) {
  if (!rows.is_array()) return false;
  // {"features": [1, 2, 3]}: one flat row.
  bool flat = !rows.empty();
  for (const auto& r : rows) flat = flat && !r.is_array() && !r.is_object();
  if (flat && rows.size() > 1) {
    if (!b.AddRows(1)) return false;
    b.Positional(0, rows);
    return true;
  }
  if (!b.AddRows(rows.size())) return false;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].is_object()) b.Named(i, rows[i]);
    else b.Positional(i, rows[i]);
  }
  return true;
}

// One feature's values: [v, ...] or [[v], ...] (shape [n, 1]).
const json& Unwrap(const json& v) { return v.is_array() && v.size() == 1 ? v[0] : v; }

// Columns by name: {name: [values]} or OIP inputs, one per feature.
bool NamedColumns(const std::vector<std::pair<std::string_view, const json*>>& cols, Builder& b) {
  size_t n = 0;
  for (const auto& [name, data] : cols) {
    if (!data->is_array()) return false;
    if (b.Column(name) >= 0) n = std::max(n, data->size());
  }
  if (!b.AddRows(n)) return false;
  for (const auto& [name, data] : cols) {
    const int col = b.Column(name);
    if (col < 0) continue;
    for (size_t i = 0; i < data->size(); ++i) b.Set(i, static_cast<size_t>(col), Unwrap((*data)[i]));
  }
  return true;
}

// An OIP tensor of positional rows: nested, or flat with shape [n, d].
bool Tensor(const json& input, Builder& b) {
  const json& data = input["data"];
  if (!data.is_array()) return false;
  if (!data.empty() && data[0].is_array()) return RowList(data, b);
  size_t d = data.size();
  if (auto s = input.find("shape"); s != input.end() && s->is_array() && s->size() == 2 &&
                                    (*s)[0].is_number_unsigned() && (*s)[1].is_number_unsigned()) {
    const uint64_t rows = (*s)[0].get<uint64_t>(), cols = (*s)[1].get<uint64_t>();
    if (cols > 0 && rows <= kMaxCells && cols <= kMaxCells && rows * cols == data.size()) d = cols;
  }
  if (d == 0) return b.AddRows(0);
  const size_t n = data.size() / d;
  if (!b.AddRows(n)) return false;
  for (size_t r = 0; r < n; ++r) b.Span(r, data, r * d, d);
  return true;
}

bool Oip(const json& inputs, const std::vector<std::string>& columns, Builder& b) {
  for (const auto& in : inputs)
    if (!in.is_object() || !in.contains("data")) return false;
  if (inputs.size() == 1) {
    const json& in = inputs[0];
    const json* name = in.contains("name") ? &in["name"] : nullptr;
    const bool named = name && name->is_string() && b.Column(name->get_ref<const std::string&>()) >= 0;
    const json* shape = in.contains("shape") ? &in["shape"] : nullptr;
    const bool wide = shape && shape->is_array() && shape->size() == 2 && (*shape)[1].is_number_unsigned() &&
                      (*shape)[1].get<uint64_t>() > 1;
    if (!named || wide || columns.size() == 1) return Tensor(in, b);
  }
  std::vector<std::pair<std::string_view, const json*>> cols;
  for (const auto& in : inputs) {
    if (!in.contains("name") || !in["name"].is_string()) return false;
    cols.emplace_back(in["name"].get_ref<const std::string&>(), &in["data"]);
  }
  return NamedColumns(cols, b);
}

bool DataframeSplit(const json& split, Builder& b) {
  if (!split.is_object() || !split.contains("data")) return false;
  const json& data = split["data"];
  if (!split.contains("columns")) return RowList(data, b);
  const json& names = split["columns"];
  if (!names.is_array() || !data.is_array()) return false;
  std::vector<int> col;
  for (const auto& n : names) col.push_back(n.is_string() ? b.Column(n.get_ref<const std::string&>()) : -1);
  if (!b.AddRows(data.size())) return false;
  for (size_t r = 0; r < data.size(); ++r) {
    const json& row = data[r];
    if (!row.is_array() || row.size() != col.size()) {
      b.BadWidth(r, row.is_array() ? row.size() : 1, col.size());
      continue;
    }
    for (size_t i = 0; i < col.size(); ++i)
      if (col[i] >= 0) b.Set(r, static_cast<size_t>(col[i]), row[i]);
  }
  return true;
}

BodyFormat ReadRequest(const json& j, const std::vector<std::string>& columns, Builder& b) {
  if (!j.is_object()) return BodyFormat::kUnreadable;
  if (auto it = j.find("features"); it != j.end())
    return RowList(*it, b) ? BodyFormat::kFeatures : BodyFormat::kUnreadable;
  if (auto it = j.find("instances"); it != j.end())
    return RowList(*it, b) ? BodyFormat::kInstances : BodyFormat::kUnreadable;
  if (auto it = j.find("inputs"); it != j.end()) {
    const json& in = *it;
    if (in.is_object()) {
      std::vector<std::pair<std::string_view, const json*>> cols;
      for (const auto& [k, v] : in.items()) cols.emplace_back(k, &v);
      return NamedColumns(cols, b) ? BodyFormat::kColumnar : BodyFormat::kUnreadable;
    }
    if (in.is_array() && !in.empty() && in[0].is_object() && in[0].contains("data"))
      return Oip(in, columns, b) ? BodyFormat::kOipV2 : BodyFormat::kUnreadable;
    return RowList(in, b) ? BodyFormat::kInstances : BodyFormat::kUnreadable;
  }
  if (auto it = j.find("dataframe_split"); it != j.end())
    return DataframeSplit(*it, b) ? BodyFormat::kDataframeSplit : BodyFormat::kUnreadable;
  if (auto it = j.find("dataframe_records"); it != j.end()) {
    if (!it->is_array()) return BodyFormat::kUnreadable;
    for (const auto& r : *it)
      if (!r.is_object()) return BodyFormat::kUnreadable;
    return RowList(*it, b) ? BodyFormat::kDataframeRecords : BodyFormat::kUnreadable;
  }
  return BodyFormat::kUnreadable;
}

// One output per row: a scalar, or the last element of an array (the
// positive class's probability).
void SetOutput(Builder& b, size_t row, const json& v) {
  if (v.is_array()) {
    if (v.empty()) return b.Set(row, 0, json::object());  // kOther
    return b.Set(row, 0, v.back().is_array() ? json::object() : v.back());
  }
  b.Set(row, 0, v);
}

bool OutputList(const json& list, Builder& b) {
  if (!list.is_array() || !b.AddRows(list.size())) return false;
  for (size_t i = 0; i < list.size(); ++i) SetOutput(b, i, list[i]);
  return true;
}

bool OipOutput(const json& out, Builder& b) {
  const json& data = out["data"];
  if (!data.is_array()) return false;
  if (!data.empty() && data[0].is_array()) return OutputList(data, b);
  size_t k = 1;
  if (auto s = out.find("shape"); s != out.end() && s->is_array() && s->size() == 2 && (*s)[0].is_number_unsigned() &&
                                  (*s)[1].is_number_unsigned()) {
    const uint64_t rows = (*s)[0].get<uint64_t>(), cols = (*s)[1].get<uint64_t>();
    if (cols > 0 && rows <= kMaxCells && cols <= kMaxCells && rows * cols == data.size()) k = cols;
  }
  const size_t n = data.size() / k;
  if (!b.AddRows(n)) return false;
  for (size_t r = 0; r < n; ++r) b.Set(r, 0, data[r * k + k - 1]);
  return true;
}

BodyFormat ReadResponse(const json& j, Builder& b) {
  if (j.is_array()) return OutputList(j, b) ? BodyFormat::kPredictions : BodyFormat::kUnreadable;
  if (!j.is_object()) return BodyFormat::kUnreadable;
  for (const char* key : {"predictions", "probabilities"})
    if (auto it = j.find(key); it != j.end())
      return OutputList(*it, b) ? BodyFormat::kPredictions : BodyFormat::kUnreadable;
  if (auto it = j.find("outputs"); it != j.end() && it->is_array()) {
    if (!it->empty() && (*it)[0].is_object() && (*it)[0].contains("data"))
      return OipOutput((*it)[0], b) ? BodyFormat::kPredictions : BodyFormat::kUnreadable;
    return OutputList(*it, b) ? BodyFormat::kPredictions : BodyFormat::kUnreadable;
  }
  return BodyFormat::kUnreadable;
}

Rows Unreadable(size_t width) {
  Rows r;
  r.width = width;
  return r;
}

}  // namespace

const char* BodyFormatName(BodyFormat f) {
  switch (f) {
    case BodyFormat::kUnreadable:
      return "unreadable";
    case BodyFormat::kFeatures:
      return "features";
    case BodyFormat::kInstances:
      return "instances";
    case BodyFormat::kOipV2:
      return "oip-v2";
    case BodyFormat::kColumnar:
      return "columnar";
    case BodyFormat::kDataframeSplit:
      return "dataframe_split";
    case BodyFormat::kDataframeRecords:
      return "dataframe_records";
    case BodyFormat::kPredictions:
      return "predictions";
  }
  return "unreadable";
}

Rows ParseRequestRows(std::string_view body, const std::vector<std::string>& columns) {
  try {
    const json j = Parse(body);
    if (j.is_discarded()) return Unreadable(columns.size());
    Rows out;
    out.width = columns.size();
    Builder b(&out, &columns);
    out.format = ReadRequest(j, columns, b);
    if (!out.readable()) return Unreadable(columns.size());
    return out;
  } catch (...) {  // bad_alloc, or a nlohmann surprise: the body is not read
    return Unreadable(columns.size());
  }
}

Rows ParseResponseOutputs(std::string_view body) {
  static const std::vector<std::string> kOne = {""};
  try {
    const json j = Parse(body);
    if (j.is_discarded()) return Unreadable(1);
    Rows out;
    out.width = 1;
    Builder b(&out, &kOne);
    out.format = ReadResponse(j, b);
    if (!out.readable()) return Unreadable(1);
    return out;
  } catch (...) { return Unreadable(1); }
}

}  // namespace modelreg
