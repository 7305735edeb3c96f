// fleet-sim (first cut, issue 14): N whole agents in one process, each with
// its own data dir and simulated engine, against a running cloud-sim given
// by URL. Creates a fleet and its devices (pre-registered) over cloud-sim's
// admin API, starts the agents, waits until every device runs release A
// ("install"), sets the fleet target to release B and waits until every
// device runs it ("rollout"), then prints one JSON object: convergence times
// per stage (p50, p90, p99, max; wall seconds and fleet seconds = wall x
// scale), the process RSS before and after the agents and per agent.
//
//   fleet-sim --cloud http://127.0.0.1:8800 --admin http://127.0.0.1:8801
//             [--devices 100] [--scale 60] [--dir DIR] [--seed 1]
//             [--timeout 600] [--keep] [--shard i/n] [--inspect ADDR:PORT]
//
// --scale divides the poll interval (appUpdatePollInterval, 15 min), the
// simulated engine's times and the agents' own timings (agent_deps:
// cloud_sync's poll jitter, backoff, report spacing). Each agent has its own
// seed and simulated host facts, and logs under its short uuid.
// --shard i/n runs slice i of the --devices (docs/FLEET.md); --inspect
// serves /metrics, /agents/<uuid>/telemetry and /unconverged.
#include "actors/agent.hpp"
#include "actors/telemetry/process_stats.hpp"
#include "messages/app_manager.hpp"
#include "messages/core.hpp"
#include "tools/fleet-sim/inspect.hpp"
#include "tools/fleet-sim/shard.hpp"
#include "tools/fleet-sim/sim_engine.hpp"
#include "tools/fleet-sim/sim_host.hpp"
#include "tools/fleet-sim/sim_world.hpp"

#include <algorithm>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct options {
  std::string cloud;
  std::string admin;
  size_t devices = 100;
  double scale = 60;
  std::string dir;
  uint64_t seed = 1;
  int timeout_s = 600;
  bool keep = false;
  bosun::fleet::shard shard;
  std::string inspect; // ADDR:PORT, "" = none
};

// "http://host:port" -> host, port.
bool split_url(const std::string& url, std::string& host, std::string& port) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    return false;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos)
    return false;
  host = rest.substr(0, colon);
  port = rest.substr(colon + 1);
  return true;
}

// One blocking admin request (the tool's own thread, not an actor): the
// status, and the body in `out`.
int admin_call(const std::string& base, const std::string& method,
               const std::string& target, const std::string& body,
               std::string* out = nullptr) {
  std::string host;
  std::string port;
  if (!split_url(base, host, port))
    return -1;
  asio::io_context io;
  asio::ip::tcp::resolver r(io);
  asio::ip::tcp::socket s(io);
  std::error_code ec;
  asio::connect(s, r.resolve(host, port, ec), ec);
  if (ec)
    return -1;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host
                    + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + std::to_string(body.size())
                    + "\r\nConnection: close\r\n\r\n" + body;
  asio::write(s, asio::buffer(req), ec);
  std::string resp;
  char buf[8192];
  for (;;) {
    auto n = s.read_some(asio::buffer(buf), ec);
    resp.append(buf, n);
    if (ec)
      break;
  }
  if (resp.size() < 12)
    return -1;
  if (out != nullptr) {
    auto at = resp.find("\r\n\r\n");
    *out = at == std::string::npos ? "" : resp.substr(at + 4);
  }
  return std::stoi(resp.substr(9, 3));
}

std::string app_uuid(int64_t fleet) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "f1ee75%026llx",
                static_cast<unsigned long long>(fleet));
  return buf;
}

std::string commit_of(int release) {
  return "c0ffee" + std::to_string(release);
}

// The fleet's target with one service whose image is release-specific.
std::string fleet_target(int64_t fleet, int release) {
  std::ostringstream o;
  o << R"({"config":{},"apps":{")" << app_uuid(fleet) << R"(":{"id":)" << fleet
    << R"(,"name":"fleet","class":"fleet","releases":{")" << commit_of(release)
    << R"(":{"id":)" << release << R"(,"services":{"main":{"id":1,"image_id":)"
    << 10 + release << R"(,"image":"reg.local/fleet:)" << release
    << R"(","environment":{"REL":")" << release
    << R"("},"labels":{}}},"volumes":{},"networks":{}}}}}})";
  return o.str();
}

