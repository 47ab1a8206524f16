// Decoders of the JSON forms written by json_codec.cc / json_codec_lineage.cc
// (json_codec.h). Every access is type-checked first, so nothing throws.
#include "codec/json_codec.h"
#include "core/clock.h"

namespace modelreg::codec {
using nlohmann::json;

namespace {

// Reads the fields of one JSON object, keeping the first problem found.
class FieldReader {
 public:
  FieldReader(const json& j, const char* what) : j_(j), what_(what) {
    if (!j.is_object()) Fail("", "must be a JSON object");
  }

  // Required fields.
  void Str(const char* k, std::string* out) { Read(k, true, out); }
  void Int(const char* k, int64_t* out) { Read(k, true, out); }
  void Bool(const char* k, bool* out) { Read(k, true, out); }
  void Time(const char* k, int64_t* out) { ReadTime(k, true, out); }
  // Optional: absent or null leaves `*out` as it is.
  void OptStr(const char* k, std::string* out) { Read(k, false, out); }
  void OptInt(const char* k, int64_t* out) { Read(k, false, out); }
  void OptBool(const char* k, bool* out) { Read(k, false, out); }
  void OptDouble(const char* k, double* out) { Read(k, false, out); }
  void OptTime(const char* k, int64_t* out) { ReadTime(k, false, out); }
  void OptInt(const char* k, std::optional<int64_t>* out) {
    int64_t v = 0;
    if (Present(k) && Read(k, false, &v)) *out = v;
  }
  void OptTime(const char* k, std::optional<int64_t>* out) {
    int64_t v = 0;
    if (Present(k) && ReadTime(k, false, &v)) *out = v;
  }
  void StrList(const char* k, std::vector<std::string>* out) {
    const json* v = Field(k, false);
    if (!v) return;
    if (!v->is_array()) return Fail(k, "must be an array of strings");
    for (const auto& s : *v) {
      if (!s.is_string()) return Fail(k, "must be an array of strings");
      out->push_back(s.get<std::string>());
    }
  }
  // A nested record or list of records, decoded with FromJson.
  template <typename T>
  void Nested(const char* k, bool required, T* out) {
    const json* v = Field(k, required);
    if (v) Check(k, FromJson(*v, out));
  }
  template <typename T>
  void Nested(const char* k, std::optional<T>* out) {
    const json* v = Field(k, false);
    if (!v) return;
    T x;
    if (Check(k, FromJson(*v, &x))) *out = std::move(x);
  }
  template <typename T>
  void List(const char* k, std::vector<T>* out) {
    const json* v = Field(k, false);
    if (!v) return;
    if (!v->is_array()) return Fail(k, "must be an array");
    for (const auto& e : *v) {
      T x;
      if (!Check(k, FromJson(e, &x))) return;
      out->push_back(std::move(x));
    }
  }
  // A string-keyed object of numbers or strings.
  template <typename Map>
  void ObjectMap(const char* k, Map* out) {
    const json* v = Field(k, false);
    if (!v) return;
    if (!v->is_object()) return Fail(k, "must be an object");
    for (const auto& [key, val] : v->items()) {
      typename Map::mapped_type x{};
      if (!Convert(val, &x)) return Fail(k, "holds a value of the wrong type at '" + key + "'");
      out->emplace(key, std::move(x));
    }
  }

  const json* Field(const char* k, bool required) {
    if (!st_.ok()) return nullptr;
    auto it = j_.find(k);
    if (it == j_.end() || it->is_null()) {
      if (required) Fail(k, "is missing");
      return nullptr;
    }
    return &*it;
  }
  bool Present(const char* k) const {
    if (!st_.ok()) return false;
    auto it = j_.find(k);
    return it != j_.end() && !it->is_null();
  }
  // A nested decoder's problem, under this field's name.
  bool Check(const char* k, const Status& st) {
    if (!st.ok() && st_.ok()) st_ = Status::InvalidArgument(Where(k) + ": " + st.message());
    return st.ok();
  }
  // "version.stage is missing".
  void Fail(const std::string& k, const std::string& problem) {
    if (st_.ok()) st_ = Status::InvalidArgument(Where(k) + " " + problem);
  }
  const Status& status() const { return st_; }

