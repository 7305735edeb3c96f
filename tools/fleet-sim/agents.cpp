#include "tools/fleet-sim/agents.hpp"

#include "messages/app_manager.hpp"
#include "tools/fleet-sim/sim_host.hpp"
#include "tools/fleet-sim/sim_world.hpp"

#include <caf/event_based_actor.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>

namespace bosun::fleet {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::chrono::milliseconds scaled(int64_t ms, double scale) {
  return std::chrono::milliseconds(
    static_cast<int64_t>(static_cast<double>(ms) / scale));
}

sim::sim_options engine_options(const engine_model& m, double scale,
                                uint64_t seed, size_t i) {
  sim::sim_options so;
  so.seed = seed * 1000003 + i;
  so.hostname = "dev" + std::to_string(i);
  so.timing.create = scaled(m.create_ms, scale);
  so.timing.start = scaled(m.start_ms, scale);
  so.timing.stop = scaled(m.stop_ms, scale);
  so.timing.remove = scaled(m.remove_ms, scale);
  so.registry.latency = scaled(m.registry_latency_ms, scale);
  so.registry.bandwidth = m.bandwidth * scale;
  so.registry.image_size = m.image_bytes;
  return so;
}

// One probe: the app managers of many agents asked at once; the results
// are filled in by the helper actor and read by the driver only after
// `done` is set (the helper has quit by then).
struct probe_job {
  std::vector<root_actor> roots;
  std::vector<caf::actor> ams; // cached handles, may be invalid
  std::string app;
  caf::timespan deadline{};
  std::vector<probe_result> results;
  size_t left = 0;
  std::promise<void> done;
};

void answer(const std::shared_ptr<probe_job>& job, size_t i,
            const apps_status& st) {
  auto& r = job->results[i];
  r.answered = true;
  r.state = st.state;
  if (auto c = st.commits.find(job->app); c != st.commits.end())
    r.commit = c->second;
  r.last_error = st.last_error;
  for (const auto& s : st.services)
    r.crash_looping += s.crash_looping ? 1 : 0;
}

void prober(caf::event_based_actor* self, std::shared_ptr<probe_job> job) {
  auto finish = [self, job] {
    if (--job->left == 0) {
      job->done.set_value();
      self->quit();
    }
  };
  auto ask_am = [self, job, finish](size_t i) {
    self->request(job->ams[i], job->deadline, caf::get_atom_v)
      .then(
        [job, i, finish](apps_status& st) {
          answer(job, i, st);
          finish();
        },
        [job, i, finish](caf::error&) {
          job->ams[i] = nullptr;
          finish();
        });
  };
  if (job->left == 0) {
    job->done.set_value();
    self->quit();
    return;
  }
  for (size_t i = 0; i < job->roots.size(); ++i) {
    if (job->ams[i]) {
      ask_am(i);
      continue;
    }
    self->request(job->roots[i], job->deadline, caf::get_atom_v, core_atom_v)
      .then(
        [job, i, ask_am, finish](core_actors& core) {
          auto h = caf::actor_cast<caf::actor>(core.app_manager);
          job->ams[i] = h;
          if (h)
            ask_am(i);
          else
            finish();
        },
        [finish](caf::error&) { finish(); });
  }
}

} // namespace

agents::agents(caf::actor_system& sys, agent_deps base, agents_options opts,
               const engine_model& engine, size_t n)
    : sys_(sys), base_(std::move(base)), opts_(std::move(opts)), self_(sys) {
  using namespace std::chrono;
  fleet_clock_ =
    [start = steady_clock::now(),
     epoch = duration_cast<milliseconds>(system_clock::now().time_since_epoch())
               .count(),
     scale = opts_.scale] {
      auto real = duration<double, std::milli>(steady_clock::now() - start);
      return epoch + static_cast<int64_t>(real.count() * scale);
    };
  devices_.resize(n);
  for (size_t k = 0; k < n; ++k) {
    auto& d = devices_[k];
    auto i = opts_.first + k; // the device's index in the whole fleet
    d.index = i;
    char uuid[33];
    // The first 7 digits (the short uuid, the agent's log prefix) are a
    // bijection of the index: no two devices share them.
    std::snprintf(uuid, sizeof(uuid), "%07llx%09llx%016zx",
                  ((i + 1) * 0x9e3779bULL) & 0xfffffffULL,
                  static_cast<unsigned long long>(opts_.fleet), i);
    d.uuid = uuid;
    d.key = "dk" + d.uuid;
    d.id = opts_.fleet * 100000 + static_cast<int64_t>(i);
    d.dir = opts_.dir + "/" + std::to_string(i);
    d.engine_opts = engine_options(engine, opts_.scale, opts_.seed, i);
    d.world = std::make_shared<sim::world>(d.engine_opts.seed,
                                           d.engine_opts.hostname);
    d.host = sim::make_sim_host(sim::sim_host_for(opts_.seed, i));
  }
}

