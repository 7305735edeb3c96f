// The scenario runner: sets up cloud-sim (a fleet, its devices unless they
// register themselves, the initial target), runs the steps on the driver
// thread, and between them keeps asking the agents of open stages where
// they are, samples cloud-sim's counters, RSS and CPU once a second, and
// runs what is due (faults to clear, log flood ticks).
#include "tools/fleet-sim/run.hpp"

#include "actors/engine/engine.hpp"
#include "actors/telemetry/process_stats.hpp"
#include "persistence/db.hpp"
#include "tools/fleet-sim/report.hpp"
#include "tools/fleet-sim/runner.hpp"
#include "tools/fleet-sim/sim_world.hpp"

#include <algorithm>
#include <caf/actor_system_config.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <malloc.h>
#include <random>
#include <sqlite3.h>
#include <sstream>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace bosun::fleet {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Each agent holds one file open at rest (its SQLite database, rollback
// journal: agent_deps::db_journal) and cloud connections while it talks to
// the cloud (polls, reports, the log stream; closed when idle for 30 s /
// 60 s divided by the scale). Measured with 1,000 agents (docs/FLEET.md):
// 1.0 per agent at rest, 2.3 at the busiest second of a rollout; the
// connections open at once are bounded by how fast the agents send (CPU),
// not by their number, so 1.5 is the estimate. Raises the soft limit to
// the hard one; "" when `devices` fit, else why not.
std::string check_open_files(size_t devices) {
  constexpr double per_agent = 1.5;
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  auto need
    = static_cast<size_t>(static_cast<double>(devices) * per_agent) + 64;
  if (rl.rlim_cur == RLIM_INFINITY || need <= rl.rlim_cur)
    return {};
  auto fit
    = static_cast<size_t>(static_cast<double>(rl.rlim_cur - 64) / per_agent);
  return std::to_string(devices) + " agents need about " + std::to_string(need)
         + " open files (1.5 each: SQLite's database, and cloud connections "
           "while they talk to the cloud); this process may open "
         + std::to_string(rl.rlim_cur)
         + " (ulimit -n, hard limit): at most about " + std::to_string(fit)
         + " agents here. Raise the hard limit (root with CAP_SYS_RESOURCE, "
           "or the container's nofile) or split the fleet in shards.";
}

// The machine's 1-minute load average (other work on it skews figures).
double load_average() {
  std::ifstream in("/proc/loadavg");
  double x = -1;
  in >> x;
  return x;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

size_t open_fds() {
  size_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++n;
  return n;
}

uint64_t rss_now() {
  return telemetry::read_process_stats().rss_bytes;
}

std::string app_uuid(int64_t fleet) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "f1ee75%026llx",
                static_cast<unsigned long long>(fleet));
  return buf;
}

int64_t fleet_id(const run_options& o) {
  auto base = o.part.count > 1 ? o.seed : static_cast<uint64_t>(::getpid());
  return 700000 + static_cast<int64_t>(base % 100000);
}

std::string commit_of(const release& r) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "c0ffee%026llx",
                static_cast<unsigned long long>(r.id));
  return buf;
}

// {"config":{},"apps":{...}}: one app, the release's services, each with
// an image of its own per release.
std::string target_of(int64_t fleet, const release& r) {
  std::ostringstream o;
  o << R"({"config":{},"apps":{")" << app_uuid(fleet) << R"(":{"id":)" << fleet
    << R"(,"name":"fleet","class":"fleet","releases":{")" << commit_of(r)
    << R"(":{"id":)" << r.id << R"(,"services":{)";
  for (size_t i = 0; i < r.services.size(); ++i) {
    const auto& s = r.services[i];
    o << (i ? "," : "") << '"' << s << R"(":{"id":)" << i + 1
      << R"(,"image_id":)" << r.id * 100 + static_cast<int64_t>(i)
      << R"(,"image":"reg.local/fleet-)" << s << ':' << r.name
      << R"(","environment":{"REL":")" << r.name << R"("},"labels":{}})";
  }
  o << R"(},"volumes":{},"networks":{}}}}}})";
  return o.str();
}

