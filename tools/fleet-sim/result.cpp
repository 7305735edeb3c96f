#include "tools/fleet-sim/result.hpp"

#include "tools/cloud-sim/json.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

namespace bosun::fleet {

namespace json = bosun::cloud_sim::json;
using writer = json::writer;

namespace {

void write_stage(writer& w, const stage_result& s, double scale) {
  w.StartObject();
  w.Key("name");
  json::string(w, s.name);
  w.Key("release");
  json::string(w, s.release);
  w.Key("t0_s");
  w.Double(s.t0_s);
  w.Key("devices");
  w.Uint64(s.devices);
  w.Key("superseded");
  w.Uint64(s.superseded);
  w.Key("converged");
  w.Uint64(s.times_s.size());
  w.Key("ok");
  w.Bool(s.ok);
  w.Key("min_percent");
  w.Double(s.min_percent);
  if (s.started > 0) {
    w.Key("started");
    w.Uint64(s.started);
    w.Key("start_s");
    w.Double(s.start_s);
  }
  auto xs = s.times_s;
  std::sort(xs.begin(), xs.end());
  auto at = [&](double q) {
    if (xs.empty())
      return 0.0;
    auto i = static_cast<size_t>(q * static_cast<double>(xs.size() - 1) + 0.5);
    return xs[std::min(i, xs.size() - 1)];
  };
  for (auto [key, k] :
       {std::pair{"wall_s", 1.0}, std::pair{"fleet_s", scale}}) {
    w.Key(key);
    w.StartObject();
    for (auto [name, q] : {std::pair{"p50", 0.5}, std::pair{"p90", 0.9},
                           std::pair{"p99", 0.99}, std::pair{"max", 1.0}}) {
      w.Key(name);
      w.Double(at(q) * k);
    }
    w.EndObject();
  }
  w.Key("rss_before");
  w.Uint64(s.rss_before);
  w.Key("rss_after");
  w.Uint64(s.rss_after);
  w.Key("heap_bytes");
  w.Uint64(s.heap_bytes);
  w.Key("sqlite_bytes");
  w.Uint64(s.sqlite_bytes);
  w.Key("actors");
  w.Uint64(s.actors);
  w.Key("times_s");
  w.StartArray();
  for (double x : xs)
    w.Double(x);
  w.EndArray();
  w.Key("mailbox_agents");
  w.Uint64(s.mailbox_agents);
  w.Key("mailboxes");
  w.StartObject();
  for (const auto& [kind, m] : s.mailboxes) {
    json::key(w, kind);
    w.StartArray();
    w.Uint64(m.first);
    w.Uint64(m.second);
    w.EndArray();
  }
  w.EndObject();
  w.Key("crash_looping");
  w.StartArray();
  for (const auto& u : s.crash_looping)
    json::string(w, u);
  w.EndArray();
  w.Key("not_converged");
  w.StartArray();
  for (const auto& n : s.not_converged) {
    w.StartObject();
    w.Key("uuid");
    json::string(w, n.uuid);
    w.Key("why");
    json::string(w, n.why);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void write_sample(writer& w, const sample_point& s) {
  // Compact: [t, rss, cpu, converged, {route: [requests, in, out, errors]}]
  w.StartArray();
  w.Double(s.t_s);
  w.Uint64(s.rss);
  w.Double(s.cpu_s);
  w.Uint64(s.converged);
  w.StartObject();
  for (size_t i = 0; i < route_names.size(); ++i) {
    w.Key(route_names[i]);
    w.StartArray();
    w.Uint64(s.routes[i].requests);
    w.Uint64(s.routes[i].bytes_in);
    w.Uint64(s.routes[i].bytes_out);
    w.Uint64(s.routes[i].errors);
    w.EndArray();
  }
  w.EndObject();
  w.EndArray();
}

void write_barrier(writer& w, const barrier_record& b) {
  w.StartObject();
  w.Key("name");
  json::string(w, b.name);
  w.Key("what");
  json::string(w, b.what);
  w.Key("step");
  w.Uint64(b.step);
  w.Key("ok");
  w.Bool(b.ok);
  w.Key("arrived_s");
  w.Double(b.arrived_s);
  w.Key("passed_s");
  w.Double(b.passed_s);
  w.Key("wait_s");
  w.Double(b.ok ? b.passed_s - b.arrived_s : -1);
  w.Key("arrived_ms");
  w.Int64(b.arrived_ms);
  w.Key("passed_ms");
  w.Int64(b.passed_ms);
  w.Key("spread_s");
  w.Double(b.spread_s);
  w.Key("last_shard");
  w.Uint64(b.last_shard);
  w.EndObject();
}

// A log message with what differs between agents masked: hex runs of 8+
// and numbers become '#'.
std::string mask(const std::string& m) {
  std::string out;
  size_t i = 0;
  while (i < m.size()) {
    size_t j = i;
    while (j < m.size() && std::isxdigit(static_cast<unsigned char>(m[j])))
      ++j;
    bool digits = j > i
                  && std::all_of(m.begin() + static_cast<std::ptrdiff_t>(i),
                                 m.begin() + static_cast<std::ptrdiff_t>(j),
                                 [](char c) { return std::isdigit(c); });
    if (j - i >= 8 || (digits && j > i)) {
      out += '#';
      i = j;
    } else if (j > i) {
      out.append(m, i, j - i);
      i = j;
    } else {
      out += m[i++];
    }
  }
  return out.size() > 200 ? out.substr(0, 200) + "…" : out;
}

} // namespace

log_summary summarise_log(const std::string& path) {
  log_summary s;
  std::ifstream in(path);
  std::string line;
  std::map<std::string, uint64_t> counts;
  // "2026-11-23T11:06:18.123Z warn  cloud: message"
  while (std::getline(in, line)) {
    if (line.size() < 32)
      continue;
    auto level = line.substr(25, 5);
    if (level.rfind("warn", 0) == 0)
      ++s.warn;
    else if (level.rfind("error", 0) == 0)
      ++s.error;
    else
      continue;
    ++counts[mask(line.substr(25))];
  }
  for (auto& [m, n] : counts)
    s.top.emplace_back(n, m);
  std::sort(s.top.begin(), s.top.end(),
            [](auto& a, auto& b) { return a.first > b.first; });
  if (s.top.size() > 15)
    s.top.resize(15);
  return s;
}

std::string to_json(const result& r) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  w.Key("scenario");
  json::string(w, r.scenario);
  w.Key("description");
  json::string(w, r.description);
  w.Key("scenario_digest");
  json::string(w, r.scenario_digest);
  w.Key("devices");
  w.Uint64(r.devices);
  w.Key("shard");
  w.StartObject();
  w.Key("index");
  w.Uint64(r.shard_index);
  w.Key("count");
  w.Uint64(r.shard_count);
  w.Key("fleet_devices");
  w.Uint64(r.fleet_devices);
  w.Key("first_device");
  w.Uint64(r.first_device);
  w.EndObject();
  w.Key("scale");
  w.Double(r.scale);
  w.Key("seed");
  w.Uint64(r.seed);
  w.Key("fleet");
  w.Int64(r.fleet);
  w.Key("register_storm");
  w.Bool(r.register_storm);
  w.Key("ok");
  w.Bool(r.ok && r.errors.empty());
  w.Key("poll_interval_s");
  w.Double(r.poll_interval_s);
  w.Key("max_jitter_s");
  w.Double(r.max_jitter_s);
  w.Key("apply_estimate_s");
  w.Double(r.apply_estimate_s);
  w.Key("wall_s");
  w.Double(r.wall_s);
  w.Key("load_average");
  w.StartArray();
  w.Double(r.load_before);
  w.Double(r.load_end);
  w.EndArray();
  w.Key("cpu_s");
  w.Double(r.cpu_s);
  w.Key("cpu_s_per_agent_hour");
  auto agent_hours = static_cast<double>(r.devices) * r.wall_s / 3600.0;
  w.Double(agent_hours > 0 ? r.cpu_s / agent_hours : 0);
  w.Key("cpu_s_per_agent_fleet_hour");
  w.Double(agent_hours > 0 ? r.cpu_s / (agent_hours * r.scale) : 0);
  w.Key("rss");
  w.StartObject();
  w.Key("before_agents");
  w.Uint64(r.rss_before_agents);
  w.Key("end");
  w.Uint64(r.rss_end);
  w.Key("heap_before_agents");
  w.Uint64(r.heap_before_agents);
  w.Key("per_agent");
  w.Uint64(r.rss_end > r.rss_before_agents ? (r.rss_end - r.rss_before_agents)
                                               / std::max<size_t>(r.devices, 1)
                                           : 0);
  // The marginal cost: the last start stage after the first, converged.
  w.Key("marginal_per_agent");
  const stage_result* first = nullptr;
  const stage_result* last = nullptr;
  for (const auto& s : r.stages)
    if (s.started > 0)
      (first == nullptr ? first : last) = &s;
  if (last != nullptr && last->rss_after > last->rss_before)
    w.Uint64((last->rss_after - last->rss_before) / last->started);
  else
    w.Null();
  w.Key("checkpoints");
  w.StartArray();
  for (const auto& c : r.rss_checkpoints) {
    w.StartArray();
    w.Uint64(c.agents);
    w.Uint64(c.rss);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
  w.Key("cloud_sim");
  w.StartObject();
  w.Key("cpu_s");
  w.Double(r.cloud_sim_cpu_s);
  w.Key("rss");
  w.Uint64(r.cloud_sim_rss);
  w.EndObject();
  w.Key("fds_peak");
  w.Uint64(r.fds_peak);
  w.Key("agents_running");
  w.Uint64(r.agents_running);
  w.Key("restarts");
  w.Uint64(r.restarts);
  w.Key("behaving");
  w.StartArray();
  for (const auto& u : r.behaving)
    json::string(w, u);
  w.EndArray();
  w.Key("log_flood");
  w.StartObject();
  w.Key("devices");
  w.Uint64(r.flood_devices.size());
  w.Key("lines_written");
  w.Uint64(r.flood_lines_written);
  w.Key("lines_in_engines");
  w.Uint64(r.flood_lines_in_engines);
  w.Key("lines_agents_received");
  w.Uint64(r.flood_lines_agents_got);
  w.Key("system_lines");
  w.Uint64(r.flood_system_lines);
  w.Key("lines_sent");
  w.Uint64(r.flood_lines_sent);
  w.Key("lines_received");
  w.Uint64(r.flood_lines_received);
  w.Key("drain_s");
  w.Double(r.flood_drain_s);
  w.EndObject();
  w.Key("stages");
  w.StartArray();
  for (const auto& s : r.stages)
    write_stage(w, s, r.scale);
  w.EndArray();
  w.Key("events");
  w.StartArray();
  for (const auto& e : r.events) {
    w.StartArray();
    w.Double(e.t_s);
    json::string(w, e.what);
    w.EndArray();
  }
  w.EndArray();
  w.Key("barriers");
  w.StartArray();
  for (const auto& b : r.barriers)
    write_barrier(w, b);
  w.EndArray();
  w.Key("errors");
  w.StartArray();
  for (const auto& e : r.errors)
    json::string(w, e);
  w.EndArray();
  w.Key("activity");
  w.StartObject();
  w.Key("seconds");
  w.Double(r.activity_s);
  w.Key("cpu_s");
  w.Double(r.activity_cpu_s);
  w.Key("messages_per_agent_s");
  w.StartObject();
  for (const auto& [kind, x] : r.activity) {
    json::key(w, kind);
    w.Double(x);
  }
  w.EndObject();
  w.EndObject();
  w.Key("agent_log");
  w.StartObject();
  w.Key("warn");
  w.Uint64(r.agent_log.warn);
  w.Key("error");
  w.Uint64(r.agent_log.error);
  w.Key("top");
  w.StartArray();
  for (const auto& [n, m] : r.agent_log.top) {
    w.StartArray();
    w.Uint64(n);
    json::string(w, m);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
  w.Key("cloud_counts");
  if (r.cloud_counts.empty())
    w.Null();
  else
    json::raw(w, r.cloud_counts);
  w.Key("samples");
  w.StartArray();
  for (const auto& s : r.samples)
    write_sample(w, s);
  w.EndArray();
  w.EndObject();
  return {sb.GetString(), sb.GetSize()};
}

} // namespace bosun::fleet