struct device {
  std::string uuid;
  std::string key;
  int64_t id = 0;
  bosun::agent a;
  bosun::app_manager_actor am;
  std::optional<double> converged_s; // of the current stage
};

struct percentiles {
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
  size_t converged = 0;
};

percentiles stats_of(const std::vector<device>& ds) {
  std::vector<double> xs;
  for (const auto& d : ds)
    if (d.converged_s)
      xs.push_back(*d.converged_s);
  percentiles p;
  p.converged = xs.size();
  if (xs.empty())
    return p;
  std::sort(xs.begin(), xs.end());
  auto at = [&](double q) {
    auto i = static_cast<size_t>(q * static_cast<double>(xs.size() - 1) + 0.5);
    return xs[std::min(i, xs.size() - 1)];
  };
  p.p50 = at(0.5);
  p.p90 = at(0.9);
  p.p99 = at(0.99);
  p.max = xs.back();
  return p;
}

std::string stage_json(const std::vector<device>& ds, double scale) {
  auto p = stats_of(ds);
  char buf[512];
  std::snprintf(
    buf, sizeof(buf),
    R"({"converged":%zu,"wall_s":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f},)"
    R"("fleet_s":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"max":%.1f}})",
    p.converged, p.p50, p.p90, p.p99, p.max, p.p50 * scale, p.p90 * scale,
    p.p99 * scale, p.max * scale);
  return buf;
}

// Waits until every device runs `commit` (its app_manager idle with that
// release), recording when each got there.
bool await_stage(caf::scoped_actor& self, std::vector<device>& ds,
                 const std::string& app, const std::string& commit,
                 clock_type::time_point t0, std::chrono::seconds timeout) {
  for (auto& d : ds)
    d.converged_s.reset();
  size_t left = ds.size();
  while (left > 0) {
    if (clock_type::now() - t0 > timeout)
      return false;
    for (auto& d : ds) {
      if (d.converged_s)
        continue;
      if (!d.am) {
        self->request(d.a.root, 5s, caf::get_atom_v, bosun::core_atom_v)
          .receive([&](bosun::core_actors& c) { d.am = c.app_manager; },
                   [](caf::error&) {});
        if (!d.am)
          continue;
      }
      self->request(d.am, 5s, caf::get_atom_v)
        .receive(
          [&](bosun::apps_status& st) {
            auto c = st.commits.find(app);
            if (st.state == bosun::apps_state::idle && c != st.commits.end()
                && c->second == commit) {
              d.converged_s
                = std::chrono::duration<double>(clock_type::now() - t0).count();
              --left;
            }
          },
          [&](caf::error&) { d.am = nullptr; });
    }
    std::this_thread::sleep_for(100ms); // a sampling period, not a sync
  }
  return true;
}

