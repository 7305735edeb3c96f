#include "tools/fleet-sim/inspect.hpp"

#include "api/json_writer.hpp"
#include "api/server/telemetry_codec.hpp"
#include "messages/core.hpp"

#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <caf/event_based_actor.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <fmt/format.h>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <restinio/http_server.hpp>
#include <thread>

namespace bosun::fleet {

namespace {

using namespace std::chrono_literals;
using json_out::key;
using json_out::str;
using json_out::str_or_null;

constexpr auto ask_timeout = 10s; // per agent and step

using gathered = std::function<void(std::vector<agent_snapshot>)>;

// Asks every agent's telemetry actor for its snapshot at once, from an
// actor of its own; `done` runs once, on a scheduler thread, when the last
// one answered or failed.
void gather(caf::actor_system& sys, std::vector<inspected_agent> agents,
            gathered done) {
  sys.spawn([agents = std::move(agents),
             done = std::move(done)](caf::event_based_actor* self) {
    auto out = std::make_shared<std::vector<agent_snapshot>>(agents.size());
    auto left = std::make_shared<size_t>(agents.size());
    auto one_done = [self, out, left, done] {
      if (--*left > 0)
        return;
      done(std::move(*out));
      self->quit();
    };
    if (agents.empty()) {
      done({});
      self->quit();
    }
    for (size_t i = 0; i < agents.size(); ++i) {
      (*out)[i].uuid = agents[i].uuid;
      auto root = agents[i].root;
      if (!root) {
        (*out)[i].error = "not running";
        one_done();
        continue;
      }
      auto failed = [self, out, i, one_done](const char* step,
                                             const caf::error& e) {
        (*out)[i].error = std::string(step) + ": " + self->system().render(e);
        one_done();
      };
      self->request(root, ask_timeout, caf::get_atom_v, core_atom_v)
        .then(
          [self, root, out, i, one_done, failed](core_actors& core) {
            self->request(core.telemetry, ask_timeout, collect_telemetry{root})
              .then(
                [out, i, one_done](telemetry_snapshot& s) {
                  (*out)[i].snap = std::move(s);
                  one_done();
                },
                [failed](const caf::error& e) { failed("telemetry", e); });
          },
          [failed](const caf::error& e) { failed("root", e); });
    }
    // Kept until the last answer (then it quits).
    return caf::behavior{[](caf::ok_atom) {}};
  });
}

// One family per metric: HELP and TYPE, then its samples by label.
void family(std::string& out, const char* name, const char* type,
            const char* help, const char* label,
            const std::map<std::string, double>& values) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  for (const auto& [k, v] : values)
    out += fmt::format("{}{{{}=\"{}\"}} {}\n", name, label,
                       prometheus_escape(k), v);
}

void single(std::string& out, const char* name, const char* help, double v) {
  out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name,
                     name, v);
}

std::string json_error(const std::string& message) {
  rapidjson::StringBuffer sb;
  json_out::writer w(sb);
  w.StartObject();
  json_out::string_member(w, "message", message);
  w.EndObject();
  return json_out::text(sb);
}

} // namespace

std::string fleet_metrics(const std::vector<agent_snapshot>& agents) {
  std::map<std::string, double> actors, depth, depth_max, handled, restarts;
  std::map<std::string, double> service_restarts;
  double answered = 0;
  for (const auto& a : agents) {
    if (!a.snap)
      continue;
    ++answered;
    for (const auto& r : a.snap->actors) {
      auto kind = r.kind.empty() ? std::string{"unknown"} : r.kind;
      actors[kind] += r.running ? 1 : 0;
      restarts[kind] += r.restarts;
      if (!r.sampled)
        continue;
      auto& d = depth[kind];
      d = std::max(d, static_cast<double>(r.sample.mailbox));
      auto& m = depth_max[kind];
      m = std::max(m, static_cast<double>(r.sample.mailbox_max));
      handled[kind] += static_cast<double>(r.sample.handled);
    }
    if (a.snap->apps)
      for (const auto& s : a.snap->apps->services)
        service_restarts[s.service_name] += s.restart_count;
  }
  std::string out;
  single(out, "fleet_agents", "Agents the inspector asks.",
         static_cast<double>(agents.size()));
  single(out, "fleet_agents_reporting",
         "Agents whose telemetry answered this scrape.", answered);
  family(out, "fleet_actors", "gauge", "Running actors of each kind.", "kind",
         actors);
  family(out, "fleet_actor_mailbox_depth_max", "gauge",
         "Most messages any actor of the kind saw waiting behind one.", "kind",
         depth_max);
  family(out, "fleet_actor_mailbox_depth", "gauge",
         "Most messages waiting in any actor of the kind when asked.", "kind",
         depth);
  family(out, "fleet_actor_messages_handled_total", "counter",
         "Messages handled by the actors of the kind, summed over agents.",
         "kind", handled);
  family(out, "fleet_actor_restarts_total", "counter",
         "Restarts of the actors of the kind by their supervisors.", "kind",
         restarts);
  family(out, "fleet_service_supervisor_restarts_total", "counter",
         "Container restarts by the service supervisors, by service.",
         "service", service_restarts);
  return out;
}

