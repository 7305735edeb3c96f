// bench_cloud [--devices N] [--scale K] [--hours H] [--sim PATH]
//
// Cloud load of bosun's cloud link: requests and bytes per device per hour
// at the default settings (poll every 900 s + up to 60 s jitter, reports at
// most every 10 s, metrics-only changes after 300 s), measured by cloud-sim.
// N real cloud_sync actors (real HTTP client, real cloud-sim) run on a
// compressed schedule: every interval divided by K, so one device hour takes
// 3600/K seconds. Behind each one a fake app_manager plays a device whose
// apps run (and, in one scenario, take a new release every hour). Figures,
// not a test: see docs/BENCHMARKS.md.
#include "actors/cloud/cloud_sync.hpp"
#include "actors/cloud/http_transport.hpp"

#include <arpa/inet.h>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <netinet/in.h>
#include <random>
#include <rapidjson/document.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
using namespace bosun;

namespace {

// -- a blocking HTTP/1.1 request to 127.0.0.1 (the admin API) ----------------

struct reply {
  int status = 0;
  std::string body;
};

reply http(int port, const std::string& method, const std::string& target,
           const std::string& body = {}) {
  reply out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return out;
  }
  std::string req = method + " " + target
                    + " HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n"
                      "Content-Length: "
                    + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (size_t off = 0; off < req.size();) {
    auto n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      break;
    off += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;)
    raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  auto head = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || head == std::string::npos)
    return out;
  out.status = std::atoi(raw.c_str() + 9);
  out.body = raw.substr(head + 4);
  return out;
}

void must(int port, const std::string& method, const std::string& target,
          const std::string& body) {
  auto r = http(port, method, target, body);
  if (r.status / 100 != 2) {
    std::cerr << method << " " << target << ": " << r.status << " " << r.body
              << "\n";
    std::exit(1);
  }
}

// -- cloud-sim as a child process
// ----------------------------------------------

struct sim_process {
  pid_t pid = -1;
  int port = 0;
  int admin = 0;
};

