#include "core/profile_builder.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "core/file_util.h"
#include "core/utf8_text.h"

namespace modelreg {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsMissing(std::string_view t) { return t.empty() || t == "NaN" || t == "nan" || t == "NAN"; }

// 1 true, 0 false, -1 neither.
int BoolOf(std::string_view t) {
  if (t.size() == 4 && (t == "true" || t == "True" || t == "TRUE")) return 1;
  if (t.size() == 5 && (t == "false" || t == "False" || t == "FALSE")) return 0;
  return -1;
}

bool ParseNumber(std::string_view t, double* d) {
  const char c = t[0];
  if (!((c >= '0' && c <= '9') || c == '-' || c == '.')) return false;  // fast refusal of text
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *d);
  return ec == std::errc() && p == t.data() + t.size() && std::isfinite(*d);
}

// One column's values as they are read; a chunk of the file fills one set.
struct ColumnAcc {
  enum class State { kEmpty, kNumeric, kBoolean, kText };
  State state = State::kEmpty;
  int64_t missing = 0;
  size_t reserve = 0;
  std::vector<double> nums;
  int64_t n_true = 0, n_false = 0;
  std::unordered_map<std::string, int64_t> text;

  // Numbers and booleans among text count by one spelling ("1.0" is "1").
  void AddText(std::string_view t) {
    double d;
    if (ParseNumber(t, &d)) {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      ++text[std::string(buf, r.ptr)];
    } else if (int b = BoolOf(t); b >= 0) {
      ++text[b ? "true" : "false"];
    } else {
      ++text[std::string(t)];
    }
  }

  void Add(std::string_view raw) {
    const std::string_view t = Trim(raw);
    if (IsMissing(t)) {
      ++missing;
      return;
    }
    double d;
    switch (state) {
      case State::kNumeric:
        if (ParseNumber(t, &d)) {
          nums.push_back(d);
          return;
        }
        break;
      case State::kBoolean:
        if (int b = BoolOf(t); b >= 0) {
          ++(b ? n_true : n_false);
          return;
        }
        break;
      case State::kText:
        AddText(t);
        return;
      case State::kEmpty:
        if (ParseNumber(t, &d)) {
          state = State::kNumeric;
          nums.reserve(reserve);
          nums.push_back(d);
          return;
        }
        if (int b = BoolOf(t); b >= 0) {
          state = State::kBoolean;
          ++(b ? n_true : n_false);
          return;
        }
        break;
    }
    ToText();
    AddText(t);
  }

  // A value that is neither number nor boolean: the column is categorical,
  // and what it held so far becomes categories.
  void ToText() {
    if (state == State::kNumeric) {
      char buf[64];
      for (double d : nums) {
        auto r = std::to_chars(buf, buf + sizeof buf, d);
        ++text[std::string(buf, r.ptr)];
      }
      std::vector<double>().swap(nums);
    } else if (state == State::kBoolean) {
      if (n_true) text["true"] += n_true;
      if (n_false) text["false"] += n_false;
    }
    state = State::kText;
  }

  void Merge(ColumnAcc&& o) {
    missing += o.missing;
    if (o.state == State::kEmpty) return;
    if (state == State::kEmpty) {
      const int64_t m = missing;
      *this = std::move(o);
      missing = m;
      return;
    }
    if (state != o.state) {
      ToText();
      o.ToText();
    }
    nums.insert(nums.end(), o.nums.begin(), o.nums.end());
    n_true += o.n_true;
    n_false += o.n_false;
    for (auto& [k, v] : o.text) text[k] += v;
  }
};

// What parsing a piece of the text gave, or where it failed.
struct Chunk {
  std::vector<ColumnAcc> cols;
  int64_t rows = 0;
  Status error;
  size_t error_at = 0;  // offset in the text: the line is computed from it
};

size_t LineOf(std::string_view text, size_t offset) {
  return 1 + std::count(text.begin(), text.begin() + std::min(offset, text.size()), '\n');
}

