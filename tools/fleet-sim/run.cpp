// The scenario runner: sets up cloud-sim (a fleet, its devices unless they
// register themselves, the initial target), runs the steps on the driver
// thread, and between them keeps asking the agents of open stages where
// they are, samples cloud-sim's counters, RSS and CPU once a second, and
// runs what is due (faults to clear, log flood ticks).
#include "tools/fleet-sim/run.hpp"

#include "actors/engine/engine.hpp"
#include "actors/telemetry/process_stats.hpp"
#include "persistence/db.hpp"
#include "tools/fleet-sim/agents.hpp"
#include "tools/fleet-sim/cloud.hpp"
#include "tools/fleet-sim/report.hpp"
#include "tools/fleet-sim/result.hpp"
#include "tools/fleet-sim/scenario.hpp"

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
using clock_type = std::chrono::steady_clock;

namespace {

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

// Each agent holds about 6 files open: its SQLite database in WAL mode (3)
// and its connections to the cloud (the log stream, polls, reports). Raises
// the soft limit to the hard one; "" when `devices` fit, else why not.
std::string check_open_files(size_t devices) {
  constexpr size_t per_agent = 6;
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  auto need = devices * per_agent + 64;
  if (rl.rlim_cur == RLIM_INFINITY || need <= rl.rlim_cur)
    return {};
  return std::to_string(devices) + " agents need about " + std::to_string(need)
         + " open files (" + std::to_string(per_agent)
         + " each: SQLite's database, -wal and -shm, and cloud connections); "
           "this process may open "
         + std::to_string(rl.rlim_cur)
         + " (ulimit -n, hard limit): at most about "
         + std::to_string((rl.rlim_cur - 64) / per_agent)
         + " agents here. Raise the hard limit (root with CAP_SYS_RESOURCE, "
           "or the container's nofile) or split the fleet in shards.";
}

uint64_t rss_now() {
  return telemetry::read_process_stats().rss_bytes;
}

// The machine's 1-minute load average (other work on it skews figures).
double load_average() {
  std::ifstream in("/proc/loadavg");
  double x = -1;
  in >> x;
  return x;
}

std::string app_uuid(int64_t fleet) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "f1ee75%026llx",
                static_cast<unsigned long long>(fleet));
  return buf;
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

struct open_stage {
  size_t index = 0; // in result.stages
  clock_type::time_point t0;
  std::vector<size_t> devices;
  std::vector<bool> done;
};

struct flood {
  std::vector<size_t> devices;
  std::string service;
  double lines_per_s = 0;
  clock_type::time_point until;
  clock_type::time_point last;
};

struct due_action {
  clock_type::time_point at;
  std::string what;
  std::function<void()> fn;
};

class runner {
public:
  runner(const run_options& o, const scenario& s, cloud& c,
         caf::actor_system& sys, agent_deps deps, result& res)
      : o_(o), s_(s), cloud_(c), res_(res), n_(res.devices), scale_(res.scale),
        fleet_(700000 + ::getpid() % 100000),
        agents_(sys, std::move(deps),
                agents_options{c.url(), o.dir, res.scale, o.seed, fleet_,
                               s.register_storm ? "pk" + std::to_string(fleet_)
                                                : std::string{},
                               app_uuid(fleet_)},
                s.engine, res.devices),
        sys_(sys), served_(res.devices), own_target_(res.devices, false),
        stage_of_(res.devices, -1) {}

