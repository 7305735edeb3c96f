// The engine stopped and started under bosun (issue 15 item 2;
// docs/RELIABILITY.md): the real bosun binary, the private dockerd
// (stopped with SIGTERM and started again from BOSUN_TEST_DOCKERD_CMD, as
// tests/integration/engine does) and the test registry behind a slow
// loopback proxy. During a pull, bosun must reconnect and converge with
// honest progress; a followed /v2/local/logs must carry each line of a
// service once, contiguous within each run of its container.
#include "tests/e2e/logs/harness.hpp"
#include "tests/support/api_sample.hpp"
#include "tests/support/bosun.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/tcp_proxy.hpp"

#include <algorithm>
#include <csignal>
#include <doctest/doctest.h>
#include <fstream>
#include <map>
#include <sstream>

using namespace std::chrono_literals;
using namespace bosun::test;

namespace {

using steady = std::chrono::steady_clock;

long ms_since(steady::time_point t) {
  return static_cast<long>(
    std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t)
      .count());
}

// Services `names` (ids 1, 2, ...) of app `app_id`, each running
// `script`, with `env` (a JSON object) and the default restart policy
// (always).
std::string services(int app_id, const std::vector<std::string>& names,
                     const std::string& image, const std::string& script,
                     const std::string& env) {
  std::string svcs;
  for (size_t i = 0; i < names.size(); ++i) {
    auto id = std::to_string(i + 1);
    svcs += std::string(i ? "," : "") + '"' + id + R"(":{"serviceName":")"
            + names[i] + R"(","serviceId":)" + id + R"(,"imageId":)" + id
            + R"(,"image":")" + image + R"(","environment":)" + env
            + R"(,"labels":{},"command":["/bin/sh","-c",")" + script + R"("]})";
  }
  return R"({"local":{"name":"engine","config":{},"apps":{")"
         + std::to_string(app_id)
         + R"(":{"name":"eng","commit":"c1","releaseId":"1","services":{)"
         + svcs + R"(},"volumes":{},"networks":{}}}}})";
}

const std::string sleeper = "trap \\\"exit 0\\\" TERM; sleep 100000 & wait";

void clean_app(int app_id) {
  auto ids
    = docker("ps -aq --filter label=io.balena.app-id=" + std::to_string(app_id))
        .out;
  std::istringstream in(ids);
  std::string id;
  while (in >> id)
    docker("rm -f " + id);
  docker("network rm " + std::to_string(app_id) + "_default");
}

// The id of the app's container of service `name` ("" if none).
std::string container_of(int app_id, const std::string& name) {
  return docker("ps -aq --filter label=io.balena.app-id="
                + std::to_string(app_id)
                + " --filter label=io.balena.service-name=" + name)
    .out;
}

// The private dockerd: stopped with SIGTERM (its containers stop with
// it), started again detached, its log appended to dockerd.log.
class engine_control {
public:
  engine_control()
      : pidfile_(required_env("BOSUN_TEST_DOCKERD_PIDFILE")),
        cmd_(required_env("BOSUN_TEST_DOCKERD_CMD")) {}

  // Returns once the old dockerd has exited; `while_waiting` runs on each
  // poll (e.g. to sample the API meanwhile).
  template <class F>
  void stop(F while_waiting) {
    pid_t pid = 0;
    std::ifstream(pidfile_) >> pid;
    REQUIRE_MESSAGE(pid > 1, "no pid in ", pidfile_);
    REQUIRE(::kill(pid, SIGTERM) == 0);
    REQUIRE(eventually(
      60s,
      [&](std::string& last) {
        while_waiting();
        last = "pid " + std::to_string(pid) + " alive";
        return ::kill(pid, 0) != 0;
      },
      "the old dockerd to exit"));
  }

  // Starts dockerd and returns once it answers.
  void start() {
    auto log = pidfile_.substr(0, pidfile_.rfind('/')) + "/dockerd.log";
    auto cmd = "setsid " + cmd_ + " >>" + log + " 2>&1 </dev/null &";
    REQUIRE(std::system(cmd.c_str()) == 0);
    REQUIRE(eventually(
      90s,
      [] { return docker("version -f '{{.Server.Version}}'").status == 0; },
      "dockerd to answer again"));
  }

private:
  std::string pidfile_, cmd_;
};

// The app has converged: appState "applied", updateStatus "done", each
// service "Running" in the API and one running container per service (no
// other container of the app) whose env holds `env_entry`.
bool converged(running_bosun& b, int app_id,
               const std::vector<std::string>& names,
               const std::string& env_entry, std::string& last) {
  std::string ids;
  for (auto& n : names) {
    auto s = sample_api(b, n);
    last = n + ": " + describe(s);
    if (s.app_state != "applied" || s.update_status != "done"
        || s.status != "Running")
      return false;
    auto id = container_of(app_id, n);
    if (id.empty() || id.find('\n') != std::string::npos)
      return false;
    auto got
      = docker("inspect -f '{{.State.Running}} {{range .Config.Env}}{{.}} "
               "{{end}}' "
               + id)
          .out;
    last += ", container " + got.substr(0, 5);
    if (got.rfind("true ", 0) != 0
        || (!env_entry.empty()
            && got.find(" " + env_entry + " ") == std::string::npos))
      return false;
    ids += ids.empty() ? id : " " + id;
  }
  auto all
    = docker("ps -aq --filter label=io.balena.app-id=" + std::to_string(app_id))
        .out;
  last += "; " + std::to_string(std::count(all.begin(), all.end(), '\n') + 1)
          + " containers of the app";
  return all.size() == ids.size();
}