// A fixed order of the device indices per purpose, so that "10 %" is a
// subset of "100 %" and a run is the same for the same seed.
std::vector<size_t> order(size_t n, uint64_t seed, uint64_t salt) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = i;
  std::mt19937_64 rng(seed * 7919 + salt);
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

size_t share(double percent, size_t n) {
  return static_cast<size_t>(
    std::ceil(percent * static_cast<double>(n) / 100.0 - 1e-9));
}

bool runner::setup(std::string& err) {
  auto f = std::to_string(fleet_);
  std::string fleet_body = R"({"id":)" + f + R"(,"provisioning_key":"pk)" + f
                           + R"(","name":"fleet"})";
  // Shards share the fleet: another one may have created it (409).
  if (int st = cloud_.call("POST", "/fleets", fleet_body);
      st != 201 && st != 200 && !(sharded() && st == 409)) {
    err = "cannot create the fleet (" + std::to_string(st) + ")";
    return false;
  }
  if (!s_.register_storm) {
    std::ostringstream devs;
    devs << "[";
    for (auto& d : agents_.all())
      devs << (&d != &agents_.all().front() ? "," : "") << R"({"uuid":")"
           << d.uuid << R"(","api_key":")" << d.key << R"(","fleet":)" << fleet_
           << R"(,"id":)" << d.id << "}";
    devs << "]";
    if (int st = cloud_.call("POST", "/devices", devs.str());
        st != 200 && st != 201) {
      err = "cannot create the devices (" + std::to_string(st) + ")";
      return false;
    }
  }
  if (!s_.initial.empty()) {
    // The fleet's target is fleet-wide: shard 0 sets it, before the
    // barrier every shard passes ahead of the first step.
    if (leader())
      cloud_.call("PUT", "/fleets/" + f + "/target",
                  target_of(fleet_, *s_.find(s_.initial)));
    std::fill(served_.begin(), served_.end(), s_.initial);
  }
  if (!sharded()) // the other shards' counters are not ours to reset
    cloud_.call("POST", "/reset"); // counters from here on
  if (!o_.inspect.empty()) {
    if (!s_.initial.empty())
      inspector_.set_goal({app_uuid(fleet_), commit_of(*s_.find(s_.initial))});
    std::string why;
    if (!inspector_.start(o_.inspect, &why)) {
      err = "--inspect " + o_.inspect + ": " + why;
      return false;
    }
  }
  if (sharded()) {
    // Shards with another scenario file, --devices, --scale or --seed are
    // refused at the first barrier instead of running apart.
    tag_ = res_.scenario_digest + "/" + std::to_string(res_.fleet_devices) + "/"
           + std::to_string(scale_) + "/" + std::to_string(o_.seed);
    std::random_device rd;
    char id[32];
    std::snprintf(id, sizeof(id), "%08x%08x%08x", rd(), rd(),
                  static_cast<unsigned>(::getpid()));
    run_id_ = id;
    event("shard " + std::to_string(o_.part.index) + "/"
          + std::to_string(o_.part.count) + ": fleet devices "
          + std::to_string(res_.first_device) + ".."
          + std::to_string(res_.first_device + n_ - 1) + " of "
          + std::to_string(res_.fleet_devices));
  }
  res_.fleet = fleet_;
  res_.load_before = load_average();
  res_.rss_before_agents = rss_now();
  auto mi = ::mallinfo2();
  res_.heap_before_agents = mi.uordblks + mi.hblkhd;
  cpu0_ = cpu_seconds();
  t_start_ = clock_type::now();
  last_sample_ = t_start_;
  sample(); // the baseline the first rates are taken from
  return true;
}