  bool setup(std::string& err);
  void steps();
  void finish();

private:
  double since_start() const {
    return std::chrono::duration<double>(clock_type::now() - t_start_).count();
  }
  // A step's duration: its wall_seconds as they are, else its seconds of
  // fleet time scaled down.
  clock_type::duration length(const step& st, double fallback = 0) const {
    if (st.wall_seconds >= 0)
      return std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(st.wall_seconds));
    return wall(st.seconds > 0 ? st.seconds : fallback);
  }
  bool timed(const step& st) const {
    return st.wall_seconds > 0 || st.seconds > 0;
  }
  clock_type::duration wall(double fleet_seconds) const {
    return std::chrono::duration_cast<clock_type::duration>(
      std::chrono::duration<double>(fleet_seconds / scale_));
  }
  void event(const std::string& what) {
    res_.events.push_back({since_start(), what});
    std::cerr << "fleet-sim: " << since_start() << " s: " << what << "\n";
  }
  void error(const std::string& what) {
    res_.errors.push_back(what);
    std::cerr << "fleet-sim: error: " << what << "\n";
  }
  void open(const std::string& name, const std::string& rel,
            std::vector<size_t> ds, size_t started = 0);
  void close_all(double min_percent);
  void pump_until(clock_type::time_point until, bool stop_when_converged);
  void probe();
  void sample();
  void mailboxes(stage_result& sr, const std::vector<size_t>& ds);
  std::map<std::string, uint64_t> handled(const std::vector<size_t>& pick);
  void activity();
  void tick();
  void do_start(const step& st);
  void do_release(const step& st);
  void do_restart(const step& st);
  void do_behave(const step& st);
  void do_flood(const step& st);
  void do_fault(const step& st);

  const run_options& o_;
  const scenario& s_;
  cloud& cloud_;
  result& res_;
  size_t n_;
  double scale_;
  int64_t fleet_;
  agents agents_;
  caf::actor_system& sys_;
  std::vector<std::string> served_; // release each device is served
  std::vector<bool> own_target_;    // a device target is set
  std::vector<int> stage_of_;       // open stage index, -1 none
  std::vector<open_stage> open_;
  std::vector<flood> floods_;
  std::vector<due_action> due_;
  clock_type::time_point t_start_ = clock_type::now();
  clock_type::time_point last_sample_{};
  clock_type::time_point last_probe_{};
  double cpu0_ = 0;
};

bool runner::setup(std::string& err) {
  auto f = std::to_string(fleet_);
  std::string fleet_body = R"({"id":)" + f + R"(,"provisioning_key":"pk)" + f
                           + R"(","name":"fleet"})";
  if (int st = cloud_.call("POST", "/fleets", fleet_body);
      st != 201 && st != 200) {
    err = "cannot create the fleet (" + std::to_string(st) + ")";
    return false;
  }
  if (!s_.register_storm) {
    std::ostringstream devs;
    devs << "[";
    for (auto& d : agents_.all())
      devs << (d.index ? "," : "") << R"({"uuid":")" << d.uuid
           << R"(","api_key":")" << d.key << R"(","fleet":)" << fleet_
           << R"(,"id":)" << d.id << "}";
    devs << "]";
    if (int st = cloud_.call("POST", "/devices", devs.str());
        st != 200 && st != 201) {
      err = "cannot create the devices (" + std::to_string(st) + ")";
      return false;
    }
  }
  if (!s_.initial.empty()) {
    cloud_.call("PUT", "/fleets/" + f + "/target",
                target_of(fleet_, *s_.find(s_.initial)));
    std::fill(served_.begin(), served_.end(), s_.initial);
  }
  cloud_.call("POST", "/reset"); // counters from here on
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

void runner::open(const std::string& name, const std::string& rel,
                  std::vector<size_t> ds, size_t started) {
  stage_result sr;
  sr.name = name;
  sr.release = rel;
  sr.t0_s = since_start();
  sr.devices = ds.size();
  sr.started = started;
  sr.rss_before = rss_now();
  res_.stages.push_back(sr);
  open_stage os;
  os.index = res_.stages.size() - 1;
  os.t0 = clock_type::now();
  os.done.assign(ds.size(), false);
  int at = static_cast<int>(open_.size());
  for (auto i : ds) {
    if (stage_of_[i] >= 0) {
      // Superseded: it no longer counts in the older stage.
      auto& old = open_[static_cast<size_t>(stage_of_[i])];
      auto p = std::find(old.devices.begin(), old.devices.end(), i)
               - old.devices.begin();
      old.done[static_cast<size_t>(p)] = true;
      ++res_.stages[old.index].superseded;
    }
    stage_of_[i] = at;
  }
  os.devices = std::move(ds);
  open_.push_back(std::move(os));
  event("stage \"" + name + "\": " + std::to_string(sr.devices) + " devices");
}