 private:
  static bool Convert(const json& v, std::string* out) {
    if (!v.is_string()) return false;
    *out = v.get<std::string>();
    return true;
  }
  static bool Convert(const json& v, int64_t* out) {
    if (!v.is_number_integer()) return false;
    *out = v.get<int64_t>();
    return true;
  }
  static bool Convert(const json& v, double* out) {
    if (!v.is_number()) return false;
    *out = v.get<double>();
    return true;
  }
  static bool Convert(const json& v, bool* out) {
    if (!v.is_boolean()) return false;
    *out = v.get<bool>();
    return true;
  }
  template <typename T>
  bool Read(const char* k, bool required, T* out) {
    const json* v = Field(k, required);
    if (!v) return false;
    if (!Convert(*v, out)) {
      Fail(k, "has the wrong type");
      return false;
    }
    return true;
  }
  bool ReadTime(const char* k, bool required, int64_t* out) {
    std::string text;
    if (!Read(k, required, &text)) return false;
    auto ms = ParseTimeMs(text);
    if (!ms.ok()) {
      Fail(k, "is not a time: " + text);
      return false;
    }
    *out = *ms;
    return true;
  }

  std::string Where(const std::string& k) const { return k.empty() ? what_ : what_ + ("." + k); }

  const json& j_;
  std::string what_;
  Status st_;
};

}  // namespace

Status FromJson(const json& j, ModelRecord* out) {
  FieldReader r(j, "model");
  r.Str("name", &out->name);
  r.OptTime("created_at", &out->created_at_ms);
  r.OptStr("created_by", &out->created_by);
  r.OptInt("version_count", &out->version_count);
  r.OptTime("last_change", &out->last_change_ms);
  r.OptInt("latest_version", &out->latest_version);
  r.OptInt("production_version", &out->production_version);
  return r.status();
}

Status FromJson(const json& j, VersionRecord* out) {
  FieldReader r(j, "version");
  r.Str("model", &out->model);
  r.Int("version", &out->number);
  r.Str("digest", &out->digest);
  r.OptStr("config_digest", &out->config_digest);
  r.OptInt("manifest_size", &out->manifest_size);
  r.OptInt("file_count", &out->file_count);
  r.OptInt("total_bytes", &out->total_bytes);
  r.Str("stage", &out->stage);
  r.OptTime("created_at", &out->created_at_ms);
  r.OptStr("created_by", &out->created_by);
  r.OptStr("parent", &out->parent_digest);
  if (const json* code = r.Field("code", false)) {
    FieldReader c(*code, "version.code");
    c.OptStr("repo", &out->code_repo);
    c.Str("commit", &out->code_commit);
    bool dirty = false;
    c.OptBool("dirty", &dirty);
    out->code_dirty = dirty;
    r.Check("code", c.status());
  }
  if (const json* del = r.Field("deleted", false)) {
    FieldReader d(*del, "version.deleted");
    int64_t at = 0;
    d.OptTime("at", &at);
    out->deleted_at_ms = at;
    d.OptStr("by", &out->deleted_by);
    d.OptStr("reason", &out->delete_reason);
    r.Check("deleted", d.status());
  }
  return r.status();
}

Status FromJson(const json& j, ApprovalInfo* out) {
  FieldReader r(j, "approval");
  r.Str("approver", &out->approver);
  r.OptStr("comment", &out->comment);
  r.OptTime("time", &out->created_at_ms);
  return r.status();
}

Status FromJson(const json& j, VersionDetail* out) {
  MR_RETURN_IF_ERROR(FromJson(j, &out->version));
  FieldReader r(j, "version");
  if (const json* data = r.Field("data", false)) {
    if (!data->is_array()) return Status::InvalidArgument("version.data must be an array");
    for (const auto& d : *data) {
      FieldReader dr(d, "version.data[]");
      DatasetRow row;
      dr.Str("name", &row.name);
      dr.OptStr("uri", &row.uri);
      dr.OptStr("digest", &row.digest);
      if (!r.Check("data", dr.status())) break;
      out->datasets.push_back(std::move(row));
    }
  }
  std::map<std::string, double> metrics;
  r.ObjectMap("metrics", &metrics);
  out->metrics.assign(metrics.begin(), metrics.end());
  r.List("approvals", &out->approvals);
  return r.status();
}

Status FromJson(const json& j, TokenRecord* out) {
  FieldReader r(j, "token");
  r.Str("name", &out->name);
  std::string role;
  r.Str("role", &role);
  if (r.status().ok()) {
    auto parsed = ParseRole(role);
    if (!r.Check("role", parsed.status())) return r.status();
    out->role = *parsed;
  }
  r.StrList("models", &out->model_globs);
  r.OptTime("created_at", &out->created_at_ms);
  r.OptStr("created_by", &out->created_by);
  r.OptTime("revoked_at", &out->revoked_at_ms);
  r.OptTime("expires_at", &out->expires_at_ms);
  return r.status();
}

Status FromJson(const json& j, AuditEvent* out) {
  FieldReader r(j, "audit event");
  r.Int("seq", &out->seq);
  if (r.Present("at_ms")) r.Int("at_ms", &out->at_ms);
  else r.Time("time", &out->at_ms);
  r.Str("actor", &out->actor);
  r.Str("action", &out->action);
  r.OptStr("model", &out->model);
  r.OptInt("version", &out->version);
  r.OptStr("prev_hash", &out->prev_hash);
  r.OptStr("hash", &out->hash);
  // The encoder parses the details text into JSON where it can; give it
  // back as text (compact, as stored).
  if (const json* d = r.Field("details", false)) out->details = d->is_string() ? d->get<std::string>() : JsonText(*d);
  return r.status();
}

Status FromJson(const json& j, AuditVerifyResult* out) {
  FieldReader r(j, "audit verification");
  r.Bool("ok", &out->ok);
  int64_t checked = 0;
  r.OptInt("checked", &checked);
  out->checked = static_cast<uint64_t>(checked);
  r.OptStr("head_hash", &out->head_hash);
  r.OptInt("first_bad_seq", &out->first_bad_seq);
  r.OptStr("problem", &out->problem);
  return r.status();
}

Status FromJson(const json& j, Policy* out) {
  // The server's answer has exactly the fields a client sends.
  auto p = PolicyFromJson(j);
  if (!p.ok()) return Status::InvalidArgument("policy: " + p.status().message());
  *out = std::move(*p);
  return Status::OK();
}

Status FromJson(const json& j, StageChange* out) {
  FieldReader r(j, "stage change");
  r.Int("version", &out->version);
  r.Str("from", &out->from_stage);
  r.Str("to", &out->to_stage);
  r.OptStr("kind", &out->kind);
  r.OptStr("actor", &out->actor);
  r.OptStr("reason", &out->reason);
  r.OptTime("time", &out->at_ms);
  return r.status();
}

Status FromJson(const json& j, ParamValue* out) {
  if (j.is_null()) *out = std::monostate{};
  else if (j.is_boolean()) *out = j.get<bool>();
  else if (j.is_number_integer()) *out = j.get<int64_t>();
  else if (j.is_number()) *out = j.get<double>();
  else if (j.is_string()) *out = j.get<std::string>();
  else return Status::InvalidArgument("a parameter must be a JSON scalar");
  return Status::OK();
}

Status FromJson(const json& j, VersionRef* out) {
  FieldReader r(j, "version reference");
  r.Str("model", &out->model);
  r.Int("version", &out->version);
  r.OptStr("digest", &out->digest);
  r.OptStr("stage", &out->stage);
  return r.status();
}

Status FromJson(const json& j, AgentInfo* out) {
  FieldReader r(j, "agent");
  r.Str("id", &out->id);
  r.OptStr("host", &out->host);
  r.OptStr("model", &out->model);
  r.OptStr("stage", &out->stage);
  r.OptInt("version", &out->version);
  r.OptStr("digest", &out->digest);
  r.OptStr("state", &out->state);
  r.OptStr("last_error", &out->last_error);
  r.OptStr("token", &out->token_name);
  r.OptTime("last_seen", &out->last_seen_ms);
  r.OptTime("last_change", &out->last_change_ms);
  double heartbeat_s = 0;
  r.OptDouble("heartbeat_s", &heartbeat_s);
  out->heartbeat_ms = static_cast<int64_t>(heartbeat_s * 1000.0 + 0.5);
  if (const json* spool = r.Field("spool", false)) {
    FieldReader s(*spool, "agent.spool");
    s.OptInt("pending_bytes", &out->spool_pending_bytes);
    s.OptInt("max_bytes", &out->spool_max_bytes);
    s.OptInt("dropped", &out->decisions_dropped);
    r.Check("spool", s.status());
  }
  return r.status();
}

Status FromJson(const json& j, DecisionRecord* out) {
  FieldReader r(j, "decision");
  r.Str("request_id", &out->request_id);
  r.OptStr("model", &out->model);
  r.OptInt("version", &out->version);
  r.OptStr("digest", &out->digest);
  r.OptStr("agent_id", &out->agent_id);
  if (r.Present("at_ms")) r.Int("at_ms", &out->at_ms);
  else r.OptTime("time", &out->at_ms);
  r.OptStr("input_sha256", &out->input_sha256);
  r.OptTime("received", &out->received_at_ms);
  if (r.Present("output")) {
    std::string output;
    r.OptStr("output", &output);
    out->output = std::move(output);
  }
  r.OptStr("arm", &out->arm);
  r.OptInt("rollout_id", &out->rollout_id);
  r.OptStr("fallback", &out->fallback);
  return r.status();
}

Status FromJson(const json& j, LineageRecord* out) {
  FieldReader r(j, "lineage");
  r.OptStr("model", &out->model);
  if (const json* data = r.Field("data", false)) {
    if (!data->is_array()) return Status::InvalidArgument("lineage.data must be an array");
    for (const auto& d : *data) {
      FieldReader dr(d, "lineage.data[]");
      DatasetRef ref;
      dr.Str("name", &ref.name);
      dr.OptStr("uri", &ref.uri);
      std::string digest;
      dr.OptStr("digest", &digest);
      if (dr.status().ok() && !digest.empty()) {
        auto parsed = Digest::Parse(digest);
        if (dr.Check("digest", parsed.status())) ref.digest = *parsed;
      }
      if (!r.Check("data", dr.status())) break;
      out->data.push_back(std::move(ref));
    }
  }
  if (const json* params = r.Field("params", false)) {
    if (!params->is_object()) return Status::InvalidArgument("lineage.params must be an object");
    for (const auto& [k, v] : params->items()) {
      ParamValue pv;
      if (!r.Check("params", FromJson(v, &pv))) break;
      out->params.emplace(k, std::move(pv));
    }
  }
  r.ObjectMap("metrics", &out->metrics);
  r.ObjectMap("environment", &out->environment);
  if (const json* code = r.Field("code", false)) {
    FieldReader c(*code, "lineage.code");
    CodeRef ref;
    c.OptStr("repo", &ref.repo);
    c.Str("commit", &ref.commit);
    c.OptStr("branch", &ref.branch);
    c.OptBool("dirty", &ref.dirty);
    c.OptStr("entrypoint", &ref.entrypoint);
    if (r.Check("code", c.status())) out->code = std::move(ref);
  }
  std::string parent;
  r.OptStr("parent", &parent);
  if (r.status().ok() && !parent.empty()) {
    auto parsed = Digest::Parse(parent);
    if (r.Check("parent", parsed.status())) out->parent = *parsed;
  }
  if (const json* prof = r.Field("profile", false); prof && !prof->is_null()) {
    FieldReader pr(*prof, "lineage.profile");
    std::string digest;
    int64_t size = 0;
    pr.Str("digest", &digest);
    pr.Int("size", &size);
    if (pr.status().ok()) {
      auto parsed = Digest::Parse(digest);
      if (pr.Check("digest", parsed.status())) out->profile = ProfileRef{*parsed, static_cast<uint64_t>(size)};
    }
    r.Check("profile", pr.status());
  }
  return r.status();
}

Status FromJson(const json& j, VersionLineage* out) {
  // The encoder merges the version row and the lineage record into one
  // object (the record's code block wins over the row's summary).
  MR_RETURN_IF_ERROR(FromJson(j, &out->record));
  json row = j;
  row.erase("code");
  row.erase("parent");
  MR_RETURN_IF_ERROR(FromJson(row, &out->version));
  if (out->record.code) {
    out->version.code_repo = out->record.code->repo;
    out->version.code_commit = out->record.code->commit;
    out->version.code_dirty = out->record.code->dirty;
  }
  if (out->record.parent) out->version.parent_digest = out->record.parent->str();
  FieldReader r(j, "lineage");
  r.List("parents", &out->parents);
  r.OptBool("parents_truncated", &out->parents_truncated);
  r.OptStr("unresolved_parent", &out->unresolved_parent);
  r.List("children", &out->children);
  r.List("serving", &out->serving);
  return r.status();
}

Status FromJson(const json& j, AgentStateAt* out) {
  FieldReader r(j, "agent state");
  r.Str("agent", &out->agent);
  r.Str("state", &out->state);
  r.OptBool("gap", &out->gap);
  r.OptInt("version", &out->version);
  r.OptStr("digest", &out->digest);
  r.OptStr("error", &out->error);
  r.OptTime("since", &out->since_ms);
  r.OptTime("confirmed_until", &out->confirmed_until_ms);
  r.OptStr("last_state", &out->last_state);
  r.OptTime("heard_again", &out->heard_again_ms);
  return r.status();
}

Status FromJson(const json& j, LiveAt* out) {
  FieldReader r(j, "live at");
  r.Str("model", &out->model);
  if (r.Present("at_ms")) r.Int("at_ms", &out->at_ms);
  else r.Time("at", &out->at_ms);
  r.List("agents", &out->agents);
  r.Nested("production", &out->production);
  if (out->production) {
    FieldReader pr(j["production"], "live at.production");
    pr.OptTime("since", &out->production_since_ms);
    r.Check("production", pr.status());
  }
  return r.status();
}

Status FromJson(const json& j, DownstreamEntry* out) {
  MR_RETURN_IF_ERROR(FromJson(j, &out->version));
  FieldReader r(j, "downstream version");
  int64_t depth = 0;
  r.OptInt("depth", &depth);
  out->depth = static_cast<int>(depth);
  r.OptStr("via", &out->via);
  r.List("serving", &out->serving);
  return r.status();
}

Status FromJson(const json& j, DownstreamPage* out) {
  FieldReader r(j, "downstream");
  r.List("versions", &out->entries);
  r.OptInt("total", &out->total);
  r.OptBool("truncated", &out->truncated);
  r.OptInt("next_offset", &out->next_offset);
  return r.status();
}

Status FromJson(const json& j, DecisionAudit* out) {
  FieldReader r(j, "decision audit");
  r.Nested("decision", true, &out->decision);
  r.List("approvals", &out->approvals);
  r.List("promotions", &out->promotions);
  r.Nested("version", &out->lineage);
  r.Nested("agent_at_time", &out->agent_at_time);
  r.Nested("production_at_time", &out->production_at_time);
  return r.status();
}

namespace {

// {"name"|"field": ..., "from": param|null, "to": param|null}
Status FieldChanges(const json& j, const char* key, const char* name_key, std::vector<FieldChange>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::OK();
  if (!it->is_array()) return Status::InvalidArgument(std::string("diff.") + key + " must be an array");
  for (const auto& e : *it) {
    FieldReader r(e, "diff change");
    FieldChange c;
    r.Str(name_key, &c.name);
    for (auto [side, dest] : {std::pair{"from", &c.from}, std::pair{"to", &c.to}}) {
      if (!r.Present(side)) continue;
      ParamValue v;
      if (r.Check(side, FromJson(e[side], &v))) *dest = std::move(v);
    }
    if (!r.status().ok()) return Status::InvalidArgument(std::string("diff.") + key + ": " + r.status().message());
    out->push_back(std::move(c));
  }
  return Status::OK();
}

Status FileOf(const json& j, const char* what, FileEntry* out) {
  FieldReader r(j, what);
  r.OptStr("path", &out->path);
  int64_t size = 0;
  r.OptInt("size", &size);
  out->size = static_cast<uint64_t>(size);
  r.OptStr("digest", &out->digest);
  return r.status();
}

}  // namespace

Status FromJson(const json& j, VersionDiffResult* out) {
  FieldReader r(j, "diff");
  r.Nested("from", true, &out->from);
  r.Nested("to", true, &out->to);
  MR_RETURN_IF_ERROR(r.status());
  VersionDiff& d = out->diff;
  MR_RETURN_IF_ERROR(FieldChanges(j, "params", "name", &d.params));
  MR_RETURN_IF_ERROR(FieldChanges(j, "metrics", "name", &d.metrics));
  MR_RETURN_IF_ERROR(FieldChanges(j, "environment", "name", &d.environment));
  MR_RETURN_IF_ERROR(FieldChanges(j, "code", "field", &d.code));
  if (const json* data = r.Field("data", false)) {
    if (!data->is_array()) return Status::InvalidArgument("diff.data must be an array");
    for (const auto& e : *data) {
      FieldReader dr(e, "diff.data[]");
      DatasetChange c;
      dr.Str("name", &c.name);
      for (auto [side, dest] : {std::pair{"from", &c.from}, std::pair{"to", &c.to}}) {
        const json* x = dr.Field(side, false);
        if (!x) continue;
        FieldReader xr(*x, "diff.data[].side");
        DatasetRef ref;
        ref.name = c.name;
        xr.OptStr("uri", &ref.uri);
        std::string digest;
        xr.OptStr("digest", &digest);
        if (xr.status().ok() && !digest.empty()) {
          auto parsed = Digest::Parse(digest);
          if (xr.Check("digest", parsed.status())) ref.digest = *parsed;
        }
        if (dr.Check(side, xr.status())) *dest = std::move(ref);
      }
      MR_RETURN_IF_ERROR(dr.status());
      d.data.push_back(std::move(c));
    }
  }
  if (const json* files = r.Field("files", false)) {
    FieldReader fr(*files, "diff.files");
    for (auto [key, dest] : {std::pair{"added", &d.files_added}, std::pair{"removed", &d.files_removed}}) {
      const json* list = fr.Field(key, false);
      if (!list) continue;
      if (!list->is_array()) return Status::InvalidArgument(std::string("diff.files.") + key + " must be an array");
      for (const auto& e : *list) {
        FileEntry f;
        MR_RETURN_IF_ERROR(FileOf(e, "diff.files entry", &f));
        dest->push_back(std::move(f));
      }
    }
    if (const json* changed = fr.Field("changed", false)) {
      if (!changed->is_array()) return Status::InvalidArgument("diff.files.changed must be an array");
      for (const auto& e : *changed) {
        FieldReader cr(e, "diff.files.changed[]");
        FileChange c;
        cr.Str("path", &c.path);
        MR_RETURN_IF_ERROR(cr.status());
        if (const json* from = cr.Field("from", false))
          MR_RETURN_IF_ERROR(FileOf(*from, "diff.files.changed[].from", &c.from));
        if (const json* to = cr.Field("to", false)) MR_RETURN_IF_ERROR(FileOf(*to, "diff.files.changed[].to", &c.to));
        c.from.path = c.to.path = c.path;
        d.files_changed.push_back(std::move(c));
      }
    }
    int64_t unchanged = 0;
    fr.OptInt("unchanged", &unchanged);
    d.files_unchanged = static_cast<uint64_t>(unchanged);
    MR_RETURN_IF_ERROR(fr.status());
  }
  return r.status();
}

}  // namespace modelreg::codec