void runner::sample() {
  sample_point sp;
  sp.t_s = since_start();
  sp.rss = rss_now();
  sp.cpu_s = cpu_seconds() - cpu0_;
  res_.fds_peak = std::max(res_.fds_peak, open_fds());
  std::string body;
  if (cloud_.call("GET", "/counts", "", &body) == 200)
    if (auto c = parse_counts(body))
      sp.routes = *c;
  for (const auto& os : open_)
    for (bool d : os.done)
      sp.converged += d ? 1 : 0;
  res_.samples.push_back(sp);
}

void runner::tick() {
  auto now = clock_type::now();
  for (size_t k = 0; k < due_.size();) {
    if (due_[k].at <= now) {
      auto a = std::move(due_[k]);
      due_.erase(due_.begin() + static_cast<std::ptrdiff_t>(k));
      event(a.what);
      a.fn();
    } else {
      ++k;
    }
  }
  for (auto& f : floods_) {
    if (f.last >= f.until || now - f.last < 1s)
      continue;
    auto until = std::min(now, f.until);
    auto lines = static_cast<size_t>(
      f.lines_per_s * std::chrono::duration<double>(until - f.last).count());
    f.last = until;
    for (auto i : f.devices)
      if (auto e = agents_.engine_of(agents_.all()[i])) {
        caf::anon_send(e, sim::sim_write_logs{f.service, lines, false});
        res_.flood_lines_written += lines;
      }
  }
}

void runner::pump_until(clock_type::time_point until, bool stop_when_converged,
                        const std::function<bool()>& stop) {
  auto period = std::chrono::milliseconds(o_.probe_ms);
  for (;;) {
    tick();
    auto now = clock_type::now();
    if (now - last_sample_ >= 1s) {
      last_sample_ = now;
      sample();
    }
    if (now - last_probe_ >= period) {
      last_probe_ = now;
      probe();
    }
    bool all = true;
    for (const auto& os : open_)
      for (bool d : os.done)
        all = all && d;
    if ((stop_when_converged && all) || (stop && stop())
        || clock_type::now() >= until)
      return;
    std::this_thread::sleep_for(20ms); // a sampling period, not a sync
  }
}

void runner::steps() {
  bool ok = true;
  for (size_t k = 0; ok && k < s_.steps.size(); ++k) {
    const auto& st = s_.steps[k];
    auto number = std::to_string(k + 1);
    // Sharded: no shard begins step k + 1 before every shard finished step
    // k (a slower shard may take as long as that step can).
    if (!sync("s" + number + "-" + name_of(st.kind),
              "step " + number + " (" + name_of(st.kind) + ")", k + 1,
              k > 0 ? longest(s_.steps[k - 1]) : clock_type::duration{})) {
      ok = false;
      break;
    }
    switch (st.kind) {
      case step_kind::start:
        do_start(st);
        break;
      case step_kind::release:
        ok = do_release(st, k + 1);
        break;
      case step_kind::wait: {
        pump_until(clock_type::now() + length(st, 3600), true);
        close_all(st.min_converged_percent);
        break;
      }
      case step_kind::sleep:
        pump_until(clock_type::now() + length(st), false);
        break;
      case step_kind::fault:
        do_fault(st);
        break;
      case step_kind::clear:
        if (leader()) { // cloud-sim's faults are global
          cloud_.call("DELETE", "/faults");
          event("faults cleared");
        }
        break;
      case step_kind::restart:
        do_restart(st);
        break;
      case step_kind::behave:
        do_behave(st);
        break;
      case step_kind::log_flood:
        do_flood(st);
        break;
    }
  }
  if (!open_.empty())
    close_all(100);
  // The shards end together too: the last step's skew is recorded, and
  // shard 0 keeps clearing its timed faults until the others are done.
  if (ok && !s_.steps.empty())
    sync("end", "end", s_.steps.size() + 1, longest(s_.steps.back()));
}

std::map<std::string, uint64_t>
runner::handled(const std::vector<size_t>& pick) {
  std::map<std::string, uint64_t> out;
  for (auto i : pick)
    if (auto t = agents_.telemetry_of(agents_.all()[i]))
      for (const auto& a : t->actors)
        if (a.sampled)
          out[a.kind] += a.sample.handled;
  return out;
}