void runner::probe() {
  std::vector<device*> ask;
  std::vector<std::pair<size_t, size_t>> where; // (open stage, position)
  for (size_t s = 0; s < open_.size(); ++s)
    for (size_t p = 0; p < open_[s].devices.size(); ++p)
      if (!open_[s].done[p]) {
        ask.push_back(&agents_.all()[open_[s].devices[p]]);
        where.emplace_back(s, p);
      }
  if (ask.empty())
    return;
  auto rs = agents_.probe(ask, 10s);
  auto now = clock_type::now();
  for (size_t k = 0; k < rs.size(); ++k) {
    auto [s, p] = where[k];
    auto& os = open_[s];
    auto i = os.devices[p];
    const auto& r = rs[k];
    if (r.answered && r.state == apps_state::idle
        && r.commit == commit_of(*s_.find(served_[i]))) {
      os.done[p] = true;
      res_.stages[os.index].times_s.push_back(
        std::chrono::duration<double>(now - os.t0).count());
    }
  }
}

void runner::close_all(double min_percent) {
  for (auto& os : open_) {
    auto& sr = res_.stages[os.index];
    // Every device of the stage as it is now: the reasons of the ones that
    // did not converge, and services crash-looping on converged ones (an
    // app manager at its target may still restart a failing service).
    std::vector<device*> ask;
    std::vector<bool> done;
    for (size_t p = 0; p < os.devices.size(); ++p) {
      ask.push_back(&agents_.all()[os.devices[p]]);
      done.push_back(os.done[p]);
    }
    auto rs = agents_.probe(ask, 10s);
    for (size_t k = 0; k < rs.size(); ++k) {
      const auto& r = rs[k];
      if (r.crash_looping > 0)
        sr.crash_looping.push_back(ask[k]->uuid);
      if (done[k])
        continue;
      std::string why;
      if (!ask[k]->running)
        why = "not running";
      else if (!r.answered)
        why = "app_manager did not answer";
      else
        why = std::string(to_string(r.state)) + " at "
              + (r.commit.empty() ? std::string{"no release"} : r.commit)
              + (r.crash_looping ? ", crash-looping" : "")
              + (r.last_error.empty() ? "" : ", last error: " + r.last_error);
      sr.not_converged.push_back({ask[k]->uuid, why});
    }
    for (auto i : os.devices)
      stage_of_[i] = -1;
    mailboxes(sr, os.devices);
    sr.rss_after = rss_now();
    // Where the memory is: the heap in use, SQLite's share of it (every
    // connection in the process), and how many actors run.
    auto mi = ::mallinfo2();
    sr.heap_bytes = mi.uordblks + mi.hblkhd;
    sr.sqlite_bytes = static_cast<uint64_t>(::sqlite3_memory_used());
    sr.actors = sys_.registry().running();
    sr.min_percent = min_percent;
    auto need
      = static_cast<double>(sr.devices - sr.superseded) * min_percent / 100.0;
    sr.ok = static_cast<double>(sr.times_s.size()) + 1e-9 >= need;
    if (!sr.ok)
      res_.ok = false;
    event("stage \"" + sr.name
          + "\" closed: " + std::to_string(sr.times_s.size()) + "/"
          + std::to_string(sr.devices - sr.superseded) + " converged");
  }
  open_.clear();
}

