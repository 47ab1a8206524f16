#include "core/window_accumulator.h"

#include <algorithm>

namespace modelreg {
namespace {

enum Counter { kN = 0, kMissing = 1, kOutOfRange = 2, kTypeErrors = 3, kUnknownCategory = 4 };

size_t ArmIndex(std::string_view arm) { return arm == "baseline" ? 1 : arm == "candidate" ? 2 : 0; }
const char* ArmOf(size_t i) { return i == 1 ? "baseline" : i == 2 ? "candidate" : ""; }

int64_t FloorTo(int64_t t, int64_t step) {
  int64_t q = t / step;
  if (t % step != 0 && t < 0) --q;
  return q * step;
}

// The bin of a present value in the reference column's own type; false
// when the value cannot be binned there (then it is a type error).
bool BinOf(const ColumnProfile& ref, const Rows& rows, const Cell& cell, size_t* bin) {
  if (ref.type == ColumnType::kCategorical) {
    if (cell.kind == Cell::kString) *bin = ref.CategoryBin(rows.Text(cell));
    else if (cell.kind == Cell::kNumber) *bin = ref.CategoryBin(CategoryText(cell.number));
    else if (cell.kind == Cell::kBool) *bin = ref.CategoryBin(cell.number != 0 ? "true" : "false");
    else return false;
  } else {
    if (cell.kind != Cell::kNumber && cell.kind != Cell::kBool) return false;
    *bin = ref.NumericBin(cell.number);
  }
  return *bin < ref.Bins();
}

}  // namespace

WindowAccumulator::WindowAccumulator(int64_t version, std::string digest, std::shared_ptr<const Profile> profile,
                                     int64_t window_ms)
    : version_(version),
      digest_(std::move(digest)),
      profile_(std::move(profile)),
      window_ms_(std::max<int64_t>(1, window_ms)) {
  if (!profile_) return;
  reference_ = !profile_->columns.empty() || profile_->output.has_value();
  schema_ = profile_->schema;
  if (schema_.columns.empty() && !profile_->columns.empty()) {
    const double margin = schema_.margin;
    schema_ = SchemaFromProfile(profile_->columns);
    schema_.margin = margin;
  }
  for (const auto& c : schema_.columns) {
    Feature f;
    f.name = c.name;
    f.check = PrepareColumn(c, schema_.margin);
    for (const auto& p : profile_->columns)
      if (p.name == c.name && p.Bins() > 0) f.ref = &p;
    f.bin_at = total_bins_;
    if (f.ref) total_bins_ += f.ref->Bins();
    names_.push_back(c.name);
    features_.push_back(std::move(f));
  }
  if (const auto& o = profile_->output; o && o->Bins() > 0) {
    output_column_.name = o->name;
    output_column_.type = o->type;
    if (o->type == ColumnType::kNumeric) {
      output_column_.min = o->min;
      output_column_.max = o->max;
    }
    Feature f;
    f.name = o->name;
    f.check = PrepareColumn(output_column_, schema_.margin);
    f.ref = &*o;
    output_ = std::move(f);
  }
}

void WindowAccumulator::Unreadable(RequestTally* t) {
  *t = RequestTally{};
  t->body = true;
}

void WindowAccumulator::EvaluateCell(const Feature& f, size_t index, const Rows& rows, const Cell& cell, bool check,
                                     RequestTally* t, bool* violated, int64_t row) const {
  int64_t* c = t->counters.data() + index * kCounters;
  SchemaRule rule;
  if (cell.kind == Cell::kMissing) {
    ++c[kMissing];
    rule = f.check.column->required ? SchemaRule::kMissing : SchemaRule::kOk;
  } else {
    rule = CheckCell(f.check, rows, cell);
    size_t bin = 0;
    if (rule == SchemaRule::kType || (f.ref && !BinOf(*f.ref, rows, cell, &bin))) {
      ++c[kTypeErrors];
      if (rule == SchemaRule::kOk) rule = SchemaRule::kType;
    } else {
      ++c[kN];
      if (f.ref) ++t->bins[f.bin_at + bin];
      if (rule == SchemaRule::kRange) ++c[kOutOfRange];
      if (rule == SchemaRule::kCategory) ++c[kUnknownCategory];
    }
  }
  if (rule == SchemaRule::kOk || !check) return;
  *violated = true;
  if (!t->first)
    t->first = Violation{f.name, rule, row, ViolationMessage(*f.check.column, schema_.margin, rule, row, rows, cell)};
}

void WindowAccumulator::Evaluate(const Rows& rows, bool check, RequestTally* t) const {
  t->body = true;
  t->readable = rows.readable();
  t->rows = 0;
  t->violations = 0;
  t->first.reset();
  t->bins.assign(total_bins_, 0);
  t->counters.assign(features_.size() * kCounters, 0);
  if (!t->readable) return;
  t->rows = static_cast<int64_t>(rows.rows);
  if (features_.empty() || rows.width != features_.size()) return;
  size_t next_bad = 0;  // rows.bad_width is in row order
  for (size_t r = 0; r < rows.rows; ++r) {
    bool violated = false;
    if (next_bad < rows.bad_width.size() && rows.bad_width[next_bad].row == r) {
      // Its values cannot be placed: nothing is binned from it.
      if (check) {
        violated = true;
        if (!t->first)
          t->first = Violation{"", SchemaRule::kWidth, static_cast<int64_t>(r), WidthMessage(rows.bad_width[next_bad])};
      }
      ++next_bad;
    } else {
      for (size_t i = 0; i < features_.size(); ++i)
        EvaluateCell(features_[i], i, rows, rows.at(r, i), check, t, &violated, static_cast<int64_t>(r));
    }
    if (violated) ++t->violations;
  }
}

WindowAccumulator::Window& WindowAccumulator::At(std::string_view arm, int64_t now_ms) {
  Window& w = windows_[ArmIndex(arm)];
  const int64_t start = FloorTo(now_ms, window_ms_);
  if (w.start_ms >= 0 && start > w.start_ms) {
    ended_.push_back(Finish(ArmIndex(arm), w));  // no Roll since it ended: keep it for the next
    w = Window{};
  }
  if (w.start_ms < 0) {  // a clock that went back keeps adding to the open window
    w.start_ms = start;
    w.bins.assign(total_bins_, 0);
    w.counters.assign(features_.size() * kCounters, 0);
    if (output_) w.out_bins.assign(output_->ref->Bins(), 0);
  }
  return w;
}

void WindowAccumulator::Add(std::string_view arm, const RequestTally& t, bool rejected, int64_t now_ms) {
  std::lock_guard<std::mutex> l(mu_);
  Window& w = At(arm, now_ms);
  ++w.requests;
  if (rejected) ++w.rejected;
  if (!t.readable) {
    ++w.unreadable;
    return;
  }
  w.rows += t.rows;
  w.violations += t.violations;
  if (t.bins.size() == w.bins.size())
    for (size_t i = 0; i < t.bins.size(); ++i) w.bins[i] += t.bins[i];
  if (t.counters.size() == w.counters.size())
    for (size_t i = 0; i < t.counters.size(); ++i) w.counters[i] += t.counters[i];
}

void WindowAccumulator::AddOutputs(std::string_view arm, const Rows& outputs, int64_t now_ms) {
  if (!output_ || !outputs.readable() || outputs.width != 1) return;
  RequestTally t;
  t.bins.assign(output_->ref->Bins(), 0);
  t.counters.assign(kCounters, 0);
  bool violated = false;
  for (size_t r = 0; r < outputs.rows; ++r)
    EvaluateCell(*output_, 0, outputs, outputs.at(r, 0), false, &t, &violated, static_cast<int64_t>(r));
  std::lock_guard<std::mutex> l(mu_);
  Window& w = At(arm, now_ms);
  w.outputs_seen = true;
  for (size_t i = 0; i < t.bins.size(); ++i) w.out_bins[i] += t.bins[i];
  for (int i = 0; i < kCounters; ++i) w.out_counters[i] += t.counters[i];
}

MonitorWindow WindowAccumulator::Finish(size_t arm, Window& w) const {
  MonitorWindow m;
  m.version = version_;
  m.digest = digest_;
  m.arm = ArmOf(arm);
  m.start_ms = w.start_ms;
  m.end_ms = w.start_ms + window_ms_;
  m.reference = reference_;
  m.requests = w.requests;
  m.rows = w.rows;
  m.unreadable = w.unreadable;
  m.violations = w.violations;
  m.rejected = w.rejected;
  auto feature = [](const std::string& name, const int64_t* c, std::vector<int64_t> counts) {
    return FeatureWindow{
        name, c[kN], c[kMissing], c[kOutOfRange], c[kTypeErrors], c[kUnknownCategory], std::move(counts)};
  };
  for (size_t i = 0; i < features_.size(); ++i) {
    const Feature& f = features_[i];
    std::vector<int64_t> counts;
    if (f.ref && reference_)
      counts.assign(w.bins.begin() + static_cast<ptrdiff_t>(f.bin_at),
                    w.bins.begin() + static_cast<ptrdiff_t>(f.bin_at + f.ref->Bins()));
    m.features.push_back(feature(f.name, w.counters.data() + i * kCounters, std::move(counts)));
  }
  if (output_ && w.outputs_seen) m.output = feature(output_->name, w.out_counters.data(), w.out_bins);
  return m;
}

void WindowAccumulator::Roll(int64_t now_ms, std::vector<MonitorWindow>* out) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& w : ended_) out->push_back(std::move(w));
  ended_.clear();
  for (size_t i = 0; i < windows_.size(); ++i) {
    Window& w = windows_[i];
    if (w.start_ms >= 0 && w.start_ms + window_ms_ <= now_ms) {
      out->push_back(Finish(i, w));
      w = Window{};
    }
  }
}

bool WindowAccumulator::open() const {
  std::lock_guard<std::mutex> l(mu_);
  if (!ended_.empty()) return true;
  for (const auto& w : windows_)
    if (w.start_ms >= 0) return true;
  return false;
}

}  // namespace modelreg
