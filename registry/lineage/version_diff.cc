#include "lineage/version_diff.h"

#include <algorithm>
#include <map>

namespace modelreg {
namespace {

// Merges two sorted maps into the changes between them.
template <typename Map, typename ToValue>
void DiffMaps(const Map& a, const Map& b, ToValue value, std::vector<FieldChange>* out) {
  auto ia = a.begin();
  auto ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) {
      out->push_back({ia->first, value(ia->second), std::nullopt});
      ++ia;
    } else if (ia == a.end() || ib->first < ia->first) {
      out->push_back({ib->first, std::nullopt, value(ib->second)});
      ++ib;
    } else {
      ParamValue va = value(ia->second), vb = value(ib->second);
      if (va != vb) out->push_back({ia->first, va, vb});
      ++ia;
      ++ib;
    }
  }
}

std::map<std::string, ParamValue> CodeFields(const LineageRecord& r) {
  std::map<std::string, ParamValue> m;
  if (r.code) {
    m["repo"] = r.code->repo;
    m["commit"] = r.code->commit;
    if (!r.code->branch.empty()) m["branch"] = r.code->branch;
    m["dirty"] = r.code->dirty;
    if (!r.code->entrypoint.empty()) m["entrypoint"] = r.code->entrypoint;
  }
  if (r.parent) m["parent"] = r.parent->str();
  return m;
}

bool SameDataset(const DatasetRef& a, const DatasetRef& b) {
  return a.uri == b.uri && a.digest.has_value() == b.digest.has_value() &&
         (!a.digest || a.digest->str() == b.digest->str());
}

}  // namespace

VersionDiff DiffVersions(const LineageRecord& from, const Manifest& from_manifest, const LineageRecord& to,
                         const Manifest& to_manifest) {
  VersionDiff d;
  auto same = [](const ParamValue& v) { return v; };
  DiffMaps(from.params, to.params, same, &d.params);
  DiffMaps(
      from.metrics, to.metrics, [](double v) { return ParamValue{v}; }, &d.metrics);
  DiffMaps(
      from.environment, to.environment, [](const std::string& v) { return ParamValue{v}; }, &d.environment);
  DiffMaps(CodeFields(from), CodeFields(to), same, &d.code);

  std::map<std::string, DatasetRef> da, db;
  for (const auto& x : from.data) da[x.name] = x;
  for (const auto& x : to.data) db[x.name] = x;
  for (const auto& [name, a] : da) {
    auto it = db.find(name);
    if (it == db.end()) d.data.push_back({name, a, std::nullopt});
    else if (!SameDataset(a, it->second)) d.data.push_back({name, a, it->second});
  }
  for (const auto& [name, b] : db)
    if (!da.count(name)) d.data.push_back({name, std::nullopt, b});
  std::sort(d.data.begin(), d.data.end(), [](const auto& x, const auto& y) { return x.name < y.name; });

  // Layers are sorted by path in both manifests (ParseManifest checks it).
  const auto& la = from_manifest.layers;
  const auto& lb = to_manifest.layers;
  auto entry = [](const Descriptor& l) { return FileEntry{l.title, l.size, l.digest.str()}; };
  size_t i = 0, j = 0;
  while (i < la.size() || j < lb.size()) {
    if (j == lb.size() || (i < la.size() && la[i].title < lb[j].title)) {
      d.files_removed.push_back(entry(la[i++]));
    } else if (i == la.size() || lb[j].title < la[i].title) {
      d.files_added.push_back(entry(lb[j++]));
    } else {
      if (la[i].digest.str() != lb[j].digest.str() || la[i].size != lb[j].size)
        d.files_changed.push_back({la[i].title, entry(la[i]), entry(lb[j])});
      else ++d.files_unchanged;
      ++i;
      ++j;
    }
  }
  return d;
}

}  // namespace modelreg
