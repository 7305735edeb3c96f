#pragma once

// What one fleet-sim run found, and its JSON form (result.json, described
// in docs/FLEET.md). The report (report.hpp) is made from the JSON file, so
// it can be made again from a kept result.
#include "tools/fleet-sim/cloud.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bosun::fleet {

struct lagging {
  std::string uuid;
  std::string why;
};

struct stage_result {
  std::string name;
  std::string release;
  double t0_s = 0;             // since the run's start, wall
  size_t devices = 0;          // whose target changed (or that started)
  size_t started = 0;          // start stages: agents started
  double start_s = 0;          // start stages: how long starting them took
  size_t superseded = 0;       // moved on to a later stage before converging
  std::vector<double> times_s; // wall seconds from t0, as they converged
  std::vector<lagging> not_converged;
  std::vector<std::string> crash_looping; // devices, when the stage closed
  // From the telemetry of a sample of the stage's agents when it closed,
  // by actor kind: the deepest mailbox now, and the deepest seen.
  size_t mailbox_agents = 0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> mailboxes;
  double min_percent = 100;
  bool ok = false;
  uint64_t rss_before = 0;
  uint64_t rss_after = 0;
  uint64_t heap_bytes = 0;   // malloc'd and in use, when it closed
  uint64_t sqlite_bytes = 0; // of that, SQLite's (sqlite3_memory_used)
  size_t actors = 0;         // running in the actor system
};

struct sample_point {
  double t_s = 0;
  uint64_t rss = 0;
  double cpu_s = 0;
  size_t converged = 0; // in the open stages
  route_counts routes{};
};

struct rss_checkpoint {
  size_t agents = 0;
  uint64_t rss = 0;
};

struct event_record {
  double t_s = 0;
  std::string what;
};

// A barrier this shard passed (or failed at): --shard's runner waits at
// one before each step, after shard 0 set the fleet's target, and at the
// end (docs/FLEET.md).
struct barrier_record {
  std::string name;       // in cloud-sim: "<fleet>-s<step>-<kind>"
  std::string what;       // "step 3 (release)", "fleet target of step 3", "end"
  size_t step = 0;        // 1-based; the number of steps + 1 for the end
  double arrived_s = 0;   // since this shard's start
  double passed_s = 0;    // -1: not passed
  int64_t arrived_ms = 0; // this machine's clock, ms since the epoch
  int64_t passed_ms = 0;
  // From cloud-sim's arrivals (its clock): how far apart the first and the
  // last shard arrived, and which one was last.
  double spread_s = 0;
  size_t last_shard = 0;
  bool ok = false;
};

struct log_summary {
  uint64_t warn = 0;
  uint64_t error = 0;
  std::vector<std::pair<uint64_t, std::string>> top; // count, message
};

struct result {
  std::string scenario;
  std::string description;
  std::string scenario_digest; // FNV-1a of the scenario file, hex
  size_t devices = 0;          // this process runs (its shard's slice)
  size_t shard_index = 0;      // --shard i/n
  size_t shard_count = 1;
  size_t fleet_devices = 0; // the whole fleet's (all shards)
  size_t first_device = 0;  // the fleet index of this slice's first
  double scale = 1;
  uint64_t seed = 1;
  int64_t fleet = 0;
  bool register_storm = false;
  bool ok = true;
  double poll_interval_s = 0;  // wall
  double max_jitter_s = 0;     // wall
  double apply_estimate_s = 0; // wall: pull + create + start + stop + remove
  double wall_s = 0;
  double load_before = -1; // the machine's load average, 1 min
  double load_end = -1;
  double cpu_s = 0;
  uint64_t rss_before_agents = 0;
  uint64_t heap_before_agents = 0;
  uint64_t rss_end = 0;
  std::vector<rss_checkpoint> rss_checkpoints;
  size_t agents_running = 0;
  size_t fds_peak = 0; // open files of this process, sampled
  size_t restarts = 0;
  std::vector<std::string> behaving; // devices told to misbehave
  std::vector<std::string> flood_devices;
  uint64_t flood_lines_written = 0; // asked of their simulated engines
  // Where the lines went, summed over the flooding devices at the end: what
  // their engines wrote into running containers (the ask, less what came
  // while a service's container was being replaced, plus the containers'
  // own lines), what their agents received of it, the system lines they
  // logged, what they sent to the cloud, and what cloud-sim recorded.
  uint64_t flood_lines_in_engines = 0;
  uint64_t flood_lines_agents_got = 0;
  uint64_t flood_system_lines = 0;
  uint64_t flood_lines_sent = 0;
  uint64_t flood_lines_received = 0; // recorded by cloud-sim, theirs
  // From the scenario's end until the agents had sent every line they got
  // and cloud-sim had them all (60 s at most: then the counts as they were).
  double flood_drain_s = 0;
  std::vector<stage_result> stages;
  std::vector<sample_point> samples;
  std::vector<event_record> events;
  std::vector<barrier_record> barriers; // sharded runs
  std::vector<std::string> errors;
  log_summary agent_log;
  // --activity-s: messages per agent and second by actor kind, and the
  // process's CPU seconds over activity_s of wall time.
  std::map<std::string, double> activity;
  double activity_s = 0;
  double activity_cpu_s = 0;
  std::string cloud_counts; // cloud-sim's GET /counts at the end (JSON)
  double cloud_sim_cpu_s = -1;
  uint64_t cloud_sim_rss = 0;
};

std::string to_json(const result& r);

// Counts the warn and error lines of the agents' log and the most frequent
// messages (with hex ids and numbers masked, so that one message of many
// agents counts as one).
log_summary summarise_log(const std::string& path);

} // namespace bosun::fleet