// Parses one CSV record starting at text[pos], calling field(index, value)
// for each field; returns the number of fields and moves pos past the
// record's line end. On a malformed quote returns -1 with *why set.
template <typename Fn>
long ParseCsvRecord(std::string_view text, size_t& pos, std::string& scratch, const char** why, Fn&& field) {
  const size_t end = text.size();
  const char* d = text.data();
  long n = 0;
  for (;;) {
    std::string_view value;
    if (pos < end && d[pos] == '"') {
      size_t seg = ++pos;
      bool escaped = false;
      scratch.clear();
      for (;;) {
        const void* q = pos < end ? std::memchr(d + pos, '"', end - pos) : nullptr;
        if (!q) {
          *why = "a quoted field is not closed";
          return -1;
        }
        const size_t at = static_cast<const char*>(q) - d;
        if (at + 1 < end && d[at + 1] == '"') {  // "" inside quotes: one "
          scratch.append(d + seg, at + 1 - seg);
          escaped = true;
          pos = seg = at + 2;
          continue;
        }
        if (escaped) {
          scratch.append(d + seg, at - seg);
          value = scratch;
        } else {
          value = std::string_view(d + seg, at - seg);
        }
        pos = at + 1;
        break;
      }
      if (pos < end && d[pos] != ',' && d[pos] != '\n' && !(d[pos] == '\r' && pos + 1 < end && d[pos + 1] == '\n') &&
          !(d[pos] == '\r' && pos + 1 == end)) {
        *why = "a character follows a closing quote (quote the whole field, and double quotes inside it)";
        return -1;
      }
    } else {
      const size_t s = pos;
      while (pos < end && d[pos] != ',' && d[pos] != '\n') ++pos;
      size_t e = pos;
      if (e > s && d[e - 1] == '\r') --e;
      value = std::string_view(d + s, e - s);
    }
    field(n, value);
    ++n;
    if (pos < end && d[pos] == ',') {
      ++pos;
      continue;
    }
    if (pos < end && d[pos] == '\r') ++pos;
    if (pos < end) ++pos;  // the '\n'
    return n;
  }
}

bool BlankLine(std::string_view text, size_t pos) {
  return text[pos] == '\n' || (text[pos] == '\r' && (pos + 1 == text.size() || text[pos + 1] == '\n'));
}

void ParseCsvRange(std::string_view text, size_t begin, size_t end, size_t reserve_to, const std::vector<int>& acc_of,
                   size_t nacc, Chunk* out) {
  out->cols.resize(nacc);
  // The first chunk's columns take the others' values at the end: room
  // for all of them saves a copy of the column then.
  const size_t estimate = std::count(text.begin() + begin, text.begin() + (reserve_to ? reserve_to : end), '\n') + 1;
  for (auto& c : out->cols) c.reserve = estimate;
  const std::string_view piece = text.substr(0, end);
  const long want = static_cast<long>(acc_of.size());
  std::string scratch;
  size_t pos = begin;
  while (pos < end) {
    if (BlankLine(piece, pos)) {
      pos += piece[pos] == '\r' ? 2 : 1;
      continue;
    }
    const size_t start = pos;
    const char* why = nullptr;
    long n = ParseCsvRecord(piece, pos, scratch, &why, [&](long i, std::string_view v) {
      if (i < want && acc_of[i] >= 0) out->cols[acc_of[i]].Add(v);
    });
    if (n < 0) {
      out->error = Status::InvalidArgument(why);
      out->error_at = start;
      return;
    }
    if (n != want) {
      out->error = Status::InvalidArgument(std::to_string(n) + (n == 1 ? " field" : " fields") + ", the header has " +
                                           std::to_string(want));
      out->error_at = start;
      return;
    }
    ++out->rows;
  }
}

// The first non-UTF-8 byte's offset, or npos. ASCII eight bytes at a time.
size_t FirstBadUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (!(w & 0x8080808080808080ull)) {
        i += 8;
        continue;
      }
    }
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    uint32_t cp;
    const size_t len = Utf8At(s, i, &cp);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