sim_process start_sim(const std::string& path) {
  int fds[2];
  if (::pipe(fds) != 0)
    std::exit(1);
  sim_process s;
  s.pid = ::fork();
  if (s.pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::execl(path.c_str(), path.c_str(), "--max-records", "1000", nullptr);
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string line;
  char c;
  while (::read(fds[0], &c, 1) == 1 && c != '\n')
    line += c;
  ::close(fds[0]);
  // "cloud-sim listening on http://127.0.0.1:P (admin :Q)"
  auto at = line.find("127.0.0.1:");
  auto adm = line.find("(admin :");
  if (at == std::string::npos || adm == std::string::npos) {
    std::cerr << "cloud-sim did not start (" << path << "): " << line << "\n";
    std::exit(1);
  }
  s.port = std::atoi(line.c_str() + at + 10);
  s.admin = std::atoi(line.c_str() + adm + 8);
  return s;
}

// -- the simulated device behind each cloud_sync ------------------------------

const std::string app_uuid = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";

std::string apps_json(const std::string& commit, int release) {
  std::ostringstream o;
  o << R"({")" << app_uuid
    << R"(":{"id":1,"name":"fleet","class":"fleet","releases":{")" << commit
    << R"(":{"id":)" << release << R"(,"services":{)";
  for (int i = 0; i < 3; ++i)
    o << (i ? "," : "") << R"("svc)" << i << R"(":{"id":)" << i
      << R"(,"image_id":)" << release * 10 + i
      << R"(,"image":"registry2.balena-cloud.com/v2/)" << commit << i
      << R"(@sha256:0123456789abcdef","environment":{"PORT":"80"},)"
         R"("labels":{}})";
  o << R"(},"volumes":{},"networks":{}}}}})";
  return o.str();
}

struct device_world {
  std::optional<target_state> target;
  apps_view view;
  std::chrono::milliseconds download; // how long a release takes to install
  std::vector<apps_listener_actor> listeners; // apps_subscribe
};

// As app_manager does: the view to the subscribers when it changed.
void tell_view(caf::event_based_actor* self, const device_world& w) {
  for (auto& l : w.listeners)
    self->send(l, apps_view_changed{w.view});
}

CAF_ADD_ATOM(bench, bench, installed_atom, "installed")

void set_view(device_world& w, const std::string& status,
              std::optional<int32_t> progress, bool installed) {
  if (!w.target || w.target->apps.empty())
    return;
  auto& app = w.target->apps.front();
  app_view av;
  av.app_id = app.app_id;
  av.uuid = app.uuid;
  av.commit = app.commit;
  av.release_id = app.release_id;
  av.current_commit = installed             ? app.commit
                      : w.view.apps.empty() ? ""
                                            : w.view.apps[0].current_commit;
  for (auto& s : app.services) {
    service_view v;
    v.app_uuid = app.uuid;
    v.service_name = s.name;
    v.release_id = app.release_id;
    v.image = s.image;
    v.status = status;
    v.image_status = installed ? "Downloaded" : "Downloading";
    v.download_progress = progress;
    v.container_id = installed ? "c" + app.commit + s.name : "";
    av.services.push_back(v);
  }
  av.update_status = installed ? "done" : "downloading";
  w.view.apps = {av};
}

caf::behavior fake_app_manager(caf::event_based_actor* self,
                               const std::shared_ptr<device_world>& w) {
  return {
    [self, w](apply_target& t) -> caf::typed_response_promise<uint64_t> {
      bool fresh = !w->target || w->target->apps != t.target.apps;
      w->target = std::move(t.target);
      if (fresh) {
        set_view(*w, "Downloading", 0, false);
        self->delayed_send(self, w->download / 2, caf::tick_atom_v);
        self->delayed_send(self, w->download, bench::installed_atom_v);
      }
      auto rp = self->make_response_promise<uint64_t>();
      rp.deliver(uint64_t{1});
      tell_view(self, *w); // after each target, after the answer
      return rp;
    },
    [self, w](caf::tick_atom) {
      set_view(*w, "Downloading", 50, false);
      tell_view(self, *w);
    },
    [self, w](bench::installed_atom) {
      set_view(*w, "Running", std::nullopt, true);
      tell_view(self, *w);
    },
    [w](caf::get_atom, target_atom) { return w->target; },
    [w](const apps_view_request&) { return w->view; },
    [self, w](apps_subscribe& s) {
      w->listeners.push_back(s.listener);
      self->send(s.listener, apps_view_changed{w->view});
    },
  };
}

struct scenario {
  const char* name;
  bool metrics_churn;     // CPU load crosses a 20 % bucket at every sample
  bool release_each_hour; // the fleet gets a new release every hour
};

struct route_figures {
  double requests = 0;
  double bytes_in = 0;  // device → cloud
  double bytes_out = 0; // cloud → device
};

std::map<std::string, route_figures> counts(int admin) {
  std::map<std::string, route_figures> out;
  rapidjson::Document d;
  auto body = http(admin, "GET", "/counts").body;
  d.Parse(body.c_str());
  if (!d.IsObject())
    return out;
  for (auto& r : d.GetObject()) {
    auto& v = r.value;
    if (!v.IsObject() || !v.HasMember("requests"))
      continue;
    out[r.name.GetString()]
      = {v["requests"].GetDouble(), v["bytes_in"].GetDouble(),
         v["bytes_out"].GetDouble()};
  }
  return out;
}

std::map<std::string, route_figures>
run(const scenario& sc, const sim_process& sim, int devices, int scale,
    int hours, std::map<std::string, route_figures>* warm = nullptr) {
  using std::chrono::milliseconds;
  auto scaled = [scale](milliseconds d) { return d / scale; };
  must(sim.admin, "POST", "/reset?everything=1", "");
  must(sim.admin, "POST", "/fleets",
       R"({"id":1,"provisioning_key":"pk","name":"fleet","apps":)"
         + apps_json("r0", 1) + "}");
  std::string list = "[";
  std::vector<std::string> uuids;
  for (int i = 0; i < devices; ++i) {
    char uuid[33];
    std::snprintf(uuid, sizeof(uuid), "be%030d", i);
    uuids.emplace_back(uuid);
    list += (i ? "," : "") + std::string(R"({"uuid":")") + uuid
            + R"(","api_key":"key)" + std::to_string(i) + R"(","fleet":1,"id":)"
            + std::to_string(i + 1) + "}";
  }
  must(sim.admin, "POST", "/devices", list + "]");

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&io] { io.run(); });
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  std::vector<caf::actor> actors;
  {
    caf::actor_system sys{cfg};
    auto log = std::make_shared<const logger>(log_level::error);
    auto url = "http://127.0.0.1:" + std::to_string(sim.port);
    for (int i = 0; i < devices; ++i) {
      auto world = std::make_shared<device_world>();
      world->download = scaled(40s);
      auto apps = sys.spawn(fake_app_manager, world);
      cloud_sync_options o;
      o.cfg.api_endpoint = url;
      o.cfg.uuid = uuids[i];
      o.cfg.device_api_key = "key" + std::to_string(i);
      o.cfg.registered_at = 1;
      o.cfg.device_id = i + 1;
      o.cfg.application_id = 1;
      o.cfg.app_update_poll_interval = scaled(900000ms);
      o.api_secret = "0123456789abcdef0123456789abcdef";
      o.os_version = "balenaOS 5.3.0";
      o.device_type = "raspberrypi4-64";
      o.transport = *make_http_transport(
        io, url, cloud_user_agent(BOSUN_VERSION, o.os_version, false));
      auto rng = std::make_shared<std::mt19937_64>(1000 + i);
      o.random = [rng] { return (*rng)(); };
      o.wall_clock_ms = [] { return int64_t{1700000000000}; };
      bool churn = sc.metrics_churn;
      auto load = std::make_shared<std::mt19937>(2000 + i);
      o.host = [load, churn] {
        host_facts h;
        h.ip_address = "192.168.1.10 fd00::10";
        h.mac_address = "DC:A6:32:00:00:01";
        h.memory_total = 3797;
        h.memory_usage = 412;
        h.storage_total = 29000;
        h.storage_usage = 2100;
        h.cpu_temp = 48;
        // A busy device: CPU load anywhere in 0–99 % at each sample.
        h.cpu_usage = churn ? static_cast<int64_t>((*load)() % 100) : 5;
        return h;
      };
      o.status_interval = std::max(milliseconds{10}, scaled(1000ms));
      o.host_interval = scaled(30000ms);
      o.backoff_base = scaled(15000ms);
      o.max_jitter = scaled(60000ms);
      o.report_spacing = scaled(10000ms);
      o.metrics_hold = scaled(300000ms);
      o.log = log;
      cloud_sync_deps d;
      d.apps = caf::actor_cast<app_manager_actor>(apps);
      actors.push_back(apps);
      actors.push_back(
        caf::actor_cast<caf::actor>(spawn_cloud_sync(sys, d, std::move(o))));
    }
    // Warm-up: each device's first poll (200 with the target), first
    // reports and its apps installed; then count from zero.
    auto hour = std::chrono::milliseconds(3600000 / scale);
    std::this_thread::sleep_for(scaled(120000ms) + 1s);
    // The warm-up's requests: each device's first poll (a 200 with the
    // whole target) and first reports (everything, then the apps running).
    if (warm != nullptr)
      *warm = counts(sim.admin);
    must(sim.admin, "POST", "/reset", "");
    auto start = std::chrono::steady_clock::now();
    for (int h = 0; h < hours; ++h) {
      if (sc.release_each_hour) {
        std::this_thread::sleep_until(start + h * hour + hour / 2);
        auto commit = "r" + std::to_string(h + 1);
        must(sim.admin, "PUT", "/fleets/1/target",
             R"({"config":{},"apps":)" + apps_json(commit, h + 2) + "}");
      }
    }
    std::this_thread::sleep_until(start + hours * hour);
    auto out = counts(sim.admin);
    caf::scoped_actor self{sys};
    for (auto& a : actors)
      self->send_exit(a, caf::exit_reason::user_shutdown);
    actors.clear();
    work.reset();
    io.stop();
    io_thread.join();
    for (auto& [_, f] : out) {
      f.requests /= devices * hours;
      f.bytes_in /= devices * hours;
      f.bytes_out /= devices * hours;
    }
    return out;
  }
}

} // namespace