std::string agents::start(device& d) {
  auto config_path = d.dir + "/config.json";
  if (d.starts == 0) {
    fs::create_directories(d.dir);
    // What a device's config.json holds when it is flashed: either a
    // provisioning key (it registers itself), or its own key and id.
    auto poll = scaled(900000, opts_.scale).count();
    std::ofstream out(config_path);
    out << R"({"apiEndpoint":")" << opts_.cloud_url << R"(","uuid":")" << d.uuid
        << R"(","applicationId":)" << opts_.fleet
        << R"(,"deviceType":"generic-amd64","appUpdatePollInterval":)" << poll;
    if (opts_.provisioning_key.empty())
      out << R"(,"deviceApiKey":")" << d.key << R"(","deviceId":)" << d.id
          << R"(,"registered_at":1700000000000)";
    else
      out << R"(,"apiKey":")" << opts_.provisioning_key << '"';
    out << "}\n";
  }
  auto loaded = load_config({"--config", config_path, "--data-dir", d.dir,
                             "--engine", "unix:///nonexistent/docker.sock"},
                            {});
  if (auto* e = std::get_if<config_error>(&loaded))
    return e->what();
  if (!std::holds_alternative<config>(loaded))
    return "load_config: no configuration";
  auto deps = base_;
  deps.seed = d.engine_opts.seed;
  deps.time_scale = opts_.scale;
  deps.wall_clock_ms = fleet_clock_;
  deps.host = d.host;
  deps.log_prefix = true;
  // What 10,000 agents in one process need (docs/FLEET.md): no threads of
  // their own (their SQLite is on tmpfs, their host simulated), no D-Bus,
  // one open file for the database at rest.
  deps.blocking_detached = false;
  deps.no_bus = "simulated device";
  deps.db_journal = store::options::journal_kind::rollback;
  deps.proxy_env = [](std::string_view) -> std::optional<std::string> {
    return std::nullopt; // cloud-sim is local: no proxy
  };
  deps.engine = [so = d.engine_opts,
                 world = d.world](caf::actor_system& s) -> engine_actor {
    return sim::spawn_sim_engine(s, so, world);
  };
  auto started = start_agent(sys_, std::get<config>(loaded), deps);
  if (auto* why = std::get_if<std::string>(&started))
    return *why;
  d.running = std::get<agent>(started);
  d.app_manager = nullptr;
  d.engine = nullptr;
  ++d.starts;
  return {};
}

std::optional<core_actors> agents::core_of(device& d) {
  std::optional<core_actors> out;
  if (!d.running)
    return out;
  self_->request(d.running->root, 10s, caf::get_atom_v, core_atom_v)
    .receive([&](core_actors& c) { out = std::move(c); }, [](caf::error&) {});
  return out;
}

sim::sim_engine_actor agents::engine_of(device& d) {
  if (!d.engine)
    if (auto core = core_of(d))
      d.engine = caf::actor_cast<sim::sim_engine_actor>(core->engine);
  return d.engine;
}

std::optional<telemetry_snapshot> agents::telemetry_of(device& d) {
  auto core = core_of(d);
  std::optional<telemetry_snapshot> out;
  if (!core || !core->telemetry || !d.running)
    return out;
  auto t = core->telemetry;
  self_->request(t, 10s, collect_telemetry{d.running->root})
    .receive([&](telemetry_snapshot& s) { out = std::move(s); },
             [](caf::error&) {});
  return out;
}

std::optional<sim::sim_stats> agents::engine_stats_of(device& d) {
  std::optional<sim::sim_stats> out;
  auto e = engine_of(d);
  if (!e)
    return out;
  self_->request(e, 10s, sim::sim_stats_req{})
    .receive([&](sim::sim_stats& s) { out = s; }, [](caf::error&) {});
  return out;
}

size_t agents::stop(const std::vector<device*>& ds, caf::timespan deadline) {
  size_t waiting = 0;
  for (auto* d : ds) {
    if (!d->running)
      continue;
    // Root's children may outlive its down message: wait for the two that
    // a restart reuses (the engine's model, the database file) as well.
    if (auto core = core_of(*d)) {
      if (core->engine) {
        self_->monitor(core->engine);
        ++waiting;
      }
      if (core->db) {
        self_->monitor(core->db);
        ++waiting;
      }
    }
    self_->monitor(d->running->root);
    ++waiting;
    self_->send_exit(d->running->root, caf::exit_reason::user_shutdown);
    d->running.reset();
    d->app_manager = nullptr;
    d->engine = nullptr;
  }
  bool late = false;
  while (waiting > 0 && !late)
    self_->receive([&](caf::down_msg&) { --waiting; },
                   caf::after(deadline) >> [&] { late = true; });
  return waiting;
}

std::vector<probe_result> agents::probe(const std::vector<device*>& ds,
                                        caf::timespan deadline) {
  auto job = std::make_shared<probe_job>();
  job->app = opts_.app_uuid;
  job->deadline = deadline;
  for (auto* d : ds) {
    if (!d->running)
      continue;
    job->roots.push_back(d->running->root);
    job->ams.push_back(d->app_manager);
  }
  job->results.resize(job->roots.size());
  job->left = job->roots.size();
  auto done = job->done.get_future();
  sys_.spawn(prober, job);
  // Every request has its own deadline, so the helper always finishes.
  done.wait();
  std::vector<probe_result> out;
  out.reserve(ds.size());
  size_t j = 0;
  for (auto* d : ds) {
    if (!d->running) {
      out.emplace_back();
      continue;
    }
    d->app_manager = job->ams[j];
    out.push_back(std::move(job->results[j]));
    ++j;
  }
  return out;
}

} // namespace bosun::fleet