void runner::mailboxes(stage_result& sr, const std::vector<size_t>& ds) {
  // Up to 100 of the stage's agents, a fixed choice.
  std::vector<size_t> pick;
  for (auto i : order(n_, o_.seed, 5))
    if (pick.size() < 100 && agents_.all()[i].running
        && std::find(ds.begin(), ds.end(), i) != ds.end())
      pick.push_back(i);
  for (auto i : pick) {
    auto t = agents_.telemetry_of(agents_.all()[i]);
    if (!t)
      continue;
    ++sr.mailbox_agents;
    for (const auto& a : t->actors) {
      if (!a.sampled)
        continue;
      auto& m = sr.mailboxes[a.kind];
      m.first = std::max(m.first, a.sample.mailbox);
      m.second = std::max(m.second, a.sample.mailbox_max);
    }
  }
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

void runner::pump_until(clock_type::time_point until,
                        bool stop_when_converged) {
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
    if ((stop_when_converged && all) || clock_type::now() >= until)
      return;
    std::this_thread::sleep_for(20ms); // a sampling period, not a sync
  }
}

void runner::do_start(const step& st) {
  auto rss = rss_now();
  auto t0 = clock_type::now();
  auto k = share(st.percent, n_);
  size_t started = 0;
  std::vector<size_t> fresh;
  for (size_t i = 0; i < k; ++i)
    if (!agents_.all()[i].running && agents_.all()[i].starts == 0)
      fresh.push_back(i);
  open(st.stage, s_.initial, fresh, fresh.size());
  res_.stages.back().rss_before = rss;
  open_.back().t0 = t0;
  size_t before = 0; // agents started by earlier steps
  for (const auto& d : agents_.all())
    before += d.starts > 0 ? 1 : 0;
  for (auto i : fresh) {
    if (auto why = agents_.start(agents_.all()[i]); !why.empty()) {
      error("agent " + std::to_string(i) + ": " + why);
      continue;
    }
    ++started;
    if (started % 1000 == 0) {
      res_.rss_checkpoints.push_back({started + before, rss_now()});
      tick();
    }
  }
  res_.stages.back().start_s
    = std::chrono::duration<double>(clock_type::now() - t0).count();
  event("started " + std::to_string(started) + " agents in "
        + std::to_string(res_.stages.back().start_s) + " s");
}

void runner::do_release(const step& st) {
  const auto& rel = *s_.find(st.release);
  auto k = share(st.percent, n_);
  auto ord = order(n_, o_.seed, 1);
  std::vector<size_t> ds;
  auto body = target_of(fleet_, rel);
  if (k == n_) {
    cloud_.call("PUT", "/fleets/" + std::to_string(fleet_) + "/target", body);
    for (size_t i = 0; i < n_; ++i) {
      if (own_target_[i]) {
        cloud_.call("DELETE", "/devices/" + agents_.all()[i].uuid + "/target");
        own_target_[i] = false;
      }
      if (served_[i] != rel.name) {
        served_[i] = rel.name;
        if (agents_.all()[i].starts > 0)
          ds.push_back(i);
      }
    }
  } else {
    for (size_t j = 0; j < k; ++j) {
      auto i = ord[j];
      if (served_[i] == rel.name)
        continue;
      int status = cloud_.call(
        "PUT", "/devices/" + agents_.all()[i].uuid + "/target", body);
      if (status != 200) {
        error("device target for " + agents_.all()[i].uuid + ": "
              + std::to_string(status));
        continue;
      }
      own_target_[i] = true;
      served_[i] = rel.name;
      if (agents_.all()[i].starts > 0)
        ds.push_back(i);
    }
  }
  open(st.stage, rel.name, std::move(ds));
}