std::optional<std::string> unconverged_reason(const agent_snapshot& a,
                                              const convergence_goal& goal) {
  if (!a.snap)
    return "no telemetry: " + a.error;
  if (!a.snap->apps)
    return std::string{"the app manager did not answer"};
  const auto& st = *a.snap->apps;
  if (st.failures > 0)
    return fmt::format("{} failed pass(es): {}", st.failures, st.last_error);
  if (st.state != apps_state::idle)
    return fmt::format("{}", to_string(st.state));
  if (!goal.commit.empty()) {
    auto it = st.commits.find(goal.app_uuid);
    if (it == st.commits.end())
      return "does not run app " + goal.app_uuid;
    if (it->second != goal.commit)
      return "runs " + it->second + ", not " + goal.commit;
  }
  return std::nullopt;
}

std::string encode_unconverged(const std::vector<agent_snapshot>& agents,
                               const convergence_goal& goal) {
  rapidjson::StringBuffer sb;
  json_out::writer w(sb);
  w.StartObject();
  key(w, "agents");
  w.Uint64(agents.size());
  key(w, "goal");
  w.StartObject();
  key(w, "appUuid");
  str_or_null(w, goal.app_uuid);
  key(w, "commit");
  str_or_null(w, goal.commit);
  w.EndObject();
  key(w, "unconverged");
  w.StartArray();
  for (const auto& a : agents) {
    auto why = unconverged_reason(a, goal);
    if (!why)
      continue;
    w.StartObject();
    json_out::string_member(w, "uuid", a.uuid);
    json_out::string_member(w, "reason", *why);
    const apps_status* st = a.snap && a.snap->apps ? &*a.snap->apps : nullptr;
    key(w, "state");
    if (st)
      w.String(to_string(st->state));
    else
      w.Null();
    key(w, "commit");
    const std::string* commit = nullptr;
    if (st)
      if (auto c = st->commits.find(goal.app_uuid); c != st->commits.end())
        commit = &c->second;
    if (commit != nullptr)
      str(w, *commit);
    else
      w.Null();
    key(w, "failedPasses");
    w.Uint(st ? st->failures : 0);
    key(w, "lastError");
    str_or_null(w, st ? st->last_error : a.error);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return json_out::text(sb);
}

// -------------------------------------------------------------- server --

using traits = restinio::single_thread_traits_t<restinio::asio_timer_manager_t,
                                                restinio::null_logger_t>;

struct inspector::impl {
  explicit impl(caf::actor_system& s) : sys(s) {}
  caf::actor_system& sys;
  std::mutex m;
  std::vector<inspected_agent> agents;
  convergence_goal goal;
  asio::io_context io;
  std::unique_ptr<restinio::http_server_t<traits>> server;
  std::thread thread;
  // Requests waiting for their agents: stop() lets them answer first (their
  // replies go through the server's io_context).
  std::condition_variable answered;
  size_t in_flight = 0;

  void ask(std::vector<inspected_agent> agents, gathered done) {
    {
      std::lock_guard<std::mutex> g{m};
      ++in_flight;
    }
    gather(sys, std::move(agents),
           [this, done = std::move(done)](std::vector<agent_snapshot> v) {
             done(std::move(v));
             std::lock_guard<std::mutex> g{m};
             --in_flight;
             answered.notify_all();
           });
  }

  std::vector<inspected_agent> current() {
    std::lock_guard<std::mutex> g{m};
    return agents;
  }

  static void reply(const restinio::request_handle_t& req, uint16_t status,
                    const char* type, std::string body) {
    req
      ->create_response(restinio::http_status_line_t{
        restinio::http_status_code_t{status}, status < 300 ? "OK" : "Error"})
      .append_header(restinio::http_field::content_type, type)
      .set_body(std::move(body))
      .done();
  }

  void handle(const restinio::request_handle_t& req) {
    static constexpr const char* json = "application/json";
    if (req->header().method() != restinio::http_method_get())
      return reply(req, 405, json, json_error("only GET is served"));
    auto path = std::string(req->header().path());
    if (path == "/metrics")
      return ask(current(), [req](std::vector<agent_snapshot> v) {
        reply(req, 200, metrics_content_type, fleet_metrics(v));
      });
    if (path == "/unconverged") {
      convergence_goal g;
      {
        std::lock_guard<std::mutex> lock{m};
        g = goal;
      }
      return ask(current(), [req, g](std::vector<agent_snapshot> v) {
        reply(req, 200, json, encode_unconverged(v, g));
      });
    }
    const std::string head = "/agents/";
    const std::string tail = "/telemetry";
    if (path.size() > head.size() + tail.size()
        && path.compare(0, head.size(), head) == 0
        && path.compare(path.size() - tail.size(), tail.size(), tail) == 0) {
      auto uuid
        = path.substr(head.size(), path.size() - head.size() - tail.size());
      auto all = current();
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const auto& a) { return a.uuid == uuid; });
      if (it == all.end())
        return reply(req, 404, json, json_error("no agent " + uuid));
      return ask({*it}, [req](std::vector<agent_snapshot> v) {
        if (v.size() == 1 && v[0].snap)
          reply(req, 200, json, encode_telemetry_json(*v[0].snap));
        else
          reply(req, 503, json,
                json_error(v.empty() ? "no answer" : v[0].error));
      });
    }
    reply(req, 404, json,
          json_error("not found: GET /metrics, /unconverged or "
                     "/agents/<uuid>/telemetry"));
  }
};