struct Table {
  std::vector<std::string> names;  // header, in file order
  std::vector<ColumnAcc> cols;     // per profiled column (names minus the target)
  std::vector<size_t> col_name;    // index into names of each profiled column
  int64_t rows = 0;
};

Status AtLine(std::string_view text, const std::string& name, size_t offset, const Status& st) {
  return Status::InvalidArgument(name + ":" + std::to_string(LineOf(text, offset)) + ": " + st.message());
}

Status CheckHeader(const std::vector<std::string>& names, const std::string& name) {
  std::unordered_map<std::string, size_t> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty())
      return Status::InvalidArgument(name + ":1: column " + std::to_string(i + 1) + " of the header has no name");
    if (!seen.emplace(names[i], i).second)
      return Status::InvalidArgument(name + ":1: the header names column \"" + names[i] + "\" twice");
  }
  return Status::OK();
}

std::string ColumnList(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

Status Roles(Table* t, const std::string& name, const ProfileOptions& o, std::vector<int>* acc_of) {
  for (const auto& [flag, col] : {std::pair{"--target", &o.target}, std::pair{"--output-column", &o.output_column}})
    if (!col->empty() && std::find(t->names.begin(), t->names.end(), *col) == t->names.end())
      return Status::InvalidArgument(std::string(flag) + " \"" + *col + "\": " + name + " has no such column (it has " +
                                     ColumnList(t->names) + ")");
  if (!o.target.empty() && o.target == o.output_column)
    return Status::InvalidArgument("--target and --output-column name the same column \"" + o.target + "\"");
  acc_of->assign(t->names.size(), -1);
  for (size_t i = 0; i < t->names.size(); ++i) {
    if (!o.target.empty() && t->names[i] == o.target) continue;
    (*acc_of)[i] = static_cast<int>(t->col_name.size());
    t->col_name.push_back(i);
  }
  return Status::OK();
}

Status ReadCsv(std::string_view text, const std::string& name, const ProfileOptions& o, Table* t) {
  size_t pos = 0;
  while (pos < text.size() && BlankLine(text, pos)) pos += text[pos] == '\r' ? 2 : 1;
  if (pos >= text.size()) return Status::InvalidArgument(name + " is empty: want a header row of column names");
  std::string scratch;
  const char* why = nullptr;
  const size_t header_at = pos;
  if (ParseCsvRecord(text, pos, scratch, &why, [&](long, std::string_view v) { t->names.emplace_back(Trim(v)); }) < 0)
    return AtLine(text, name, header_at, Status::InvalidArgument(why));
  MR_RETURN_IF_ERROR(CheckHeader(t->names, name));
  std::vector<int> acc_of;
  MR_RETURN_IF_ERROR(Roles(t, name, o, &acc_of));
  // Two halves on two threads, cut at a line end: only when no field is
  // quoted (a quoted field may hold a line end, so a cut could land in it).
  std::vector<std::pair<size_t, size_t>> ranges = {{pos, text.size()}};
  const size_t data = text.size() - pos;
  if (o.threads > 1 && data > (1 << 20) && !std::memchr(text.data() + pos, '"', data)) {
    ranges.clear();
    size_t from = pos;
    for (int i = 1; i < o.threads; ++i) {
      size_t cut = pos + data * i / o.threads;
      const void* nl = std::memchr(text.data() + cut, '\n', text.size() - cut);
      cut = nl ? static_cast<const char*>(nl) - text.data() + 1 : text.size();
      if (cut <= from) continue;
      ranges.push_back({from, cut});
      from = cut;
    }
    ranges.push_back({from, text.size()});
  }
  std::vector<Chunk> chunks(ranges.size());
  std::vector<std::thread> workers;
  for (size_t i = 1; i < ranges.size(); ++i)
    workers.emplace_back(
        [&, i] { ParseCsvRange(text, ranges[i].first, ranges[i].second, 0, acc_of, t->col_name.size(), &chunks[i]); });
  ParseCsvRange(text, ranges[0].first, ranges[0].second, text.size(), acc_of, t->col_name.size(), &chunks[0]);
  for (auto& w : workers) w.join();
  for (auto& c : chunks)
    if (!c.error.ok()) return AtLine(text, name, c.error_at, c.error);
  t->cols = std::move(chunks[0].cols);
  t->rows = chunks[0].rows;
  for (size_t i = 1; i < chunks.size(); ++i) {
    for (size_t c = 0; c < t->cols.size(); ++c) t->cols[c].Merge(std::move(chunks[i].cols[c]));
    t->rows += chunks[i].rows;
  }
  return Status::OK();
}

Status ReadJsonLines(std::string_view text, const std::string& name, const ProfileOptions& o, Table* t) {
  using nlohmann::ordered_json;
  std::unordered_map<std::string, size_t> index;
  std::vector<int> acc_of;
  std::vector<char> seen;
  size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    const size_t at = pos;
    pos = nl + 1;
    if (Trim(line).empty() || Trim(line) == "\r") continue;
    auto fail = [&](const std::string& m) { return AtLine(text, name, at, Status::InvalidArgument(m)); };
    ordered_json j = ordered_json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
    if (first) {
      for (const auto& [k, v] : j.items()) {
        index.emplace(k, t->names.size());
        t->names.push_back(k);
      }
      MR_RETURN_IF_ERROR(CheckHeader(t->names, name));
      MR_RETURN_IF_ERROR(Roles(t, name, o, &acc_of));
      t->cols.resize(t->col_name.size());
      first = false;
    }
    seen.assign(t->names.size(), 0);
    for (const auto& [k, v] : j.items()) {
      auto it = index.find(k);
      if (it == index.end()) return fail("key \"" + k + "\" is not among the first line's keys");
      seen[it->second] = 1;
      const int a = acc_of[it->second];
      if (a < 0) continue;
      ColumnAcc& c = t->cols[a];
      if (v.is_null()) c.Add("");
      else if (v.is_boolean()) c.Add(v.get<bool>() ? "true" : "false");
      else if (v.is_number()) c.Add(v.dump());
      else if (v.is_string()) c.Add(v.get_ref<const std::string&>());
      else return fail("\"" + k + "\" is " + (v.is_array() ? "an array" : "an object") + ": want a flat object");
    }
    for (size_t i = 0; i < seen.size(); ++i)
      if (!seen[i] && acc_of[i] >= 0) ++t->cols[acc_of[i]].missing;
    ++t->rows;
  }
  if (first) return Status::InvalidArgument(name + " is empty: want one JSON object per line");
  return Status::OK();
}

