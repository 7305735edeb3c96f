#include "tools/fleet-sim/scenario.hpp"

#include "tools/cloud-sim/json.hpp"

#include <array>
#include <cstdio>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace bosun::fleet {

namespace json = bosun::cloud_sim::json;

namespace {

constexpr std::array<std::pair<const char*, step_kind>, 9> step_names = {{
  {"start", step_kind::start},
  {"release", step_kind::release},
  {"wait", step_kind::wait},
  {"sleep", step_kind::sleep},
  {"fault", step_kind::fault},
  {"clear", step_kind::clear},
  {"restart", step_kind::restart},
  {"behave", step_kind::behave},
  {"log_flood", step_kind::log_flood},
}};

constexpr std::array<const char*, 4> behaviours
  = {"run", "exit_once", "crash_loop", "unhealthy"};

// Reads an optional number into `out`; false when it is there but not one.
bool number(const rapidjson::Value& v, const char* key, double& out) {
  auto* m = json::member(v, key);
  if (m == nullptr)
    return true;
  if (!m->IsNumber())
    return false;
  out = m->GetDouble();
  return true;
}

bool integer(const rapidjson::Value& v, const char* key, int64_t& out) {
  auto* m = json::member(v, key);
  if (m == nullptr)
    return true;
  if (!m->IsInt64())
    return false;
  out = m->GetInt64();
  return true;
}

bool text(const rapidjson::Value& v, const char* key, std::string& out) {
  auto* m = json::member(v, key);
  if (m == nullptr)
    return true;
  if (!m->IsString())
    return false;
  out = m->GetString();
  return true;
}

std::string percent_text(double p) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g %%", p);
  return buf;
}

std::string read_step(const rapidjson::Value& v, const scenario& s, step& st) {
  std::string kind;
  if (!text(v, "do", kind) || kind.empty())
    return "\"do\" missing";
  bool known = false;
  for (auto& [name, k] : step_names)
    if (kind == name) {
      st.kind = k;
      known = true;
    }
  if (!known)
    return "unknown step \"" + kind + "\"";
  if (!number(v, "percent", st.percent) || st.percent < 0 || st.percent > 100)
    return "percent must be a number from 0 to 100";
  if (!text(v, "stage", st.stage))
    return "stage must be a string";
  if (!number(v, "seconds", st.seconds) || st.seconds < 0)
    return "seconds must be a number >= 0";
  if (!number(v, "wall_seconds", st.wall_seconds)
      || (json::member(v, "wall_seconds") != nullptr && st.wall_seconds < 0))
    return "wall_seconds must be a number >= 0";
  if (!number(v, "min_converged_percent", st.min_converged_percent))
    return "min_converged_percent must be a number";
  if (!text(v, "service", st.service) || !text(v, "behaviour", st.behaviour))
    return "service and behaviour must be strings";
  if (!number(v, "run_for_s", st.run_for_s)
      || !integer(v, "exit_code", st.exit_code)
      || !number(v, "lines_per_s", st.lines_per_s))
    return "run_for_s, exit_code and lines_per_s must be numbers";
  switch (st.kind) {
    case step_kind::release:
      if (!text(v, "release", st.release) || s.find(st.release) == nullptr)
        return "release must name one of the scenario's releases";
      if (st.stage.empty())
        st.stage = st.release + " to " + percent_text(st.percent);
      break;
    case step_kind::start:
      if (st.stage.empty())
        st.stage = "start";
      break;
    case step_kind::fault: {
      auto* f = json::member(v, "fault");
      if (f == nullptr || !f->IsObject())
        return "fault must be an object (cloud-sim's POST /faults body)";
      auto route = json::get_string(*f, "route");
      if (!route)
        return "fault.route missing";
      st.route = *route;
      st.fault_json = json::to_string(*f);
      break;
    }
    case step_kind::behave: {
      bool ok = false;
      for (auto* b : behaviours)
        ok = ok || st.behaviour == b;
      if (!ok)
        return "behaviour must be run, exit_once, crash_loop or unhealthy";
      if (st.service.empty())
        return "service missing";
      break;
    }
    case step_kind::log_flood:
      if (st.service.empty())
        return "service missing";
      break;
    default:
      break;
  }
  return {};
}

} // namespace