int run_bench(int argc, char** argv) {
  int devices = 20;
  int scale = 120;
  int hours = 3;
  std::string sim_path
    = (std::filesystem::path(argv[0]).parent_path() / "../cloud-sim/cloud-sim")
        .string();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--devices")
      devices = std::atoi(argv[i + 1]);
    else if (a == "--scale")
      scale = std::atoi(argv[i + 1]);
    else if (a == "--hours")
      hours = std::atoi(argv[i + 1]);
    else if (a == "--sim")
      sim_path = argv[i + 1];
  }
  if (devices <= 0 || scale <= 0 || hours <= 0) {
    std::cerr << "usage: bench_cloud [--devices N] [--scale K] [--hours H] "
                 "[--sim PATH]\n";
    return 2;
  }
  auto sim = start_sim(sim_path);
  std::printf("%d devices, schedule compressed %dx, %d device hour(s) per "
              "scenario\n\n",
              devices, scale, hours);
  // balena's defaults: a poll every 900 s + U[0, 60 s) → 3600 / 930 per
  // hour; reports only on change, metrics-only changes at most every 300 s.
  const double polls_per_hour = 3600.0 / 930.0;
  const scenario scenarios[] = {
    {"steady, quiet metrics", false, false},
    {"steady, metrics moving", true, false},
    {"a release every hour", false, true},
  };
  std::printf("| scenario | route | requests/h | bytes up/h | bytes down/h | "
              "balena defaults: requests/h | bytes up/h | bytes down/h |\n"
              "|---|---|---|---|---|---|---|---|\n");
  std::map<std::string, route_figures> warm, quiet;
  for (const auto& sc : scenarios) {
    auto f
      = run(sc, sim, devices, scale, hours, &sc == scenarios ? &warm : nullptr);
    if (&sc == scenarios)
      quiet = f;
    // Reports balena sends under the same rules: none when nothing moves,
    // one per 300 s when metrics do, one per state change of a release
    // (here: downloading 0 %, 50 %, running, each > 10 s apart).
    double reports = sc.release_each_hour ? 3.0 : sc.metrics_churn ? 12.0 : 0.0;
    double req = 0, in = 0, out = 0, ireq = 0, iin = 0, iout = 0;
    for (auto route : {"state-get", "state-patch"}) {
      auto& r = f[route];
      double implied
        = std::string(route) == "state-get" ? polls_per_hour : reports;
      // Same wire format: balena's bytes are its requests times bosun's
      // bytes per request.
      double up = r.requests > 0 ? implied * r.bytes_in / r.requests : 0;
      double down = r.requests > 0 ? implied * r.bytes_out / r.requests : 0;
      std::printf("| %s | %s | %.2f | %.0f | %.0f | %.2f | %.0f | %.0f |\n",
                  sc.name, route, r.requests, r.bytes_in, r.bytes_out, implied,
                  up, down);
      req += r.requests;
      in += r.bytes_in;
      out += r.bytes_out;
      ireq += implied;
      iin += up;
      iout += down;
    }
    std::printf("| %s | all | %.2f | %.0f | %.0f | %.2f | %.0f | %.0f |\n",
                sc.name, req, in, out, ireq, iin, iout);
    std::fflush(stdout);
  }
  // What ETags and diffs save: the first poll of each device is a 200 with
  // the whole target, later ones 304s; the first report is the whole state.
  auto per = [](const route_figures& r, double bytes) {
    return r.requests > 0 ? bytes / r.requests : 0.0;
  };
  auto& wg = warm["state-get"];
  auto& wp = warm["state-patch"];
  auto& qg = quiet["state-get"];
  std::printf("\nper request, bytes (up/down): first poll (200, whole target) "
              "%.0f/%.0f, later polls (304) %.0f/%.0f; warm-up reports "
              "(whole state, then the apps) %.0f/%.0f\n",
              per(wg, wg.bytes_in), per(wg, wg.bytes_out), per(qg, qg.bytes_in),
              per(qg, qg.bytes_out), per(wp, wp.bytes_in),
              per(wp, wp.bytes_out));
  ::kill(sim.pid, SIGTERM);
  int st = 0;
  ::waitpid(sim.pid, &st, 0);
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run_bench(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_cloud: " << e.what() << "\n";
    return 1;
  }
}
