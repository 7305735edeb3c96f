// fleet-sim (issue 14): N whole agents in one process, each with its own
// data dir and simulated engine, against one cloud-sim, running a scenario
// file; writes OUT/result.json and OUT/report.md with plots.
//
//   fleet-sim --scenario tools/fleet-sim/scenarios/rollout.json
//             [--devices N] [--scale S] [--seed N] [--out DIR] [--dir DIR]
//             [--cloud URL --admin URL | --cloud-sim PATH]
//             [--probe-ms MS] [--activity-s S] [--keep] [--no-plots]
//             [--shard i/n [--barrier-timeout-s S]] [--inspect ADDR:PORT]
//   fleet-sim --report OUT/result.json [--out DIR]
//
// Without --cloud it starts cloud-sim (by default the one built beside it)
// on loopback and stops it at the end. docs/FLEET.md has the scenario
// format and the figures.
//
// --scale divides the fleet's times: the poll interval, the simulated
// engine's times and the agents' own timings (agent_deps: cloud_sync's poll
// jitter, backoff, report spacing). Each agent has its own seed and
// simulated host facts, and logs under its short uuid. --shard i/n runs
// slice i of the devices (the shards share the fleet; start them with the
// same --seed and --cloud/--admin; they step together at barriers in
// cloud-sim, failing after --barrier-timeout-s, default 600, when a shard
// does not come); --inspect serves /metrics,
// /agents/<uuid>/telemetry and /unconverged while the agents run.
#include "tools/fleet-sim/report.hpp"
#include "tools/fleet-sim/run.hpp"

#include <filesystem>
#include <iostream>
#include <string>

namespace {

int usage() {
  std::cerr << "usage: fleet-sim --scenario FILE [--devices N] [--scale S] "
               "[--seed N] [--out DIR] [--dir DIR] [--cloud URL --admin URL | "
               "--cloud-sim PATH] [--probe-ms MS] [--activity-s S] [--keep] "
               "[--no-plots] [--shard i/n [--barrier-timeout-s S]] "
               "[--inspect ADDR:PORT]\n"
               "       fleet-sim --report RESULT.json [--out DIR]\n";
  return 2;
}

std::string beside_me(const std::string& rel) {
  std::error_code ec;
  auto me = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? rel : (me.parent_path() / rel).lexically_normal().string();
}

} // namespace

int main(int argc, char** argv) {
  bosun::fleet::run_options o;
  o.cloud_sim = beside_me("../cloud-sim/cloud-sim");
  std::string report;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc)
          throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      if (a == "--scenario")
        o.scenario = next();
      else if (a == "--report")
        report = next();
      else if (a == "--devices")
        o.devices = std::stoul(next());
      else if (a == "--scale")
        o.scale = std::stod(next());
      else if (a == "--seed")
        o.seed = std::stoull(next());
      else if (a == "--out")
        o.out = next();
      else if (a == "--dir")
        o.dir = next();
      else if (a == "--cloud")
        o.cloud = next();
      else if (a == "--admin")
        o.admin = next();
      else if (a == "--cloud-sim")
        o.cloud_sim = next();
      else if (a == "--probe-ms")
        o.probe_ms = std::stoi(next());
      else if (a == "--activity-s")
        o.activity_s = std::stoi(next());
      else if (a == "--keep")
        o.keep = true;
      else if (a == "--no-plots")
        o.plots = false;
      else if (a == "--shard") {
        std::string why;
        auto sh = bosun::fleet::parse_shard(next(), &why);
        if (!sh)
          throw std::invalid_argument("--shard: " + why);
        o.part = *sh;
      } else if (a == "--barrier-timeout-s")
        o.barrier_timeout_s = std::stod(next());
      else if (a == "--inspect")
        o.inspect = next();
      else
        return usage();
    }
  } catch (const std::exception& e) {
    std::cerr << "fleet-sim: " << e.what() << "\n";
    return usage();
  }
  if (!report.empty()) {
    auto out = o.out.empty()
                 ? std::filesystem::path(report).parent_path().string()
                 : o.out;
    return bosun::fleet::write_report(report, out.empty() ? "." : out) ? 0 : 1;
  }
  if (o.part.count > 1 && o.cloud.empty()) {
    std::cerr << "fleet-sim: --shard needs --cloud and --admin (one cloud-sim "
                 "for all shards)\n";
    return 2;
  }
  if (o.scenario.empty() || o.cloud.empty() != o.admin.empty()
      || o.probe_ms <= 0 || o.scale < 0 || o.activity_s < 0
      || o.barrier_timeout_s <= 0)
    return usage();
  return bosun::fleet::run_scenario(o);
}