int usage() {
  std::cerr << "usage: fleet-sim --cloud URL --admin URL [--devices N] "
               "[--scale S] [--dir DIR] [--seed N] [--timeout S] [--keep] "
               "[--shard i/n] [--inspect ADDR:PORT]\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      return i + 1 < argc ? argv[++i] : std::string{};
    };
    if (a == "--cloud")
      o.cloud = next();
    else if (a == "--admin")
      o.admin = next();
    else if (a == "--devices")
      o.devices = std::stoul(next());
    else if (a == "--scale")
      o.scale = std::stod(next());
    else if (a == "--dir")
      o.dir = next();
    else if (a == "--seed")
      o.seed = std::stoull(next());
    else if (a == "--timeout")
      o.timeout_s = std::stoi(next());
    else if (a == "--keep")
      o.keep = true;
    else if (a == "--shard") {
      std::string why;
      auto sh = bosun::fleet::parse_shard(next(), &why);
      if (!sh) {
        std::cerr << "fleet-sim: --shard: " << why << "\n";
        return 2;
      }
      o.shard = *sh;
    } else if (a == "--inspect")
      o.inspect = next();
    else
      return usage();
  }
  if (o.cloud.empty() || o.admin.empty() || o.devices == 0 || o.scale <= 0)
    return usage();
  if (o.dir.empty())
    o.dir = (fs::temp_directory_path()
             / ("fleet-sim-" + std::to_string(::getpid())))
              .string();
  fs::create_directories(o.dir);

  // The fleet and its devices, registered already (no registration storm).
  // Shards of one fleet share its id (from the seed) and create their own
  // slice of its devices.
  const bool sharded = o.shard.count > 1;
  const int64_t fleet
    = 700000
      + static_cast<int64_t>(
        sharded ? o.seed % 100000 : static_cast<uint64_t>(::getpid()) % 100000);
  const auto slice = bosun::fleet::shard_range(o.devices, o.shard);
  if (slice.size() == 0) {
    std::cerr << "fleet-sim: shard " << o.shard.index << "/" << o.shard.count
              << " of " << o.devices << " devices has none\n";
    return 2;
  }
  std::vector<device> ds(slice.size());
  std::ostringstream devs;
  devs << "[";
  for (size_t k = 0; k < ds.size(); ++k) {
    auto& d = ds[k];
    auto i = slice.first + k; // the device's index in the whole fleet
    char uuid[33];
    // The first 7 digits (the short uuid, the agent's log prefix) are a
    // bijection of the index: no two devices share them.
    std::snprintf(uuid, sizeof(uuid), "%07llx%09llx%016zx",
                  ((i + 1) * 0x9e3779bULL) & 0xfffffffULL,
                  static_cast<unsigned long long>(fleet), i);
    d.uuid = uuid;
    d.key = "dk" + d.uuid;
    d.id = fleet * 100000 + static_cast<int64_t>(i);
    devs << (k ? "," : "") << R"({"uuid":")" << d.uuid << R"(","api_key":")"
         << d.key << R"(","fleet":)" << fleet << R"(,"id":)" << d.id << "}";
  }
  devs << "]";
  std::string fleet_body = R"({"id":)" + std::to_string(fleet)
                           + R"(,"provisioning_key":"pk)"
                           + std::to_string(fleet) + R"(","name":"fleet"})";
  auto made = admin_call(o.admin, "POST", "/fleets", fleet_body);
  if (made != 201 && made != 200 && !(sharded && made == 409)) {
    std::cerr << "fleet-sim: cannot create the fleet at " << o.admin << "\n";
    return 1;
  }
  int st = admin_call(o.admin, "POST", "/devices", devs.str());
  if (st != 200 && st != 201) {
    std::cerr << "fleet-sim: cannot create the devices (" << st << ")\n";
    return 1;
  }
  admin_call(o.admin, "PUT", "/fleets/" + std::to_string(fleet) + "/target",
             fleet_target(fleet, 1));

  auto rss_before = bosun::telemetry::read_process_stats().rss_bytes;
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  std::thread io_thread([&io] { io.run(); });
  auto log = std::make_shared<const bosun::logger>(bosun::log_level::error);
  auto scaled = [&](std::chrono::milliseconds d) {
    return std::chrono::milliseconds(
      static_cast<int64_t>(static_cast<double>(d.count()) / o.scale));
  };
  auto t_start = clock_type::now();
  for (size_t k = 0; k < ds.size(); ++k) {
    auto& d = ds[k];
    auto i = slice.first + k;
    bosun::config c;
    c.data_dir = o.dir + "/" + std::to_string(i);
    fs::create_directories(c.data_dir);
    c.config_path = c.data_dir + "/config.json";
    c.api_endpoint = o.cloud;
    c.uuid = d.uuid;
    c.device_api_key = d.key;
    c.device_id = d.id;
    c.registered_at = 1700000000000;
    c.application_id = fleet;
    c.device_type = "generic-amd64";
    c.app_update_poll_interval = scaled(c.app_update_poll_interval);
    c.engine = "unix:///nonexistent/docker.sock"; // simulated
    bosun::sim::sim_options so;
    so.seed = o.seed * 1000003 + i;
    so.hostname = "dev" + std::to_string(i);
    so.timing.create = scaled(500ms);
    so.timing.start = scaled(1000ms);
    so.timing.stop = scaled(1000ms);
    so.timing.remove = scaled(200ms);
    so.registry.latency = scaled(200ms);
    so.registry.bandwidth = 2e6 * o.scale; // 20 MB in 10 s, scaled
    so.registry.image_size = 20'000'000;
    bosun::agent_deps deps{io, log};
    deps.seed = so.seed;
    deps.time_scale = o.scale;
    deps.host = bosun::sim::make_sim_host(bosun::sim::sim_host_for(o.seed, i));
    deps.log_prefix = true;
    deps.proxy_env = [](std::string_view) -> std::optional<std::string> {
      return std::nullopt; // cloud-sim is local: no proxy
    };
    // The simulated device outlives its engine actor (root may restart it).
    auto device = std::make_shared<bosun::sim::world>(so.seed, so.hostname);
    deps.engine = [so, device](caf::actor_system& s) -> bosun::engine_actor {
      return bosun::sim::spawn_sim_engine(s, so, device);
    };
    auto started = bosun::start_agent(sys, c, deps);
    if (auto* why = std::get_if<std::string>(&started)) {
      std::cerr << "fleet-sim: agent " << i << ": " << *why << "\n";
      return 1;
    }
    d.a = std::get<bosun::agent>(started);
  }
  auto start_s
    = std::chrono::duration<double>(clock_type::now() - t_start).count();
  caf::scoped_actor self{sys};
  bosun::fleet::inspector insp{sys};
  if (!o.inspect.empty()) {
    for (auto& d : ds)
      insp.add_agent({d.uuid, d.a.root});
    insp.set_goal({app_uuid(fleet), commit_of(1)});
    std::string why;
    if (!insp.start(o.inspect, &why)) {
      std::cerr << "fleet-sim: --inspect " << o.inspect << ": " << why << "\n";
      return 1;
    }
  }
  auto timeout = std::chrono::seconds(o.timeout_s);
  bool ok
    = await_stage(self, ds, app_uuid(fleet), commit_of(1), t_start, timeout);
  auto install = stage_json(ds, o.scale);
  auto rss_agents = bosun::telemetry::read_process_stats().rss_bytes;
  std::string rollout = "null";
  if (ok) {
    auto t0 = clock_type::now();
    admin_call(o.admin, "PUT", "/fleets/" + std::to_string(fleet) + "/target",
               fleet_target(fleet, 2));
    insp.set_goal({app_uuid(fleet), commit_of(2)});
    ok = await_stage(self, ds, app_uuid(fleet), commit_of(2), t0, timeout);
    rollout = stage_json(ds, o.scale);
  }
  auto rss_after = bosun::telemetry::read_process_stats().rss_bytes;
  std::string counts;
  admin_call(o.admin, "GET", "/counts", "", &counts);

  std::printf(
    "{\"devices\":%zu,\"scale\":%g,\"ok\":%s,\"start_agents_s\":%.3f,"
    "\"install\":%s,\"rollout\":%s,\"rss_bytes\":{\"before_agents\":%llu,"
    "\"after_install\":%llu,\"after_rollout\":%llu,\"per_agent\":%llu},"
    "\"cloud_counts\":%s}\n",
    o.devices, o.scale, ok ? "true" : "false", start_s, install.c_str(),
    rollout.c_str(), static_cast<unsigned long long>(rss_before),
    static_cast<unsigned long long>(rss_agents),
    static_cast<unsigned long long>(rss_after),
    static_cast<unsigned long long>((rss_after - rss_before) / ds.size()),
    counts.empty() ? "null" : counts.c_str());
  std::fflush(stdout);

  for (auto& d : ds)
    self->send_exit(d.a.root, caf::exit_reason::user_shutdown);
  auto until = clock_type::now() + 30s;
  while (sys.registry().running() > 1 && clock_type::now() < until)
    std::this_thread::sleep_for(50ms);
  work.reset();
  io.stop();
  io_thread.join();
  if (!o.keep)
    fs::remove_all(o.dir);
  insp.stop();
  if (!sharded) // the other shards may still run
    admin_call(o.admin, "DELETE", "/fleets/" + std::to_string(fleet), "");
  return ok ? 0 : 1;
}
