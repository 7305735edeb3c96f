// /v2/telemetry (JSON) and /metrics (Prometheus text) from one sample.
// Over 600 lines: the two encodings of the same fields sit together so
// that a new figure is added to both.
#include "api/server/telemetry_codec.hpp"

#include "actors/telemetry/counters.hpp"
#include "api/json_writer.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <utility>
#include <vector>

namespace bosun {

namespace {

using json_out::key;
using json_out::str;
using json_out::str_or_null;
using json_out::writer;

double ms(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

void write_actor(writer& w, const actor_report& r) {
  w.StartObject();
  key(w, "name");
  str(w, r.name);
  key(w, "kind");
  str(w, r.kind);
  key(w, "parent");
  str_or_null(w, r.parent);
  key(w, "running");
  w.Bool(r.running);
  key(w, "reporting");
  w.Bool(r.sampled);
  if (!r.error.empty()) {
    key(w, "error");
    str(w, r.error);
  }
  if (r.sampled) {
    const auto& s = r.sample;
    key(w, "mailboxDepth");
    w.Uint64(s.mailbox);
    key(w, "mailboxMax");
    w.Uint64(s.mailbox_max);
    key(w, "handled");
    w.Uint64(s.handled);
    key(w, "handlingMeanMs");
    w.Double(ms(telemetry::mean_busy(s)));
    key(w, "handlingMaxMs");
    w.Double(ms(s.busy_max));
    key(w, "handlingTotalMs");
    w.Double(ms(s.busy_total));
  }
  key(w, "restarts");
  w.Int(r.restarts);
  key(w, "lastError");
  str_or_null(w, r.last_error);
  w.EndObject();
}

void write_service(writer& w, const service_status& s) {
  w.StartObject();
  key(w, "appId");
  w.Int64(s.app_id);
  key(w, "appUuid");
  str(w, s.app_uuid);
  key(w, "serviceName");
  str(w, s.service_name);
  key(w, "phase");
  w.String(to_string(s.phase));
  key(w, "containerId");
  str_or_null(w, s.container_id);
  key(w, "desiredRunning");
  w.Bool(s.desired_running);
  key(w, "restartCount");
  w.Uint(s.restart_count);
  key(w, "consecutiveRestarts");
  w.Uint(s.consecutive_restarts);
  key(w, "backoffMs");
  w.Int64(s.backoff.count());
  key(w, "crashLooping");
  w.Bool(s.crash_looping);
  key(w, "lastExitCode");
  if (s.last_exit_code)
    w.Int64(*s.last_exit_code);
  else
    w.Null();
  key(w, "health");
  str_or_null(w, s.health);
  key(w, "lastError");
  str_or_null(w, s.last_error);
  w.EndObject();
}

void write_engine(writer& w, const engine_telemetry& e) {
  w.StartObject();
  key(w, "state");
  w.String(to_string(e.state));
  key(w, "reconnects");
  w.Uint64(e.reconnects);
  key(w, "reconnectAttempts");
  w.Uint64(e.reconnect_attempts);
  key(w, "requestsInFlight");
  w.Uint64(e.requests_in_flight);
  key(w, "requestsTotal");
  w.Uint64(e.requests_total);
  key(w, "requestsFailed");
  w.Uint64(e.requests_failed);
  key(w, "eventsSeen");
  w.Uint64(e.events_seen);
  key(w, "subscribers");
  w.Uint64(e.subscribers);
  key(w, "logStreams");
  w.Uint64(e.log_streams);
  key(w, "pulls");
  w.Uint64(e.pulls);
  key(w, "lastError");
  str_or_null(w, e.last_error);
  w.EndObject();
}

void write_process(writer& w, const process_stats& p) {
  w.StartObject();
  // Every agent of the process shares these figures (fleet-sim runs
  // thousands in one process).
  key(w, "scope");
  w.String("process");
  key(w, "available");
  w.Bool(p.available);
  key(w, "rssBytes");
  w.Uint64(p.rss_bytes);
  key(w, "rssPeakBytes");
  w.Uint64(p.rss_peak_bytes);
  key(w, "cpuSeconds");
  w.Double(p.cpu_user_seconds + p.cpu_system_seconds);
  key(w, "cpuUserSeconds");
  w.Double(p.cpu_user_seconds);
  key(w, "cpuSystemSeconds");
  w.Double(p.cpu_system_seconds);
  key(w, "threads");
  w.Uint64(p.threads);
  key(w, "uptimeSeconds");
  w.Double(p.uptime_seconds);
  w.EndObject();
}

// -------------------------------------------------------- Prometheus --

using labels = std::vector<std::pair<const char*, std::string>>;

std::string number(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

// One metric family: HELP and TYPE once, then its samples together.
class family {
public:
  family(std::string& out, const char* name, const char* type, const char* help)
      : out_(out), name_(name), type_(type), help_(help) {}

  void add(const labels& ls, double v) {
    head();
    out_ += name_;
    if (!ls.empty()) {
      out_ += '{';
      bool first = true;
      for (auto& [k, val] : ls) {
        if (!first)
          out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        out_ += prometheus_escape(val);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += number(v);
    out_ += '\n';
  }

  void add(double v) {
    add({}, v);
  }

private:
  void head() {
    if (started_)
      return;
    started_ = true;
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, help_, name_,
                        type_);
  }

  std::string& out_;
  const char* name_;
  const char* type_;
  const char* help_;
  bool started_ = false;
};

double flag(bool b) {
  return b ? 1 : 0;
}

template <class T>
double num(T v) {
  return static_cast<double>(v);
}

// The running actors of the agent's own tree (the snapshot's, unlike the
// actor system's count, which is process-wide).
size_t agent_actors(const telemetry_snapshot& s) {
  return static_cast<size_t>(
    std::count_if(s.actors.begin(), s.actors.end(),
                  [](const actor_report& r) { return r.running; }));
}

void actor_metrics(std::string& out, const telemetry_snapshot& s) {
  auto of = [](const actor_report& r) {
    return labels{{"actor", r.name}, {"kind", r.kind}};
  };
  auto each = [&](const char* name, const char* type, const char* help,
                  bool sampled_only, auto value) {
    family f(out, name, type, help);
    for (auto& r : s.actors)
      if (!sampled_only || r.sampled)
        f.add(of(r), value(r));
  };
  each("bosun_actor_up", "gauge", "1 when the actor is running.", false,
       [](const actor_report& r) { return flag(r.running); });
  each("bosun_actor_reporting", "gauge",
       "1 when the actor answered the telemetry request.", false,
       [](const actor_report& r) { return flag(r.sampled); });
  each("bosun_actor_restarts_total", "counter",
       "Restarts of the actor by its supervisor.", false,
       [](const actor_report& r) { return num(r.restarts); });
  each("bosun_actor_messages_handled_total", "counter",
       "Messages the actor handled since it started.", true,
       [](const actor_report& r) { return num(r.sample.handled); });
  each("bosun_actor_handling_seconds_total", "counter",
       "Time spent in the actor's handlers.", true,
       [](const actor_report& r) { return seconds(r.sample.busy_total); });
  each("bosun_actor_handling_seconds_max", "gauge",
       "Longest time one message took in a handler.", true,
       [](const actor_report& r) { return seconds(r.sample.busy_max); });
  each("bosun_actor_mailbox_depth", "gauge",
       "Messages waiting in the mailbox when asked.", true,
       [](const actor_report& r) { return num(r.sample.mailbox); });
  each("bosun_actor_mailbox_depth_max", "gauge",
       "Most messages seen waiting behind one being handled.", true,
       [](const actor_report& r) { return num(r.sample.mailbox_max); });
  family running(out, "bosun_actors_running", "gauge",
                 "Live actors in the actor system (process-wide: every agent "
                 "of the process), per-request ones included.");
  running.add({{"scope", "process"}}, num(s.actors_running));
  family(out, "bosun_agent_actors", "gauge",
         "Running actors in this agent's tree (root, its children and the "
         "service supervisors).")
    .add(num(agent_actors(s)));
}

void service_metrics(std::string& out, const apps_status& a) {
  auto of = [](const service_status& x) {
    return labels{{"app_id", std::to_string(x.app_id)},
                  {"app_uuid", x.app_uuid},
                  {"service", x.service_name}};
  };
  auto each
    = [&](const char* name, const char* type, const char* help, auto value) {
        family f(out, name, type, help);
        for (auto& x : a.services)
          f.add(of(x), value(x));
      };
  each("bosun_service_restarts", "gauge",
       "Restarts of the service's container by its supervisor (reset when "
       "the container is recreated).",
       [](const service_status& x) { return num(x.restart_count); });
  each("bosun_service_backoff_seconds", "gauge",
       "The restart policy's delay before the pending or last restart.",
       [](const service_status& x) {
         return std::chrono::duration<double>(x.backoff).count();
       });
  each("bosun_service_crash_looping", "gauge",
       "1 when the last 3 runs each ended within 10 s of starting.",
       [](const service_status& x) { return flag(x.crash_looping); });
  each("bosun_service_running", "gauge", "1 when the service's container runs.",
       [](const service_status& x) {
         return flag(x.phase == service_phase::running);
       });
  family phase(out, "bosun_service_phase", "gauge",
               "The supervisor's phase of the service (1 for the current "
               "one).");
  for (auto& x : a.services) {
    auto ls = of(x);
    ls.emplace_back("phase", to_string(x.phase));
    phase.add(ls, 1);
  }
  family passes(out, "bosun_apps_passes_total", "counter",
                "Apply passes run since the app manager started.");
  passes.add(num(a.passes));
  family failures(out, "bosun_apps_failed_passes", "gauge",
                  "Consecutive failed apply passes.");
  failures.add(num(a.failures));
  family applying(out, "bosun_apps_applying", "gauge",
                  "1 while the device is not at its target.");
  applying.add(flag(a.state != apps_state::idle));
  family reads(out, "bosun_apps_engine_reads_total", "counter",
               "Reads of the engine by the app manager: full (everything) "
               "and partial (only what changed).");
  reads.add({{"kind", "full"}}, num(a.engine_full_reads));
  reads.add({{"kind", "partial"}}, num(a.engine_partial_reads));
}

void write_logs(writer& w, const logs_telemetry& t) {
  w.StartObject();
  key(w, "containers");
  w.Uint64(t.containers);
  key(w, "attached");
  w.Uint64(t.attached);
  key(w, "lines");
  w.Uint64(t.lines);
  key(w, "systemLines");
  w.Uint64(t.system_lines);
  key(w, "skipped");
  w.Uint64(t.skipped);
  key(w, "cut");
  w.Uint64(t.cut);
  key(w, "queues");
  w.StartArray();
  for (auto& q : t.queues) {
    w.StartObject();
    key(w, "name");
    str(w, q.name);
    key(w, "queuedLines");
    w.Uint64(q.queued_lines);
    key(w, "queuedBytes");
    w.Uint64(q.queued_bytes);
    key(w, "capacityBytes");
    w.Uint64(q.capacity_bytes);
    key(w, "delivered");
    w.Uint64(q.delivered);
    key(w, "dropped");
    w.Uint64(q.dropped);
    w.EndObject();
  }
  w.EndArray();
  key(w, "cloud");
  w.StartObject();
  key(w, "state");
  str(w, t.cloud.state);
  key(w, "connects");
  w.Uint64(t.cloud.connects);
  key(w, "failures");
  w.Uint64(t.cloud.failures);
  key(w, "lines");
  w.Uint64(t.cloud.lines);
  key(w, "bytesRaw");
  w.Uint64(t.cloud.bytes_raw);
  key(w, "bytesSent");
  w.Uint64(t.cloud.bytes_sent);
  key(w, "backoffMs");
  w.Int64(t.cloud.backoff_ms);
  key(w, "lastError");
  str_or_null(w, t.cloud.last_error);
  w.EndObject();
  key(w, "file");
  w.StartObject();
  key(w, "enabled");
  w.Bool(t.file.enabled);
  key(w, "maxBytes");
  w.Uint64(t.file.max_bytes);
  key(w, "sizeBytes");
  w.Uint64(t.file.size_bytes);
  key(w, "lines");
  w.Uint64(t.file.lines);
  key(w, "bytesWritten");
  w.Uint64(t.file.bytes_written);
  key(w, "rotations");
  w.Uint64(t.file.rotations);
  key(w, "writeErrors");
  w.Uint64(t.file.write_errors);
  key(w, "dropped");
  w.Uint64(t.file.dropped);
  key(w, "pendingBytes");
  w.Uint64(t.file.pending_bytes);
  key(w, "lastError");
  str_or_null(w, t.file.last_error);
  w.EndObject();
  w.EndObject();
}

void logs_metrics(std::string& out, const logs_telemetry& t) {
  auto one = [&](const char* name, const char* type, const char* help,
                 double v) { family(out, name, type, help).add(v); };
  one("bosun_logs_lines_total", "counter",
      "Container log lines received from the engine.", num(t.lines));
  one("bosun_logs_system_lines_total", "counter",
      "System lines logged by the agent.", num(t.system_lines));
  one("bosun_logs_attached_streams", "gauge", "Container log streams open.",
      num(t.attached));
  auto each
    = [&](const char* name, const char* type, const char* help, auto value) {
        family f(out, name, type, help);
        for (auto& q : t.queues)
          f.add(labels{{"reader", q.name}}, value(q));
      };
  each("bosun_logs_queue_bytes", "gauge", "Bytes waiting in a reader's queue.",
       [](const log_queue_stats& q) { return num(q.queued_bytes); });
  each("bosun_logs_queue_capacity_bytes", "gauge",
       "The bound of a reader's queue.",
       [](const log_queue_stats& q) { return num(q.capacity_bytes); });
  each("bosun_logs_queue_delivered_total", "counter",
       "Lines handed to a reader.",
       [](const log_queue_stats& q) { return num(q.delivered); });
  each("bosun_logs_queue_dropped_total", "counter",
       "Lines dropped because a reader's queue was full.",
       [](const log_queue_stats& q) { return num(q.dropped); });
  one("bosun_logs_cloud_connected", "gauge",
      "1 while the cloud log stream is open.", flag(t.cloud.state == "open"));
  one("bosun_logs_cloud_lines_total", "counter",
      "Lines written to the cloud log stream.", num(t.cloud.lines));
  one("bosun_logs_cloud_bytes_sent_total", "counter",
      "Compressed bytes written to the cloud log stream.",
      num(t.cloud.bytes_sent));
  one("bosun_logs_cloud_failures_total", "counter",
      "Cloud log stream connections or streams that failed.",
      num(t.cloud.failures));
  if (!t.file.enabled)
    return;
  one("bosun_logs_file_bytes_written_total", "counter",
      "Bytes written to the persistent log.", num(t.file.bytes_written));
  one("bosun_logs_file_size_bytes", "gauge",
      "Size of the persistent log files.", num(t.file.size_bytes));
  one("bosun_logs_file_write_errors_total", "counter",
      "Failed writes to the persistent log.", num(t.file.write_errors));
}

void engine_metrics(std::string& out, const engine_telemetry& e) {
  auto one = [&](const char* name, const char* type, const char* help,
                 double v) { family(out, name, type, help).add(v); };
  one("bosun_engine_up", "gauge", "1 when the engine connection is up.",
      flag(e.state == engine_state::up));
  one("bosun_engine_reconnects_total", "counter",
      "Times the engine came back after being down.", num(e.reconnects));
  one("bosun_engine_reconnect_attempts_total", "counter",
      "Pings sent to the engine while it was down.", num(e.reconnect_attempts));
  one("bosun_engine_requests_total", "counter",
      "Requests the engine actor accepted.", num(e.requests_total));
  one("bosun_engine_requests_failed_total", "counter",
      "Requests answered with an error.", num(e.requests_failed));
  one("bosun_engine_requests_in_flight", "gauge",
      "Requests waiting for the engine.", num(e.requests_in_flight));
  one("bosun_engine_events_total", "counter",
      "Events read from the engine's event stream.", num(e.events_seen));
  one("bosun_engine_subscribers", "gauge", "Actors subscribed to events.",
      num(e.subscribers));
  one("bosun_engine_log_streams", "gauge", "Open container log streams.",
      num(e.log_streams));
  one("bosun_engine_pulls", "gauge", "Image pulls in progress.", num(e.pulls));
}

// Labelled scope="process": every agent of the process reports the same.
void process_metrics(std::string& out, const process_stats& p) {
  if (!p.available)
    return;
  const labels proc{{"scope", "process"}};
  family(out, "bosun_process_resident_memory_bytes", "gauge",
         "Resident memory of the bosun process (process-wide).")
    .add(proc, num(p.rss_bytes));
  family(out, "bosun_process_resident_memory_peak_bytes", "gauge",
         "Peak resident memory of the bosun process (process-wide).")
    .add(proc, num(p.rss_peak_bytes));
  family cpu(out, "bosun_process_cpu_seconds_total", "counter",
             "CPU time used by the bosun process (process-wide).");
  cpu.add({{"scope", "process"}, {"mode", "user"}}, p.cpu_user_seconds);
  cpu.add({{"scope", "process"}, {"mode", "system"}}, p.cpu_system_seconds);
  family(out, "bosun_process_threads", "gauge",
         "Threads of the process (process-wide).")
    .add(proc, num(p.threads));
  family(out, "bosun_process_uptime_seconds", "gauge",
         "Seconds since the process started (process-wide).")
    .add(proc, p.uptime_seconds);
}

} // namespace

std::string prometheus_escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v)
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  return out;
}

telemetry_snapshot in_scope(telemetry_snapshot s, const auth::scope& scope) {
  if (scope.all)
    return s;
  std::vector<std::string> visible; // supervisor actor names of its services
  if (s.apps) {
    auto& svcs = s.apps->services;
    svcs.erase(std::remove_if(svcs.begin(), svcs.end(),
                              [&](const service_status& x) {
                                return !scope.allows(x.app_id);
                              }),
               svcs.end());
    for (auto& x : svcs)
      visible.push_back("app_manager/" + x.app_uuid + "/" + x.service_name);
    s.apps->commits.clear();
    s.apps->fetch_errors.clear();
    s.apps->downloads.clear();
    s.apps->locked_by.clear();
  }
  auto& as = s.actors;
  as.erase(std::remove_if(as.begin(), as.end(),
                          [&](const actor_report& r) {
                            return r.parent == "app_manager"
                                   && std::find(visible.begin(), visible.end(),
                                                r.name)
                                        == visible.end();
                          }),
           as.end());
  return s;
}

std::string encode_telemetry_json(const telemetry_snapshot& s) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  key(w, "actors");
  w.StartArray();
  for (auto& r : s.actors)
    write_actor(w, r);
  w.EndArray();
  key(w, "services");
  w.StartArray();
  if (s.apps)
    for (auto& x : s.apps->services)
      write_service(w, x);
  w.EndArray();
  key(w, "apps");
  if (s.apps) {
    w.StartObject();
    key(w, "state");
    str(w, to_string(s.apps->state));
    key(w, "passes");
    w.Uint64(s.apps->passes);
    key(w, "engineFullReads");
    w.Uint64(s.apps->engine_full_reads);
    key(w, "enginePartialReads");
    w.Uint64(s.apps->engine_partial_reads);
    key(w, "failedPasses");
    w.Uint(s.apps->failures);
    key(w, "lastError");
    str_or_null(w, s.apps->last_error);
    w.EndObject();
  } else {
    w.Null();
  }
  key(w, "engine");
  if (s.engine)
    write_engine(w, *s.engine);
  else
    w.Null();
  key(w, "logs");
  if (s.logs)
    write_logs(w, *s.logs);
  else
    w.Null();
  key(w, "process");
  write_process(w, s.process);
  key(w, "actorsRunning");
  w.Uint64(s.actors_running);
  key(w, "actorsRunningScope");
  w.String("process");
  key(w, "agentActors");
  w.Uint64(agent_actors(s));
  key(w, "collectedAt");
  w.Double(s.collected_at);
  key(w, "collectionMs");
  w.Double(ms(s.collection_time));
  w.EndObject();
  return json_out::text(sb);
}

std::string encode_metrics(const telemetry_snapshot& s) {
  std::string out;
  out.reserve(8192);
  actor_metrics(out, s);
  if (s.apps)
    service_metrics(out, *s.apps);
  if (s.engine)
    engine_metrics(out, *s.engine);
  if (s.logs)
    logs_metrics(out, *s.logs);
  process_metrics(out, s.process);
  family(out, "bosun_telemetry_collection_seconds", "gauge",
         "Time the last telemetry collection took.")
    .add(seconds(s.collection_time));
  return out;
}

} // namespace bosun
