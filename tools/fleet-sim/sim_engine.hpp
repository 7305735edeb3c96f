#pragma once

// The simulated engine: an actor with the engine actor's typed interface
// (messages/engine.hpp) over an in-memory model (sim_world.hpp), for
// fleet-sim and for tests where no real engine exists. Never used where a
// real engine does.
//
// Time is the actor clock's: creates, starts and stops take the configured
// time, pulls take latency + size / bandwidth and report per-layer progress
// as dockerd does, healthchecks turn healthy after their interval, and
// containers told to crash, crash-loop or turn unhealthy do so after their
// run time. All delays are delayed sends to itself, so on CAF's test
// coordinator the engine runs in virtual time, and a run is the same for the
// same seed, options and inputs (the seed decides ids and pull failures).
//
// Streams as the real engine actor gives them: events to engine_subscribe
// listeners (container/image/volume/network, dockerd's shapes), logs as
// log_lines batches (follow until the container stops, flow control by
// window and log_ack), pulls as image_pull_event lines then the reply.
//
// Control (sim_engine_actor only, not engine_actor): sim_behave sets how
// the containers of a service behave from their next start; sim_crash makes
// running containers exit now; sim_write_logs makes a container write lines;
// sim_set_up takes the engine down or brings it back; sim_stats_req.
#include "messages/engine.hpp"

#include <caf/fwd.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace bosun::sim {

// How the simulated registry serves pulls.
struct registry_model {
  double bandwidth = 10e6;               // bytes per second, per pull
  std::chrono::milliseconds latency{50}; // per request: manifest, each layer
  double failure_rate = 0;               // chance a pull attempt fails half-way
  std::string failure_message = "unexpected EOF";
  int64_t image_size = 8 << 20; // default image size, bytes
  int layers = 3;
  std::map<std::string, int64_t> sizes; // normalised name -> bytes
  std::set<std::string> missing;        // normalised names it does not have
  // The config every pulled image carries (what containers inherit).
  container_config image_config;
};

struct engine_timing {
  std::chrono::milliseconds create{20};
  std::chrono::milliseconds start{100};
  std::chrono::milliseconds stop{100};
  std::chrono::milliseconds remove{10};
  std::chrono::milliseconds other{0}; // every other request
};

// How a service's containers behave once started.
enum class behaviour_kind : uint8_t {
  run,        // run until stopped
  exit_once,  // exit with exit_code after run_for, on the next start only
  crash_loop, // exit with exit_code after run_for, on every start
  unhealthy,  // report unhealthy after run_for (a healthcheck is implied)
};

struct behaviour {
  behaviour_kind kind = behaviour_kind::run;
  std::chrono::milliseconds run_for{1000};
  int64_t exit_code = 1;
};

struct sim_options {
  uint64_t seed = 1;
  std::string hostname = "sim";
  registry_model registry;
  engine_timing timing;
  // A running container writes one stdout line this often (0: only its
  // start line), "<name>: line <n>".
  std::chrono::milliseconds log_every{0};
  size_t log_keep = 1000; // lines kept per container
  // Unix time the actor clock's start stands for (event and log times).
  int64_t epoch_unix_ns = 1'700'000'000'000'000'000;
};

// -- control messages

// From the next start of each container whose io.balena.service-name label
// (or, without one, whose name) is `service`.
struct sim_behave {
  std::string service;
  behaviour how;
};
// Running containers of `target` (id, name or service) exit now.
struct sim_crash {
  std::string target;
  int64_t exit_code = 1;
};
struct sim_write_logs {
  std::string target; // id, name or service
  size_t lines = 1;
  bool stderr_lines = false;
};
struct sim_set_up {
  bool up = true;
  std::string reason; // why it is down
};

struct sim_stats_req {};
struct sim_stats {
  uint64_t containers = 0;
  uint64_t running = 0;
  uint64_t images = 0;
  uint64_t volumes = 0;
  uint64_t networks = 0; // besides bridge, host and none
  uint64_t pulls_started = 0;
  uint64_t pulls_failed = 0;
  uint64_t pull_bytes = 0;
  uint64_t events = 0;
  uint64_t log_lines = 0; // written by containers
  uint64_t requests = 0;
};

} // namespace bosun::sim

BOSUN_MESSAGE(bosun::sim::sim_behave)
BOSUN_MESSAGE(bosun::sim::sim_crash)
BOSUN_MESSAGE(bosun::sim::sim_write_logs)
BOSUN_MESSAGE(bosun::sim::sim_set_up)
BOSUN_MESSAGE(bosun::sim::sim_stats_req)
BOSUN_MESSAGE(bosun::sim::sim_stats)

namespace bosun::sim {

using sim_engine_actor = engine_actor::extend<
  caf::reacts_to<sim_behave>, caf::replies_to<sim_crash>::with<uint64_t>,
  caf::reacts_to<sim_write_logs>, caf::reacts_to<sim_set_up>,
  caf::replies_to<sim_stats_req>::with<sim_stats>>;

class world;

// With `device`, the engine works on that model rather than a new one, so
// its containers, images, volumes and networks outlive the actor: an engine
// that root restarts, or an agent restarted from its data dir, finds the
// simulated device as it was (as a real one finds dockerd's). Its clock
// goes on from the model's last time. One actor at a time may use a model.
sim_engine_actor spawn_sim_engine(caf::actor_system& sys, sim_options opts = {},
                                  std::shared_ptr<world> device = nullptr);

} // namespace bosun::sim