const release* scenario::find(const std::string& n) const {
  for (const auto& r : releases)
    if (r.name == n)
      return &r;
  return nullptr;
}

const char* name_of(step_kind k) {
  for (auto& [name, kind] : step_names)
    if (kind == k)
      return name;
  return "?";
}

std::optional<scenario> parse_scenario(const std::string& body,
                                       std::string& err) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError()) {
    err = std::string("not JSON: ")
          + rapidjson::GetParseError_En(doc.GetParseError()) + " at offset "
          + std::to_string(doc.GetErrorOffset());
    return std::nullopt;
  }
  if (!doc.IsObject()) {
    err = "a scenario is a JSON object";
    return std::nullopt;
  }
  scenario s;
  double devices = static_cast<double>(s.devices);
  std::string provision = "registered";
  if (!text(doc, "name", s.name) || !text(doc, "description", s.description)
      || !number(doc, "devices", devices) || !number(doc, "scale", s.scale)
      || !text(doc, "provision", provision) || !text(doc, "initial", s.initial)
      || devices < 1 || s.scale <= 0) {
    err = "name, description, provision and initial are strings; devices "
          "and scale are positive numbers";
    return std::nullopt;
  }
  s.devices = static_cast<size_t>(devices);
  if (provision != "registered" && provision != "register") {
    err = "provision must be \"registered\" or \"register\"";
    return std::nullopt;
  }
  s.register_storm = provision == "register";
  auto* rels = json::member(doc, "releases");
  if (rels == nullptr || !rels->IsArray() || rels->Empty()) {
    err = "releases must be a non-empty array";
    return std::nullopt;
  }
  for (const auto& r : rels->GetArray()) {
    release rel;
    rel.id = static_cast<int64_t>(s.releases.size()) + 1;
    auto* svcs = json::member(r, "services");
    if (!text(r, "name", rel.name) || rel.name.empty() || svcs == nullptr
        || !svcs->IsArray() || svcs->Empty()) {
      err = "release " + std::to_string(rel.id)
            + ": name and a non-empty services array";
      return std::nullopt;
    }
    for (const auto& x : svcs->GetArray()) {
      if (!x.IsString()) {
        err = "release " + rel.name + ": services are names";
        return std::nullopt;
      }
      rel.services.emplace_back(x.GetString());
    }
    s.releases.push_back(std::move(rel));
  }
  if (!s.initial.empty() && s.find(s.initial) == nullptr) {
    err = "initial must name one of the releases";
    return std::nullopt;
  }
  if (auto* e = json::member(doc, "engine")) {
    auto& m = s.engine;
    if (!integer(*e, "image_bytes", m.image_bytes)
        || !number(*e, "bandwidth", m.bandwidth)
        || !integer(*e, "registry_latency_ms", m.registry_latency_ms)
        || !integer(*e, "create_ms", m.create_ms)
        || !integer(*e, "start_ms", m.start_ms)
        || !integer(*e, "stop_ms", m.stop_ms)
        || !integer(*e, "remove_ms", m.remove_ms) || m.bandwidth <= 0) {
      err = "engine: numbers (image_bytes, bandwidth > 0, registry_latency_ms, "
            "create_ms, start_ms, stop_ms, remove_ms)";
      return std::nullopt;
    }
  }
  auto* steps = json::member(doc, "steps");
  if (steps == nullptr || !steps->IsArray()) {
    err = "steps must be an array";
    return std::nullopt;
  }
  for (const auto& v : steps->GetArray()) {
    step st;
    if (auto why = read_step(v, s, st); !why.empty()) {
      err = "step " + std::to_string(s.steps.size() + 1) + ": " + why;
      return std::nullopt;
    }
    s.steps.push_back(std::move(st));
  }
  return s;
}

} // namespace bosun::fleet