// Puts the k-th smallest value at v[k] for every k in positions [a, b),
// each between its neighbours: O(n log bins) instead of a sort.
void SelectPositions(double* v, size_t lo, size_t hi, const size_t* a, const size_t* b) {
  if (a >= b || lo >= hi) return;
  const size_t* mid = a + (b - a) / 2;
  std::nth_element(v + lo, v + *mid, v + hi);
  SelectPositions(v, lo, *mid, a, mid);
  SelectPositions(v, *mid + 1, hi, mid + 1, b);
}

// The values of rank `ranks` (ascending) in v, exactly. On a large column,
// a sorted sample brackets each rank with a value interval that holds it
// with near certainty; one pass counts what lies below each interval and
// collects what lies inside, and only those few values are selected from
// (about 5 times faster than SelectPositions over the whole column). When
// a bracket missed its rank, it falls back to SelectPositions.
std::vector<double> ValuesOfRank(std::vector<double>& v, const std::vector<size_t>& ranks) {
  const size_t n = v.size();
  std::vector<double> out;
  auto exact = [&] {
    SelectPositions(v.data(), 0, n, ranks.data(), ranks.data() + ranks.size());
    out.clear();
    for (size_t k : ranks) out.push_back(v[k]);
    return out;
  };
  constexpr size_t kSample = 1 << 16;
  if (n < 4 * kSample || ranks.empty() || ranks.size() > 64) return exact();
  std::vector<double> sample(kSample);
  for (size_t i = 0; i < kSample; ++i) sample[i] = v[i * (n / kSample)];
  std::sort(sample.begin(), sample.end());
  // Brackets [lo, hi] per rank, merged where they overlap.
  std::vector<double> los, his;
  std::vector<size_t> interval_of(ranks.size());
  for (size_t r = 0; r < ranks.size(); ++r) {
    const double q = static_cast<double>(ranks[r]) / n;
    const double spread = 4.5 * std::sqrt(kSample * q * (1 - q)) + 4;
    const double c = q * kSample;
    const double lo = sample[static_cast<size_t>(std::max(0.0, c - spread))];
    const double hi = sample[static_cast<size_t>(std::min<double>(kSample - 1, c + spread))];
    if (!los.empty() && lo <= his.back()) {
      his.back() = std::max(his.back(), hi);
    } else {
      los.push_back(lo);
      his.push_back(hi);
    }
    interval_of[r] = los.size() - 1;
  }
  const size_t m = los.size();
  std::vector<std::vector<double>> inside(m);
  std::vector<size_t> gap(m + 1, 0);  // gap[j]: values after interval j-1 and before interval j
  for (double x : v) {
    size_t j = 0;  // intervals starting <= x; counted without branches (random data mispredicts a search)
    for (size_t i = 0; i < m; ++i) j += los[i] <= x;
    if (j > 0 && x <= his[j - 1]) inside[j - 1].push_back(x);
    else ++gap[j];
  }
  std::vector<size_t> below(m);
  size_t acc = 0;
  for (size_t j = 0; j < m; ++j) {
    acc += gap[j];
    below[j] = acc;
    acc += inside[j].size();
  }
  out.resize(ranks.size());
  for (size_t j = 0, r = 0; j < m; ++j) {
    std::vector<size_t> local;
    for (; r < ranks.size() && interval_of[r] == j; ++r) {
      if (ranks[r] < below[j] || ranks[r] - below[j] >= inside[j].size()) return exact();
      local.push_back(ranks[r] - below[j]);
    }
    SelectPositions(inside[j].data(), 0, inside[j].size(), local.data(), local.data() + local.size());
    for (size_t i = 0; i < local.size(); ++i) out[r - local.size() + i] = inside[j][local[i]];
  }
  return out;
}

