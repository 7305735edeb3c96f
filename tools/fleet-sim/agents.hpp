#pragma once

// The simulated devices of one fleet-sim process: for each, a data dir with
// its config.json, a simulated engine's model (which outlives the agent, as
// a real device's dockerd does) and, while it runs, the whole agent
// (start_agent). Starts agents, stops them (waiting until their engine and
// database actors are gone, so a restart from the data dir finds both
// free), asks their app managers where they are (all at once, from one
// helper actor), and reaches their simulated engines for control messages.
#include "actors/agent.hpp"
#include "messages/app_manager.hpp"
#include "messages/core.hpp"
#include "messages/telemetry.hpp"
#include "tools/fleet-sim/scenario.hpp"
#include "tools/fleet-sim/sim_engine.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bosun::fleet {

struct device {
  size_t index = 0; // in the whole fleet (a shard runs a slice of them)
  std::string uuid;
  std::string key; // the device API key (registered devices)
  int64_t id = 0;  // cloud-sim's id (registered devices)
  std::string dir;
  sim::sim_options engine_opts;
  std::shared_ptr<sim::world> world;
  std::shared_ptr<const host_provider> host; // simulated host facts
  std::optional<agent> running;
  caf::actor app_manager; // cached; reset on restart
  sim::sim_engine_actor engine;
  uint32_t starts = 0;
};

// Where one agent is, as its app_manager says.
struct probe_result {
  bool answered = false;
  apps_state state = apps_state::idle;
  std::string commit; // of the fleet's app, "" when none
  std::string last_error;
  size_t crash_looping = 0; // services that crash-loop
};

struct agents_options {
  std::string cloud_url;
  std::string dir;
  double scale = 60;
  uint64_t seed = 1;
  int64_t fleet = 0;
  std::string provisioning_key; // register storm: every device's apiKey
  std::string app_uuid;
  size_t first = 0; // the fleet index of the first device (--shard)
};

class agents {
public:
  // Devices opts.first .. opts.first + n - 1 of the fleet; all() holds
  // them in that order (all()[k] is fleet device opts.first + k).
  agents(caf::actor_system& sys, agent_deps base, agents_options opts,
         const engine_model& engine, size_t n);

  std::vector<device>& all() {
    return devices_;
  }
  // Starts the agent from its data dir (config.json written on the first
  // start); "" or why it could not start.
  std::string start(device& d);
  // Kills the agents and waits (up to `deadline`) until each one's root,
  // engine and database are gone. Returns how many did not stop in time.
  size_t stop(const std::vector<device*>& ds, caf::timespan deadline);
  // Asks each agent's app manager (all at once); results in `ds`'s order.
  std::vector<probe_result> probe(const std::vector<device*>& ds,
                                  caf::timespan deadline);
  // The agent's simulated engine as root runs it now (looked up once per
  // start); an invalid handle when the agent does not run.
  sim::sim_engine_actor engine_of(device& d);
  // The agent's telemetry snapshot (its tree's mailboxes, handled counts);
  // nullopt when it does not run or did not answer in time.
  std::optional<telemetry_snapshot> telemetry_of(device& d);
  // What its simulated engine did so far (containers, pulls, log lines
  // written); nullopt when it does not run or did not answer in time.
  std::optional<sim::sim_stats> engine_stats_of(device& d);

private:
  // The running agent's core actors (root's get_atom, core_atom).
  std::optional<core_actors> core_of(device& d);

  caf::actor_system& sys_;
  agent_deps base_;
  agents_options opts_;
  std::vector<device> devices_;
  caf::scoped_actor self_;
  // Fleet time, every agent's wall clock: the real time when fleet-sim
  // started, then --scale times faster.
  std::function<int64_t()> fleet_clock_;
};

} // namespace bosun::fleet
