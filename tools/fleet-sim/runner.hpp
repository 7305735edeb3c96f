#pragma once

// fleet-sim's scenario runner, shared by run.cpp (setting up, sampling,
// the step loop, the end), steps.cpp (stages and the steps that change
// the fleet) and sync.cpp (--shard: the barriers the shards step together
// at). Internal to fleet-sim.
#include "tools/fleet-sim/agents.hpp"
#include "tools/fleet-sim/cloud.hpp"
#include "tools/fleet-sim/inspect.hpp"
#include "tools/fleet-sim/result.hpp"
#include "tools/fleet-sim/run.hpp"
#include "tools/fleet-sim/scenario.hpp"

#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

namespace bosun::fleet {

using clock_type = std::chrono::steady_clock;

double cpu_seconds(); // this process, user + system (getrusage)
uint64_t rss_now();   // this process
size_t open_fds();    // this process
std::string app_uuid(int64_t fleet);
// The fleet's id: from the seed when sharded (every shard must agree), else
// from the process id.
int64_t fleet_id(const run_options& o);
std::string commit_of(const release& r);
// {"config":{},"apps":{...}}: one app, the release's services, each with
// an image of its own per release.
std::string target_of(int64_t fleet, const release& r);
// A fixed order of the device indices per purpose (`salt`), so that
// "10 %" is a subset of "100 %" and a run is the same for the same seed.
std::vector<size_t> order(size_t n, uint64_t seed, uint64_t salt);
// How many of `n` are `percent` % (rounded up).
size_t share(double percent, size_t n);

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
        fleet_(fleet_id(o)),
        agents_(sys, std::move(deps),
                agents_options{c.url(), o.dir, res.scale, o.seed, fleet_,
                               s.register_storm ? "pk" + std::to_string(fleet_)
                                                : std::string{},
                               app_uuid(fleet_), res.first_device},
                s.engine, res.devices),
        sys_(sys), served_(res.devices), own_target_(res.devices, false),
        stage_of_(res.devices, -1), inspector_(sys) {}

  bool sharded() const {
    return o_.part.count > 1;
  }
  // Shard 0 (or the only process) does what is fleet-wide: the fleet's
  // target, cloud-sim's faults. The others do their devices' part only.
  bool leader() const {
    return o_.part.index == 0;
  }
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
  // --inspect asks the agent (again, after a restart).
  void inspect(const device& d) {
    if (!o_.inspect.empty() && d.running)
      inspector_.add_agent({d.uuid, d.running->root});
  }
  void error(const std::string& what) {
    res_.errors.push_back(what);
    std::cerr << "fleet-sim: error: " << what << "\n";
  }
  void open(const std::string& name, const std::string& rel,
            std::vector<size_t> ds, size_t started = 0);
  void close_all(double min_percent);
  // Samples, probes and runs what is due until `until`, or until the open
  // stages converged (`stop_when_converged`), or `stop` says so.
  void pump_until(clock_type::time_point until, bool stop_when_converged,
                  const std::function<bool()>& stop = nullptr);
  // The longest step `st` may take (a wait's timeout, a sleep); 0 for the
  // others.
  clock_type::duration longest(const step& st) const;
  // --shard: waits (pumping) until every shard arrived at the barrier
  // "<fleet>-<key>" in cloud-sim, at most `allow` + --barrier-timeout-s;
  // records it in result.barriers. false, with an error, when the others
  // did not come or cloud-sim refused. true at once when not sharded.
  bool sync(const std::string& key, const std::string& what, size_t step,
            clock_type::duration allow);
  void probe();
  clock_type::time_point converged_at(size_t i, clock_type::time_point t0,
                                      clock_type::time_point probed);
  void sample();
  void mailboxes(stage_result& sr, const std::vector<size_t>& ds);
  std::map<std::string, uint64_t> handled(const std::vector<size_t>& pick);
  void activity();
  void tick();
  // The flooding devices' lines: in their engines, agents and cloud-sim.
  void count_flood();
  void do_start(const step& st);
  bool do_release(const step& st, size_t number); // false: a barrier failed
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
  inspector inspector_; // --inspect: the running agents, the stage's goal
  // --shard: what every shard must agree on at a barrier (the scenario
  // file, devices, scale, seed), and this process's own id there.
  std::string tag_;
  std::string run_id_;
};

} // namespace bosun::fleet