ColumnProfile Finish(ColumnAcc& acc, std::string name, int64_t rows, const ProfileOptions& o) {
  ColumnProfile c;
  c.name = std::move(name);
  c.count = rows;
  c.missing = acc.missing;
  switch (acc.state) {
    case ColumnAcc::State::kEmpty:
      c.type = ColumnType::kNumeric;
      c.fractions = {0};
      break;
    case ColumnAcc::State::kNumeric: {
      c.type = ColumnType::kNumeric;
      std::vector<double>& v = acc.nums;
      const size_t n = v.size();
      auto [mn, mx] = std::minmax_element(v.begin(), v.end());
      c.min = *mn;
      c.max = *mx;
      std::vector<size_t> pos;
      for (int i = 1; i < o.bins; ++i)
        pos.push_back(static_cast<size_t>(static_cast<unsigned __int128>(n) * i / o.bins));
      pos.erase(std::unique(pos.begin(), pos.end()), pos.end());
      for (double e : ValuesOfRank(v, pos))
        if (c.edges.empty() || e > c.edges.back()) c.edges.push_back(e);
      std::vector<int64_t> counts(c.edges.size() + 1, 0);
      if (c.edges.size() <= 64) {
        // NumericBin without branches: a binary search over random data
        // mispredicts at every step (it was a sixth of the time).
        const double* e = c.edges.data();
        const size_t ne = c.edges.size();
        for (double x : v) {
          size_t b = 0;
          for (size_t i = 0; i < ne; ++i) b += e[i] <= x;
          ++counts[b];
        }
      } else {
        for (double x : v) ++counts[c.NumericBin(x)];
      }
      for (int64_t k : counts) c.fractions.push_back(static_cast<double>(k) / n);
      std::vector<double>().swap(v);
      break;
    }
    case ColumnAcc::State::kBoolean: {
      c.type = ColumnType::kBoolean;
      const double n = static_cast<double>(acc.n_true + acc.n_false);
      c.fractions = {acc.n_false / n, acc.n_true / n};
      break;
    }
    case ColumnAcc::State::kText: {
      c.type = ColumnType::kCategorical;
      std::vector<std::pair<std::string, int64_t>> all(acc.text.begin(), acc.text.end());
      std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) {
        return x.second != y.second ? x.second > y.second : x.first < y.first;
      });
      int64_t n = 0;
      for (const auto& [k, m] : all) n += m;
      int64_t kept = 0;
      for (size_t i = 0; i < all.size() && i < static_cast<size_t>(o.top_k); ++i) {
        c.categories.push_back(all[i].first);
        c.fractions.push_back(static_cast<double>(all[i].second) / n);
        kept += all[i].second;
      }
      c.fractions.push_back(static_cast<double>(n - kept) / n);
      break;
    }
  }
  return c;
}

}  // namespace