// Prints "<run> n=<i>" for i = 0, 1, ... every 20 ms, <run> new each time
// the container starts. (Inside a JSON string in the target.)
const std::string counter
  = "R=$(cut -c1-8 /proc/sys/kernel/random/uuid); i=0; while true; do echo "
    "\\\"$R n=$i\\\"; i=$((i+1)); usleep 20000; done";

// The counter's numbers by run, in arrival order; `order` gets the runs in
// the order their first line came.
std::map<std::string, std::vector<int>>
counter_runs(const std::vector<shipped_line>& ls, const std::string& service,
             std::vector<std::string>& order) {
  std::map<std::string, std::vector<int>> runs;
  for (auto& l : ls) {
    if (l.service_name != service)
      continue;
    auto sp = l.message.find(" n=");
    if (sp == std::string::npos)
      continue;
    auto run = l.message.substr(0, sp);
    if (runs.count(run) == 0)
      order.push_back(run);
    runs[run].push_back(std::atoi(l.message.c_str() + sp + 3));
  }
  return runs;
}

} // namespace

TEST_SUITE("engine") {
  TEST_CASE("dockerd stopped and started mid-pull: bosun reconnects, pulls "
            "again and converges with the target's env; the progress it "
            "reports stays within 0..100") {
    constexpr int app_id = 9300;
    engine_control engine;
    auto base = required_env("BOSUN_TEST_IMAGE");
    auto pushed = push_layered_image(
      base, "bosun/engine-restart-big:1",
      "dd if=/dev/urandom of=/big bs=1048576 count=16 2>/dev/null");
    clean_app(app_id);
    tcp_proxy proxy(bosun::test::registry_port());
    proxy.set_rate(2u << 20); // 16 MiB at 2 MiB/s: a pull of ~8 s
    auto image = "127.0.0.1:" + std::to_string(proxy.port())
                 + pushed.substr(pushed.find('/'));
    docker("rmi -f " + image);
    running_bosun b;
    REQUIRE(b.wait_ready());
    auto pid = b.proc().pid();
    REQUIRE(
      b.post("/v2/local/target-state", services(app_id, {"big"}, image, sleeper,
                                                R"({"MODE":"after-restart"})"))
        .status
      == 200);
    std::vector<api_sample> samples;
    auto observe = [&] {
      samples.push_back(sample_api(b, "big"));
      return samples.back();
    };
    REQUIRE(eventually(
      120s,
      [&](std::string& last) {
        last = describe(observe()) + ", " + std::to_string(proxy.bytes_down())
               + " bytes through the proxy";
        return proxy.bytes_down() >= (4u << 20);
      },
      "4 MiB of the pull"));
    auto bytes_at_stop = proxy.bytes_down();
    engine.stop([&] { observe(); });
    CHECK(proxy.bytes_down() < (16u << 20)); // the pull was cut, not done
    // While the engine is down bosun answers and says it is not applied.
    auto down = observe();
    CHECK(down.app_state != "applied");
    engine.start();
    auto started = steady::now();
    auto connections_before = proxy.connections();
    bool ok = eventually(
      300s,
      [&](std::string& last) {
        observe();
        return converged(b, app_id, {"big"}, "MODE=after-restart", last);
      },
      "the service to run after the engine came back");
    auto recovery = ms_since(started);
    REQUIRE_MESSAGE(ok, b.log());
    CHECK(b.proc().running());
    CHECK(b.proc().pid() == pid);
    CHECK(proxy.connections() > connections_before); // pulled again
    CHECK(docker("image inspect " + image).status == 0);
    std::string shown, prev;
    for (size_t i = 0; i < samples.size(); ++i) {
      auto& s = samples[i];
      CAPTURE(i);
      CAPTURE(describe(s));
      if (s.overall)
        CHECK((*s.overall >= 0 && *s.overall <= 100));
      if (s.progress)
        CHECK((*s.progress >= 0 && *s.progress <= 100));
      auto now
        = s.status + " " + (s.progress ? std::to_string(*s.progress) : "-");
      if (now != prev)
        shown += now + ", ";
      prev = now;
    }
    MESSAGE("engine stopped after ", bytes_at_stop,
            " bytes of the pull; converged ", recovery,
            " ms after dockerd was started again; ", proxy.connections(),
            " connections, ", proxy.bytes_down(), " bytes through the proxy; ",
            samples.size(), " samples; shown: ", shown);
    b.proc().signal(SIGTERM);
    b.proc().wait_exit(30s);
    clean_app(app_id);
    docker("rmi -f " + image);
  }

  TEST_CASE("dockerd stopped and started during an apply: bosun reconnects "
            "and converges, each service once with the target's env") {
    constexpr int app_id = 9302;
    const std::vector<std::string> names{"one", "two", "three", "four"};
    engine_control engine;
    auto base = required_env("BOSUN_TEST_IMAGE");
    clean_app(app_id);
    running_bosun b;
    REQUIRE(b.wait_ready());
    auto pid = b.proc().pid();
    REQUIRE(
      b.post("/v2/local/target-state", services(app_id, names, base, sleeper,
                                                R"({"MODE":"applied-across"})"))
        .status
      == 200);
    // Stopped as soon as the first container of the app exists: the other
    // services are still to be made.
    REQUIRE(eventually(
      60s,
      [&] {
        return !docker("ps -aq --filter label=io.balena.app-id="
                       + std::to_string(app_id))
                  .out.empty();
      },
      "the apply's first container"));
    auto made = docker("ps -aq --filter label=io.balena.app-id="
                       + std::to_string(app_id))
                  .out;
    engine.stop([] {});
    CHECK(sample_api(b, "one").app_state != "applied");
    engine.start();
    auto started = steady::now();
    bool ok = eventually(
      180s,
      [&](std::string& last) {
        return converged(b, app_id, names, "MODE=applied-across", last);
      },
      "the app to converge after the engine came back");
    auto recovery = ms_since(started);
    CHECK_MESSAGE(ok, b.log());
    CHECK(b.proc().running());
    CHECK(b.proc().pid() == pid);
    MESSAGE("engine stopped with ",
            std::count(made.begin(), made.end(), '\n') + 1, " of ",
            names.size(), " containers made; converged ", recovery,
            " ms after dockerd was started again");
    b.proc().signal(SIGTERM);
    b.proc().wait_exit(30s);
    clean_app(app_id);
  }

  TEST_CASE("dockerd stopped and started under a followed /v2/local/logs: "
            "each line once, contiguous within each run of the container") {
    constexpr int app_id = 9301;
    engine_control engine;
    auto base = required_env("BOSUN_TEST_IMAGE");
    clean_app(app_id);
    running_bosun b;
    REQUIRE(b.wait_ready());
    local_reader reader(b.port(), b.api_key());
    REQUIRE(eventually(
      20s, [&] { return reader.poll(50ms) && !reader.lines().empty(); },
      "the reader's first line"));
    REQUIRE(reader.status() == 200);
    REQUIRE(b.post("/v2/local/target-state",
                   services(app_id, {"counter"}, base, counter, "{}"))
              .status
            == 200);
    auto runs_now = [&](std::vector<std::string>& order) {
      reader.poll(50ms);
      return counter_runs(reader.lines(), "counter", order);
    };
    REQUIRE(eventually(
      60s,
      [&](std::string& last) {
        std::vector<std::string> order;
        auto runs = runs_now(order);
        last = std::to_string(runs.size()) + " runs";
        return runs.size() == 1 && runs.begin()->second.size() >= 100;
      },
      "100 lines of the first run"));
    engine.stop([&] { reader.poll(); });
    engine.start();
    auto started = steady::now();
    std::vector<std::string> order;
    std::map<std::string, std::vector<int>> runs;
    bool again = eventually(
      180s,
      [&](std::string& last) {
        order.clear();
        runs = runs_now(order);
        last = std::to_string(runs.size()) + " runs:";
        for (auto& r : order)
          last += " " + r + " " + std::to_string(runs[r].size());
        return runs.size() >= 2 && runs[order.back()].size() >= 100;
      },
      "100 lines of a run after the engine came back");
    auto recovery = ms_since(started);
    CHECK_MESSAGE(again, b.log());
    CHECK(reader.poll()); // the stream outlived the engine
    // Each run: from 0, each number once, none missing (the last lines of
    // the run the engine stopped may not have reached the engine's log).
    std::string shown;
    for (auto& r : order) {
      auto& ns = runs[r];
      CAPTURE(r);
      REQUIRE_FALSE(ns.empty());
      CHECK(ns.front() == 0);
      int repeats = 0, gaps = 0;
      for (size_t i = 1; i < ns.size(); ++i) {
        if (ns[i] <= ns[i - 1])
          ++repeats;
        else if (ns[i] != ns[i - 1] + 1)
          ++gaps;
      }
      CHECK(repeats == 0);
      CHECK(gaps == 0);
      shown += r + ": " + std::to_string(ns.size()) + " lines, "
               + std::to_string(ns.front()) + ".." + std::to_string(ns.back())
               + ", " + std::to_string(repeats) + " repeated, "
               + std::to_string(gaps) + " gaps; ";
    }
    // Idle before the restart, converged after it.
    CHECK(eventually(
      60s,
      [&](std::string& last) {
        return converged(b, app_id, {"counter"}, "", last);
      },
      "the app converged after the restart"));
    MESSAGE("a new run's 100 lines ", recovery,
            " ms after dockerd was started again; ", shown);
    b.proc().signal(SIGTERM);
    b.proc().wait_exit(30s);
    clean_app(app_id);
  }
}