inspector::inspector(caf::actor_system& sys)
    : impl_(std::make_unique<impl>(sys)) {}

inspector::~inspector() {
  stop();
}

void inspector::set_agents(std::vector<inspected_agent> agents) {
  std::lock_guard<std::mutex> g{impl_->m};
  impl_->agents = std::move(agents);
}

void inspector::add_agent(inspected_agent agent) {
  std::lock_guard<std::mutex> g{impl_->m};
  auto& all = impl_->agents;
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const auto& a) { return a.uuid == agent.uuid; });
  if (it != all.end())
    *it = std::move(agent);
  else
    all.push_back(std::move(agent));
}

void inspector::set_goal(convergence_goal goal) {
  std::lock_guard<std::mutex> g{impl_->m};
  impl_->goal = std::move(goal);
}

std::optional<uint16_t> inspector::start(const std::string& address,
                                         uint16_t port, std::string* why) {
  if (impl_->server) {
    if (why != nullptr)
      *why = "already serving";
    return std::nullopt;
  }
  uint16_t bound = 0;
  auto* self = impl_.get();
  try {
    impl_->server = std::make_unique<restinio::http_server_t<traits>>(
      restinio::external_io_context(impl_->io), [&](auto& s) {
        s.address(address)
          .port(port)
          .handle_request_timeout(std::chrono::seconds(60))
          .acceptor_post_bind_hook([&bound](auto& acceptor) {
            bound = acceptor.local_endpoint().port();
          })
          .request_handler([self](const restinio::request_handle_t& req) {
            self->handle(req);
            return restinio::request_accepted();
          });
      });
    impl_->server->open_sync();
  } catch (const std::exception& e) {
    impl_->server.reset();
    if (why != nullptr)
      *why = e.what();
    return std::nullopt;
  }
  impl_->thread = std::thread([self] {
    auto work = asio::make_work_guard(self->io);
    self->io.run();
  });
  return bound;
}

std::optional<uint16_t> inspector::start(const std::string& addr_port,
                                         std::string* why) {
  auto colon = addr_port.rfind(':');
  uint16_t port = 0;
  if (colon != std::string::npos) {
    auto p = addr_port.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || end != p.data() + p.size() || p.empty())
      colon = std::string::npos;
  }
  if (colon == std::string::npos) {
    if (why != nullptr)
      *why = "expected ADDR:PORT, e.g. 127.0.0.1:9100";
    return std::nullopt;
  }
  auto address = addr_port.substr(0, colon);
  auto bound = start(address, port, why);
  if (bound)
    std::cerr << "fleet-sim: inspection at http://" << address << ":" << *bound
              << " (/metrics, /unconverged, /agents/<uuid>/telemetry)"
              << std::endl;
  return bound;
}

void inspector::stop() {
  if (!impl_->server)
    return;
  auto* self = impl_.get();
  {
    // Each one ends within ask_timeout per step.
    std::unique_lock<std::mutex> g{self->m};
    self->answered.wait_for(g, 2 * ask_timeout + 5s,
                            [self] { return self->in_flight == 0; });
  }
  asio::post(self->io, [self] {
    self->server->close_sync();
    self->io.stop();
  });
  if (impl_->thread.joinable())
    impl_->thread.join();
  impl_->server.reset();
}

} // namespace bosun::fleet
