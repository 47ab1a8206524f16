// modelreg rollout start|status|advance|abort|finish (docs/rollouts.md),
// over REST.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>

#include "client/api_path.h"
#include "common.h"
#include "core/flag_values.h"
#include "core/rollout_judge.h"
#include "core/terminal_text.h"
#include "core/traffic_split.h"

namespace modelreg::cli {
namespace {

using nlohmann::json;

double Num(const json& j, const char* k) {
  return j.is_object() && j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0.0;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "5 %", "12.5 %": a share as the user typed it.
std::string PctText(double pct) {
  std::string s = Fixed(pct, 2);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + " %";
}

std::string Summary(const json& r) {
  const std::string mode = FieldText(r, "mode");
  std::string s = "rollout " + FieldText(r, "id") + " of " + FieldText(r, "model") + ": " + mode + " of version " +
                  FieldText(r["candidate"], "version") + " beside version " + FieldText(r["baseline"], "version");
  if (mode != "shadow") s += " at " + PctText(Num(r, "weight_pct"));
  return s + " (" + FieldText(r, "state") + ")";
}

int PrintRollout(const Args& args, const Result<json>& out, const char* verb) {
  if (!out.ok()) return FailStageChange(out.status());
  if (WantJson(args)) {
    PrintJson(*out);
    return kExitOk;
  }
  const json& r = (*out)["rollout"];
  std::cout << verb << " " << Summary(r) << "\n";
  return kExitOk;
}

int Start(const Args& args) {
  const std::string& model = args.Pos(1, "MODEL");
  const std::string& version = args.Pos(2, "VERSION");
  const int modes = args.Has("--shadow") + static_cast<int>(args.Get("--canary").has_value()) +
                    static_cast<int>(args.Get("--ab").has_value());
  if (modes != 1) throw UsageError("rollout start needs one of --shadow, --canary PCT or --ab PCT");
  json body = {{"version", version}};
  if (args.Has("--shadow")) {
    body["mode"] = "shadow";
  } else if (auto canary = args.Get("--canary")) {
    body["mode"] = "canary";
    auto first = ParseTrafficPercent(*canary, "--canary");
    if (!first.ok()) throw UsageError(first.status().message());
    json steps = json::array({*first / 100.0});
    if (auto more = args.Get("--steps")) {
      auto parsed = ParseRolloutSteps(*more);
      if (!parsed.ok()) throw UsageError(parsed.status().message());
      // --canary is the first step; the listed ones follow it.
      for (int bp : *parsed)
        if (bp > *first) steps.push_back(bp / 100.0);
    }
    body["steps_pct"] = steps;
  } else {
    body["mode"] = "ab";
    auto share = ParseTrafficPercent(*args.Get("--ab"), "--ab");
    if (!share.ok()) throw UsageError(share.status().message());
    body["weight_pct"] = *share / 100.0;
  }
  if (args.Get("--steps") && !args.Get("--canary")) throw UsageError("--steps goes with --canary");
  if (auto every = args.Get("--step-every")) {
    auto s = ParseSecondsFlag(*every, "--step-every");
    if (!s.ok()) throw UsageError(s.status().message());
    body["step_every_s"] = *s;
  }
  if (args.Has("--auto-advance")) body["auto_advance"] = true;
  if (auto h = args.Get("--key-header")) body["key_header"] = *h;
  if (auto o = args.Get("--override")) body["override_reason"] = *o;
  if (auto h = args.Get("--horizon")) {
    // The range is the registry's to check (0, or 1 000 .. 10^9): its 400 says so.
    auto n = ParseCountFlag(*h, "--horizon", 0, std::numeric_limits<int64_t>::max());
    if (!n.ok()) throw UsageError(n.status().message());
    body["horizon_requests"] = *n;
  }
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  return PrintRollout(args, (*client)->SendJson("POST", ApiPath({"models", model, "rollout"}), body), "started");
}

std::string ArmLine(const char* name, const json& a) {
  std::string line = std::string(name) + "  version " + FieldText(a, "version") + "  requests " +
                     FieldText(a, "requests") + "  errors " + FieldText(a, "errors") + " (" +
                     Fixed(100 * Num(a, "error_rate"), 2) + " %)";
  if (a.contains("p50_ms"))
    line += "  p50 " + Fixed(Num(a, "p50_ms"), 1) + " ms  p99 " + Fixed(Num(a, "p99_ms"), 1) + " ms";
  else line += "  latency: no samples yet";
  return line;
}

int Status_(const Args& args) {
  const std::string& model = args.Pos(1, "MODEL");
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  auto out = (*client)->GetJson(ApiPath({"models", model, "rollout"}));
  if (!out.ok()) return Fail(out.status());
  if (WantJson(args)) {
    PrintJson(*out);
    return kExitOk;
  }
  const json& r = (*out)["rollout"];
  std::cout << Summary(r) << "\n";
  if (FieldText(r, "mode") == "canary") {
    std::string steps;
    for (const auto& s : r["steps_pct"]) steps += (steps.empty() ? "" : " -> ") + PctText(s.get<double>());
    std::cout << "  steps     " << steps << " (now step " << Num(r, "step") + 1 << ")"
              << (r.value("auto_advance", false) ? ", advancing every " + Fixed(Num(r, "step_every_s"), 0) + " s" : "")
              << "\n";
  }
  const int64_t horizon = r.value("horizon_requests", int64_t{0});
  std::cout << "  judge     "
            << (horizon > 0 ? "planned horizon " + std::to_string(horizon) + " requests per step (looks at " +
                                  std::to_string(HorizonLookRequests(horizon, 0)) + ", " +
                                  std::to_string(HorizonLookRequests(horizon, 1)) + ", " +
                                  std::to_string(HorizonLookRequests(horizon, 2)) + ") and always-valid test"
                            : std::string("always-valid test only (no planned horizon)"));
  if (out->contains("last_look")) {
    const json& l = (*out)["last_look"];
    std::cout << "; last look " << FieldText(l, "look") << " at " << FieldText(l, "requests") << " requests: p "
              << Fixed(Num(l, "p_value"), 5) << (Num(l, "p_value") <= Num(l, "level") ? " <= " : " > ") << "level "
              << Fixed(Num(l, "level"), 5);
  }
  std::cout << "\n";
  std::cout << "  routing   "
            << (FieldText(r, "key_header").empty() ? "by request id" : "by header " + FieldText(r, "key_header"))
            << "\n";
  std::cout << "  started   " << FieldText(r, "started_at") << " by " << FieldText(r, "started_by") << "\n";
  if (r.contains("ended_at"))
    std::cout << "  ended     " << FieldText(r, "ended_at") << " by " << FieldText(r, "ended_by")
              << (FieldText(r, "reason").empty() ? "" : ": " + FieldText(r, "reason")) << "\n";
  const json& arms = (*out)["arms"];
  std::cout << "  " << ArmLine("baseline ", arms["baseline"]) << "\n";
  std::cout << "  " << ArmLine("candidate", arms["candidate"]) << "\n";
  if (out->contains("shadow")) {
    const json& s = (*out)["shadow"];
    std::cout << "  shadow    compared " << FieldText(s, "compared") << ": equal " << FieldText(s, "equal")
              << ", numeric difference " << FieldText(s, "numeric_diff") << " (max " << Num(s, "max_abs_diff")
              << "), differ " << FieldText(s, "differ") << ", dropped " << FieldText(s, "dropped") << " (agreement "
              << Fixed(100 * Num(s, "agreement"), 1) << " %)\n";
  }
  std::cout << "  agents    " << FieldText(*out, "reporters") << " reporting\n";
  if (out->contains("verdict")) {
    const json& v = (*out)["verdict"];
    std::cout << "  verdict   " << FieldText(v, "decision") << ": " << FieldText(v, "reason") << "\n";
  }
  return kExitOk;
}

int Simple(const Args& args, const std::string& sub) {
  const std::string& model = args.Pos(1, "MODEL");
  json body = json::object();
  if (sub == "abort") {
    auto reason = args.Get("--reason");
    if (!reason || reason->empty()) throw UsageError("rollout abort needs --reason TEXT");
    body["reason"] = *reason;
  }
  auto client = MakeClient(args);
  if (!client.ok()) return Fail(client.status());
  const char* verb = sub == "advance" ? "advanced" : sub == "abort" ? "aborted" : "finished";
  return PrintRollout(args, (*client)->SendJson("POST", ApiPath({"models", model, "rollout", sub}), body), verb);
}

}  // namespace

int CmdRollout(const std::vector<std::string>& argv) {
  Args args(argv,
            Merge(GlobalValueFlags(), {"--canary", "--ab", "--steps", "--step-every", "--key-header", "--override",
                                       "--reason", "--horizon"}),
            Merge(GlobalBoolFlags(), {"--shadow", "--auto-advance"}));
  const std::string& sub = args.Pos(0, "subcommand (start, status, advance, abort, finish)");
  if (sub == "start") {
    args.ExpectPositional(3, 3);
    return Start(args);
  }
  if (sub == "status" || sub == "advance" || sub == "abort" || sub == "finish") {
    args.ExpectPositional(2, 2);
    return sub == "status" ? Status_(args) : Simple(args, sub);
  }
  throw UsageError("unknown rollout subcommand '" + sub + "'");
}

}  // namespace modelreg::cli