void runner::do_restart(const step& st) {
  std::vector<size_t> running;
  for (auto i : order(n_, o_.seed, 2))
    if (agents_.all()[i].running)
      running.push_back(i);
  running.resize(std::min(running.size(), share(st.percent, running.size())));
  std::vector<device*> ds;
  for (auto i : running)
    ds.push_back(&agents_.all()[i]);
  auto t0 = clock_type::now();
  if (auto late = agents_.stop(ds, 30s); late > 0)
    error(std::to_string(late) + " actors of killed agents did not stop");
  size_t again = 0;
  for (auto* d : ds) {
    if (auto why = agents_.start(*d); !why.empty())
      error("restarting agent " + std::to_string(d->index) + ": " + why);
    else
      ++again;
  }
  res_.restarts += again;
  event("killed " + std::to_string(ds.size()) + " agents and started "
        + std::to_string(again) + " again from their data dirs in "
        + std::to_string(
          std::chrono::duration<double>(clock_type::now() - t0).count())
        + " s");
}

void runner::do_behave(const step& st) {
  auto ord = order(n_, o_.seed, 3);
  ord.resize(share(st.percent, n_));
  sim::behaviour how;
  how.kind = st.behaviour == "crash_loop"  ? sim::behaviour_kind::crash_loop
             : st.behaviour == "exit_once" ? sim::behaviour_kind::exit_once
             : st.behaviour == "unhealthy" ? sim::behaviour_kind::unhealthy
                                           : sim::behaviour_kind::run;
  how.run_for
    = std::chrono::duration_cast<std::chrono::milliseconds>(wall(st.run_for_s));
  how.exit_code = st.exit_code;
  size_t told = 0;
  for (auto i : ord) {
    auto& d = agents_.all()[i];
    if (auto e = agents_.engine_of(d)) {
      caf::anon_send(e, sim::sim_behave{st.service, how});
      res_.behaving.push_back(d.uuid);
      ++told;
    }
  }
  event(std::to_string(told) + " devices: " + st.service + " will "
        + st.behaviour);
}

void runner::do_flood(const step& st) {
  auto ord = order(n_, o_.seed, 4);
  ord.resize(share(st.percent, n_));
  flood f;
  f.devices = ord;
  f.service = st.service;
  f.lines_per_s = st.lines_per_s;
  f.last = clock_type::now();
  f.until = f.last + length(st);
  for (auto i : ord)
    res_.flood_devices.push_back(agents_.all()[i].uuid);
  floods_.push_back(f);
  event(std::to_string(ord.size()) + " devices flood logs ("
        + std::to_string(static_cast<int>(st.lines_per_s))
        + " lines/s each, wall time)");
}

void runner::do_fault(const step& st) {
  std::string out;
  int status = cloud_.call("POST", "/faults", st.fault_json, &out);
  if (status != 200) {
    error("fault " + st.fault_json + ": " + std::to_string(status) + " " + out);
    return;
  }
  event("fault " + st.fault_json);
  if (timed(st)) {
    auto route = st.route;
    auto target = route == "all" ? std::string{"/faults"} : "/faults/" + route;
    due_.push_back({clock_type::now() + length(st),
                    "fault on " + route + " cleared",
                    [this, target] { cloud_.call("DELETE", target); }});
  }
}

void runner::steps() {
  for (const auto& st : s_.steps) {
    switch (st.kind) {
      case step_kind::start:
        do_start(st);
        break;
      case step_kind::release:
        do_release(st);
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
        cloud_.call("DELETE", "/faults");
        event("faults cleared");
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
  // The lines cloud-sim recorded from the flooding devices.
  for (const auto& u : res_.flood_devices) {
    std::string body;
    if (cloud_.call("GET", "/devices/" + u, "", &body) != 200)
      continue;
    auto at = body.find("\"log_lines\":");
    if (at != std::string::npos)
      res_.flood_lines_received += std::stoull(body.substr(at + 12));
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
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

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
  res.devices = o.devices ? o.devices : s->devices;
  res.scale = o.scale > 0 ? o.scale : s->scale;
  res.seed = o.seed;
  res.register_storm = s->register_storm;
  res.poll_interval_s = 900.0 / res.scale;
  res.max_jitter_s = 60; // cloud_sync's, not scaled (docs/FLEET.md)
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