// What idle agents do: messages handled per agent and second by actor kind
// (from the telemetry of up to 100 agents), and the process's CPU, over
// --activity-s of wall time at the end of the run.
void runner::activity() {
  std::vector<size_t> pick;
  for (auto i : order(n_, o_.seed, 5))
    if (pick.size() < 100 && agents_.all()[i].running)
      pick.push_back(i);
  if (pick.empty())
    return;
  auto before = handled(pick);
  auto cpu = cpu_seconds();
  auto t0 = clock_type::now();
  pump_until(t0 + std::chrono::seconds(o_.activity_s), false);
  auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  res_.activity_cpu_s = cpu_seconds() - cpu;
  res_.activity_s = secs;
  auto after = handled(pick);
  for (const auto& [kind, n] : after)
    res_.activity[kind] = static_cast<double>(n - before[kind])
                          / (static_cast<double>(pick.size()) * secs);
  event("activity of " + std::to_string(pick.size()) + " agents over "
        + std::to_string(secs) + " s");
}

void runner::finish() {
  if (o_.activity_s > 0)
    activity();
  sample();
  res_.wall_s = since_start();
  res_.cpu_s = cpu_seconds() - cpu0_;
  res_.rss_end = rss_now();
  res_.load_end = load_average();
  std::string counts;
  if (cloud_.call("GET", "/counts", "", &counts) == 200)
    res_.cloud_counts = counts;
  if (auto u = cloud_.child_usage()) {
    res_.cloud_sim_cpu_s = u->first;
    res_.cloud_sim_rss = u->second;
  }
  // Where the flooding devices' lines went, once their agents have sent
  // all they got (or a minute passed): the log path's lag behind the flood.
  if (!res_.flood_devices.empty()) {
    auto t0 = since_start();
    auto next = clock_type::now();
    pump_until(clock_type::now() + 60s, false, [&] {
      if (clock_type::now() < next)
        return false;
      next = clock_type::now() + 1s;
      count_flood();
      return res_.flood_lines_sent
               == res_.flood_lines_agents_got + res_.flood_system_lines
             && res_.flood_lines_received == res_.flood_lines_sent;
    });
    res_.flood_drain_s = since_start() - t0;
  }
  size_t running = 0;
  for (auto& d : agents_.all())
    running += d.running ? 1 : 0;
  res_.agents_running = running;
  std::vector<device*> all;
  for (auto& d : agents_.all())
    all.push_back(&d);
  if (auto late = agents_.stop(all, 60s); late > 0)
    error(std::to_string(late) + " agent actors did not stop at the end");
  inspector_.stop();
}

void runner::count_flood() {
  res_.flood_lines_in_engines = res_.flood_lines_agents_got = 0;
  res_.flood_system_lines = res_.flood_lines_sent = 0;
  res_.flood_lines_received = 0;
  for (const auto& u : res_.flood_devices) {
    for (auto& d : agents_.all()) {
      if (d.uuid != u)
        continue;
      if (auto s = agents_.engine_stats_of(d))
        res_.flood_lines_in_engines += s->log_lines;
      if (auto t = agents_.telemetry_of(d); t && t->logs) {
        res_.flood_lines_agents_got += t->logs->lines;
        res_.flood_system_lines += t->logs->system_lines;
        res_.flood_lines_sent += t->logs->cloud.lines;
      }
    }
    std::string body;
    if (cloud_.call("GET", "/devices/" + u, "", &body) != 200)
      continue;
    auto at = body.find("\"log_lines\":");
    if (at != std::string::npos)
      res_.flood_lines_received += std::stoull(body.substr(at + 12));
  }
}