Result<Profile> BuildProfile(std::string_view text, const std::string& name, const ProfileOptions& opts) {
  if (opts.bins < 2 || opts.bins > 1000) return Status::InvalidArgument("bins must be 2 to 1000");
  if (opts.top_k < 1 || opts.top_k > 1000) return Status::InvalidArgument("top categories must be 1 to 1000");
  if (size_t bad = FirstBadUtf8(text); bad != std::string_view::npos)
    return Status::InvalidArgument(name + ":" + std::to_string(LineOf(text, bad)) + ": bytes that are not UTF-8");
  TableFormat format = opts.format;
  if (format == TableFormat::kAuto) {
    auto ends = [&](std::string_view ext) {
      return name.size() >= ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
    };
    if (ends(".csv")) format = TableFormat::kCsv;
    else if (ends(".jsonl") || ends(".ndjson")) format = TableFormat::kJsonLines;
    else {
      const size_t first = text.find_first_not_of(" \t\r\n");
      format = first != std::string_view::npos && text[first] == '{' ? TableFormat::kJsonLines : TableFormat::kCsv;
    }
  }
  Table t;
  MR_RETURN_IF_ERROR(format == TableFormat::kCsv ? ReadCsv(text, name, opts, &t) : ReadJsonLines(text, name, opts, &t));
  // Quantiles per column, the columns shared among the threads.
  std::vector<ColumnProfile> done(t.cols.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < t.cols.size();) done[i] = Finish(t.cols[i], t.names[t.col_name[i]], t.rows, opts);
  };
  std::vector<std::thread> workers;
  for (int i = 1; i < std::min<int>(opts.threads, static_cast<int>(t.cols.size())); ++i) workers.emplace_back(work);
  work();
  for (auto& w : workers) w.join();
  Profile p;
  p.dataset = opts.dataset;
  p.rows = t.rows;
  for (auto& c : done) {
    if (!opts.output_column.empty() && c.name == opts.output_column) p.output = std::move(c);
    else p.columns.push_back(std::move(c));
  }
  p.schema = SchemaFromProfile(p.columns);
  return p;
}

Result<Profile> BuildProfileFromFile(const std::string& path, const ProfileOptions& opts) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno("open " + path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + " is not a regular file");
  if (st.st_size == 0) return BuildProfile("", path, opts);
  // Mapped, not read: a copy of a large table (and zeroing the buffer
  // first) was a fifth of the time. The file must not shrink meanwhile
  // (reading a page past its new end would raise SIGBUS).
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
  if (map == MAP_FAILED) return Status::FromErrno("mmap " + path, errno);
  ::madvise(map, size, MADV_SEQUENTIAL);
  auto p = BuildProfile(std::string_view(static_cast<const char*>(map), size), path, opts);
  ::munmap(map, size);
  return p;
}

}  // namespace modelreg