int run_scenario(const run_options& opts) {
  auto o = opts;
  std::string err;
  auto text = read_file(o.scenario);
  auto s = parse_scenario(text, err);
  if (text.empty() || !s) {
    std::cerr << "fleet-sim: " << o.scenario << ": "
              << (text.empty() ? "cannot read it" : err) << "\n";
    return 2;
  }
  result res;
  res.scenario = s->name;
  res.description = s->description;
  char digest[24];
  std::snprintf(digest, sizeof(digest), "%016llx",
                static_cast<unsigned long long>(sim::fnv1a(text)));
  res.scenario_digest = digest;
  res.fleet_devices = o.devices ? o.devices : s->devices;
  auto slice = shard_range(res.fleet_devices, o.part);
  if (slice.size() == 0) {
    std::cerr << "fleet-sim: shard " << o.part.index << "/" << o.part.count
              << " of " << res.fleet_devices << " devices has none\n";
    return 2;
  }
  res.devices = slice.size();
  res.first_device = slice.first;
  res.shard_index = o.part.index;
  res.shard_count = o.part.count;
  res.scale = o.scale > 0 ? o.scale : s->scale;
  res.seed = o.seed;
  res.register_storm = s->register_storm;
  res.poll_interval_s = 900.0 / res.scale;
  res.max_jitter_s = 60.0 / res.scale; // cloud_sync's, scaled (agent_deps)
  const auto& m = s->engine;
  res.apply_estimate_s
    = (2.0 * static_cast<double>(m.registry_latency_ms) / 1000.0
       + static_cast<double>(m.image_bytes) / m.bandwidth * 1.25
       + static_cast<double>(m.create_ms + m.start_ms + m.stop_ms + m.remove_ms)
           / 1000.0)
      / res.scale;
  if (auto why = check_open_files(res.devices); !why.empty()) {
    std::cerr << "fleet-sim: " << why << "\n";
    return 2;
  }
  if (o.dir.empty())
    o.dir = (fs::temp_directory_path()
             / ("fleet-sim-" + std::to_string(::getpid())))
              .string();
  if (o.out.empty())
    o.out = "fleet-out";
  fs::create_directories(o.dir);
  fs::create_directories(o.out);

  std::optional<cloud> c;
  if (o.cloud.empty()) {
    auto started = cloud::start(o.cloud_sim, err);
    if (!started) {
      std::cerr << "fleet-sim: " << err << "\n";
      return 2;
    }
    c.emplace(std::move(*started));
  } else {
    c.emplace(o.cloud, o.admin);
  }

  // Every agent's warnings and errors go to one file, counted at the end.
  auto log_path = o.out + "/agents.log";
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  int rc = 0;
  {
    // The actor system as bosun's main.cpp sets it up (two workers, the
    // sharing policy whose idle workers sleep, max-throughput 100), so an
    // agent here costs what it costs on a device.
    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", 2);
    cfg.set("scheduler.max-throughput", 100);
    cfg.set("scheduler.policy", caf::atom("sharing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    add_db_error_category(cfg);
    add_engine_error_renderer(cfg);
    caf::actor_system sys{cfg};
    std::thread io_thread([&io] { io.run(); });
    agent_deps deps{io, std::make_shared<const logger>(
                          log_level::warn, log_fd >= 0 ? log_fd : 2)};
    {
      runner r(o, *s, *c, sys, deps, res);
      if (!r.setup(err)) {
        std::cerr << "fleet-sim: " << err << "\n";
        rc = 2;
      } else {
        r.steps();
        r.finish();
      }
      // The agents stop with the actor system; the runner's handles go.
    }
    work.reset();
    io.stop();
    io_thread.join();
  }
  if (log_fd >= 0)
    ::close(log_fd);
  if (rc != 0)
    return rc;
  res.agent_log = summarise_log(log_path);
  res.ok = res.ok && res.errors.empty();
  auto path = o.out + "/result.json";
  std::ofstream(path) << to_json(res);
  std::cerr << "fleet-sim: wrote " << path << "\n";
  write_report(path, o.out, o.plots);
  if (!o.keep)
    fs::remove_all(o.dir);
  return res.ok ? 0 : 1;
}

} // namespace bosun::fleet
