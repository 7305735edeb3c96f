// A managed device against cloud-sim: the real bosun binary, the private
// dockerd and registry of `tools/dev env`, and the simulated balena cloud.
// Poll intervals are short (config.json appUpdatePollInterval); the 10 s
// report spacing is real time, so each test needs only a few of them.
#include "tests/support/bosun.hpp"
#include "tests/support/env.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/process.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using bosun::test::child_process;
using bosun::test::docker;
using bosun::test::eventually;
using bosun::test::http_reply;
using bosun::test::http_request;
using bosun::test::temp_dir;
using steady = std::chrono::steady_clock;

namespace {

std::string sim_binary() {
  return (std::filesystem::path(BOSUN_BINARY).parent_path()
          / "tools/cloud-sim/cloud-sim")
    .string();
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  return d;
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// An app uuid of 32 hex digits for app `id`.
std::string app_uuid(int id) {
  auto s = std::to_string(id);
  return std::string("e2ec10d0000000000000000000000000", 32 - s.size()) + s;
}

// The apps object of a target: app `id` at release `commit` with one service
// `main` (image id 1000 + id) running the test image with env V=value.
std::string apps_json(int id, const std::string& commit, int release,
                      const std::string& value,
                      const std::string& service = "main") {
  std::ostringstream o;
  o << R"({")" << app_uuid(id) << R"(":{"id":)" << id << R"(,"name":"app)" << id
    << R"(","class":"fleet","releases":{")" << commit << R"(":{"id":)"
    << release << R"(,"services":{")" << service << R"(":{"id":)" << 100 + id
    << R"(,"image_id":)" << 1000 + id << R"(,"image":")"
    << bosun::test::required_env("BOSUN_TEST_IMAGE")
    << R"(","environment":{"V":")" << value
    << R"("},"labels":{},"composition":{"command":["/bin/sh","-c",)"
    << R"("trap 'exit 0' TERM; sleep 1000 \u0026 wait"]}}},)"
    << R"("volumes":{},"networks":{}}}}})";
  return o.str();
}

std::string container_name(int id, const std::string& commit, int release) {
  return "main_" + std::to_string(1000 + id) + "_" + std::to_string(release)
         + "_" + commit;
}

std::string inspect(const std::string& name, const std::string& format) {
  return docker("inspect -f '" + format + "' " + name).out;
}

bool running(const std::string& name) {
  return inspect(name, "{{.State.Running}}") == "true";
}

// Supervised containers of app `id`: name → id.
std::map<std::string, std::string> containers_of(int id) {
  auto r = docker("ps -a --filter label=io.balena.app-id=" + std::to_string(id)
                  + " --format '{{.Names}} {{.ID}}'");
  std::map<std::string, std::string> out;
  std::istringstream in(r.out);
  std::string name, cid;
  while (in >> name >> cid)
    out[name] = cid;
  return out;
}

void clean_app(int id) {
  for (auto& [name, cid] : containers_of(id))
    docker("rm -f " + cid);
  docker("network rm " + app_uuid(id) + "_default");
}

// cloud-sim on fixed ports (so that a restart keeps them).
class cloud_sim {
public:
  cloud_sim()
      : port_(bosun::test::free_port()), admin_(bosun::test::free_port()) {
    REQUIRE_MESSAGE(std::filesystem::exists(sim_binary()),
                    sim_binary() << " is missing: build the cloud-sim target");
    start();
  }

  void start(const std::string& state = {}) {
    std::vector<std::string> args{
      "--listen", "127.0.0.1:" + std::to_string(port_), "--admin",
      "127.0.0.1:" + std::to_string(admin_)};
    if (!state.empty()) {
      args.push_back("--state");
      args.push_back(state);
    }
    proc_ = std::make_unique<child_process>(sim_binary(), args);
    REQUIRE(eventually(
      10s,
      [&](std::string& last) {
        last = proc_->output();
        return last.find("(admin :") != std::string::npos;
      },
      "cloud-sim to listen"));
  }

  // Stops it, keeping its fleets and devices in `state_file`.
  void stop(const std::string& state_file) {
    std::ofstream(state_file) << call("GET", "/state").body;
    proc_->signal(SIGTERM);
    CHECK(proc_->wait_exit(10s) == 0);
  }

  int port() const {
    return port_;
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  http_reply call(const std::string& method, const std::string& target,
                  const std::string& body = {}) {
    return http_request(admin_, method, target, body);
  }
  rapidjson::Document get(const std::string& target) {
    auto r = call("GET", target);
    REQUIRE_MESSAGE(r.status == 200, target << ": " << r.body);
    return parse(r.body);
  }
  void must(const std::string& method, const std::string& target,
            const std::string& body) {
    auto r = call(method, target, body);
    REQUIRE_MESSAGE(r.status / 100 == 2, method << " " << target << ": "
                                                << r.status << " " << r.body);
  }

  // Requests of a route for one device, and how many were answered 200.
  uint64_t requests(const std::string& uuid, const std::string& route) {
    auto d = get("/counts?device=" + uuid);
    if (!d.IsObject() || !d.HasMember(route.c_str()))
      return 0;
    return d[route.c_str()]["requests"].GetUint64();
  }
  uint64_t answered(const std::string& uuid, const std::string& route,
                    int status) {
    auto d = get("/counts?device=" + uuid);
    if (!d.IsObject() || !d.HasMember(route.c_str()))
      return 0;
    auto& s = d[route.c_str()]["statuses"];
    auto key = std::to_string(status);
    return s.HasMember(key.c_str()) ? s[key.c_str()].GetUint64() : 0;
  }

  struct report {
    int64_t time_ms = 0;
    std::string body; // the device's object
  };
  std::vector<report> reports(const std::string& uuid) {
    auto d = get("/reports?device=" + uuid);
    std::vector<report> out;
    for (auto& it : d["items"].GetArray())
      out.push_back(
        {it["time_ms"].GetInt64(), to_json(it["body"][uuid.c_str()])});
    return out;
  }

private:
  int port_;
  int admin_;
  std::unique_ptr<child_process> proc_;
};

// The bosun binary with its own config.json and data dir, restartable.
class device {
public:
  explicit device(const std::string& config_json) {
    std::ofstream(config_path()) << config_json;
  }

  std::string config_path() const {
    return dir_.path() + "/config.json";
  }

  void start() {
    proc_ = std::make_unique<child_process>(
      BOSUN_BINARY,
      std::vector<std::string>{
        "--data-dir", dir_.path() + "/data", "--config", config_path(),
        "--engine", bosun::test::required_env("DOCKER_HOST"), "--listen",
        "127.0.0.1:" + std::to_string(port_), "--log-level", "debug"},
      env);
    REQUIRE(eventually(
      20s,
      [&](std::string& last) {
        if (!proc_->running()) {
          last = "bosun exited: " + proc_->output();
          return false;
        }
        return http_request(port_, "GET", "/ping").status == 200;
      },
      "bosun to answer /ping"));
  }

  void stop() {
    proc_->signal(SIGTERM);
    CHECK(proc_->wait_exit(15s) == 0);
  }

  std::string log() const {
    return proc_->output();
  }

  // The global API key (`bosun api-key`; it is never logged).
  std::string api_key() const {
    auto key = bosun::test::api_key_from(dir_.path() + "/data", config_path());
    REQUIRE(key.size() == 32);
    return key;
  }

  http_reply update(const std::string& body = "{}") {
    return http_request(
      port_, "POST", "/v1/update", body,
      {"Content-Type: application/json", "Authorization: Bearer " + api_key()});
  }
  int healthy() {
    return http_request(port_, "GET", "/v1/healthy").status;
  }
  http_reply get(const std::string& target) {
    return http_request(port_, "GET", target, {},
                        {"Authorization: Bearer " + api_key()});
  }

  std::map<std::string, std::string> env; // for the next start()

private:
  temp_dir dir_;
  int port_ = bosun::test::free_port();
  std::unique_ptr<child_process> proc_;
};

struct app_fixture {
  int id;
  explicit app_fixture(int app_id) : id(app_id) {
    clean_app(id);
  }
  ~app_fixture() {
    clean_app(id);
  }
};

const std::string device_uuid = "e2ec10dde71ce000000000000000000";

// A device already registered in cloud-sim and in its config.json.
std::string provisioned_config(cloud_sim& sim, const std::string& uuid,
                               int fleet, int poll_ms = 4000,
                               int request_timeout_ms = 59000) {
  sim.must("POST", "/devices",
           R"({"uuid":")" + uuid + R"(","api_key":"dk-)" + uuid
             + R"(","fleet":)" + std::to_string(fleet) + R"(,"id":)"
             + std::to_string(fleet) + "}");
  return R"({"apiEndpoint":")" + sim.url() + R"(","uuid":")" + uuid
         + R"(","deviceApiKey":"dk-)" + uuid + R"(","applicationId":)"
         + std::to_string(fleet) + R"(,"deviceId":)" + std::to_string(fleet)
         + R"(,"registered_at":1700000000000,"appUpdatePollInterval":)"
         + std::to_string(poll_ms) + R"(,"apiRequestTimeout":)"
         + std::to_string(request_timeout_ms) + "}";
}

void add_fleet(cloud_sim& sim, int id, const std::string& apps,
               const std::string& key = "") {
  sim.must("POST", "/fleets",
           R"({"id":)" + std::to_string(id) + R"(,"provisioning_key":")"
             + (key.empty() ? "pk-" + std::to_string(id) : key)
             + R"(","name":"fleet)" + std::to_string(id) + R"(","apps":)" + apps
             + "}");
}

// The report's service entry text for `service` of release `commit`.
bool reports_running(const std::string& body, const std::string& commit) {
  auto d = parse(body);
  if (!d.IsObject() || !d.HasMember("apps"))
    return false;
  for (auto& app : d["apps"].GetObject()) {
    auto& a = app.value;
    if (!a.HasMember("release_uuid") || a["release_uuid"] != commit.c_str())
      continue;
    auto& rel = a["releases"][commit.c_str()];
    auto& svc = rel["services"]["main"];
    return svc["status"] == "Running" && rel["update_status"] == "done";
  }
  return false;
}

// Waits for the last report the cloud recorded from `uuid` to show release
// `commit` running.
bool await_report_running(cloud_sim& sim, const std::string& uuid,
                          const std::string& commit,
                          std::chrono::milliseconds deadline,
                          const std::string& what) {
  return eventually(
    deadline,
    [&](std::string& last) {
      auto rs = sim.reports(uuid);
      last = rs.empty() ? "no report" : rs.back().body;
      return !rs.empty() && reports_running(rs.back().body, commit);
    },
    what);
}

// When bosun started each state report, in ms since the epoch: the time of
// its debug line "cloud: state report: …", written as the request goes out
// (reporting.cpp, right after the throttle records the send).
std::vector<int64_t> report_starts(const std::string& log) {
  std::vector<int64_t> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(" debug cloud: state report: ") == std::string::npos)
      continue;
    std::tm tm{};
    int ms = 0;
    if (std::sscanf(line.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
                    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                    &tm.tm_sec, &ms)
        != 7)
      continue;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    out.push_back(int64_t{timegm(&tm)} * 1000 + ms);
  }
  return out;
}

// The 10 s spacing is kept on bosun's clock, from the start of one report to
// the start of the next, so it is measured there: at bosun's log line for
// each report. (The simulator's arrival times are not a measure of it: a
// report that takes longer to reach the simulator than the next one, as the
// first on a new connection does in a slow sanitizer build, arrives less
// than 10 s before it; 9.76 s was seen.) The slack covers the two clocks'
// ms rounding and the moment between the throttle's clock reading and the
// line's, which formats the report; nothing that crosses the network.
// Every report the simulator recorded was started by then, so the lines
// are those reports' starts.
void check_spacing(const std::string& log,
                   const std::vector<cloud_sim::report>& reports) {
  auto starts = report_starts(log);
  REQUIRE(starts.size() >= reports.size());
  for (size_t i = 0; i < reports.size(); ++i) {
    auto started
      = std::upper_bound(starts.begin(), starts.end(), reports[i].time_ms + 1)
        - starts.begin();
    CHECK_MESSAGE(started >= static_cast<long>(i + 1),
                  "report " << i << " arrived at " << reports[i].time_ms
                            << " ms, when only " << started
                            << " had been started");
  }
  for (size_t i = 1; i < starts.size(); ++i)
    CHECK_MESSAGE(starts[i] - starts[i - 1] >= 9900,
                  "reports " << i - 1 << " and " << i << " started "
                             << starts[i] - starts[i - 1] << " ms apart");
}

// Times (since `t0`) at which the device's request count of `route` grew,
// sampled every 20 ms for `span`.
std::vector<double> request_times(cloud_sim& sim, const std::string& uuid,
                                  const std::string& route,
                                  std::chrono::milliseconds span) {
  std::vector<double> out;
  auto t0 = steady::now();
  auto seen = sim.requests(uuid, route);
  while (steady::now() - t0 < span) {
    auto n = sim.requests(uuid, route);
    auto at = std::chrono::duration<double>(steady::now() - t0).count();
    for (; seen < n; ++seen)
      out.push_back(at);
    std::this_thread::sleep_for(20ms); // sampling period, not a wait
  }
  return out;
}

std::string gaps(const std::vector<double>& times) {
  std::ostringstream o;
  for (size_t i = 1; i < times.size(); ++i)
    o << (i > 1 ? ", " : "") << times[i] - times[i - 1];
  return o.str();
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// When each container of app `id` ran, from the engine's events: name →
// [start, die) intervals in ms since the epoch (die = end when still up).
using run_intervals
  = std::map<std::string, std::vector<std::pair<int64_t, int64_t>>>;
run_intervals engine_runs(int id, int64_t since_ms, int64_t until_ms) {
  auto r = docker("events --since " + std::to_string(since_ms / 1000)
                  + " --until " + std::to_string(until_ms / 1000 + 1)
                  + " --filter type=container --filter label=io.balena.app-id="
                  + std::to_string(id)
                  + " --format '{{.TimeNano}} {{.Action}} "
                    "{{index .Actor.Attributes \"name\"}}'");
  run_intervals out;
  std::istringstream in(r.out);
  int64_t nanos = 0;
  std::string action, name;
  while (in >> nanos >> action >> name) {
    auto ms = nanos / 1000000;
    auto& runs = out[name];
    if (action == "start")
      runs.push_back({ms, until_ms + 60000});
    else if (action == "die" && !runs.empty())
      runs.back().second = std::min(runs.back().second, ms);
  }
  return out;
}

bool ran_within(const run_intervals& runs, const std::string& name,
                int64_t from, int64_t to) {
  auto it = runs.find(name);
  if (it == runs.end())
    return false;
  for (auto& [a, b] : it->second)
    if (a <= to && b >= from)
      return true;
  return false;
}

bool ran_throughout(const run_intervals& runs, const std::string& name,
                    int64_t from, int64_t to) {
  auto it = runs.find(name);
  if (it == runs.end())
    return false;
  for (auto& [a, b] : it->second)
    if (a <= from && b >= to)
      return true;
  return false;
}

// Every report with an apps section against the engine at its time (the
// report is collected from a view at most ~1 s old): a service reported
// Running ran then, and a container that ran all along is reported Running.
void check_reports_match_engine(int id,
                                const std::vector<cloud_sim::report>& reports,
                                int64_t since_ms,
                                const std::map<std::string, int>& releases) {
  auto runs = engine_runs(id, since_ms, now_ms());
  int checked = 0;
  std::set<std::string> seen_running;
  for (auto& rep : reports) {
    auto d = parse(rep.body);
    if (!d.HasMember("apps"))
      continue;
    auto& app = d["apps"][app_uuid(id).c_str()];
    std::set<std::string> reported_running;
    for (auto& rel : app["releases"].GetObject()) {
      std::string commit = rel.name.GetString();
      for (auto& svc : rel.value["services"].GetObject()) {
        if (svc.value["status"] != "Running")
          continue;
        auto name = container_name(id, commit, releases.at(commit));
        reported_running.insert(name);
        seen_running.insert(name);
        CHECK_MESSAGE(
          ran_within(runs, name, rep.time_ms - 2500, rep.time_ms + 500),
          "report at " << rep.time_ms << " says " << name
                       << " runs: " << rep.body);
      }
    }
    for (auto& entry : runs) {
      const auto& name = entry.first;
      if (ran_throughout(runs, name, rep.time_ms - 2500, rep.time_ms + 500))
        CHECK_MESSAGE(reported_running.count(name) == 1,
                      "report at " << rep.time_ms << " misses running " << name
                                   << ": " << rep.body);
    }
    ++checked;
  }
  CHECK(checked >= 2);
  // Not vacuous: each release was seen running, by the engine and reports.
  for (auto& [commit, release] : releases) {
    auto name = container_name(id, commit, release);
    CHECK_MESSAGE(seen_running.count(name) == 1, name);
    CHECK_MESSAGE(runs.count(name) == 1, name);
  }
}
} // namespace

TEST_SUITE("cloud") {
  TEST_CASE("a new device registers with its provisioning key, runs its "
            "fleet's release, reports it, and takes a new release at once "
            "after /v1/update") {
    app_fixture app(601);
    auto started_ms = now_ms();
    cloud_sim sim;
    add_fleet(sim, 601, apps_json(601, "r1", 1, "one"));
    device dev(R"({"apiEndpoint":")" + sim.url()
               + R"(","apiKey":"pk-601","applicationId":601,)"
                 R"("appUpdatePollInterval":4000,"persistentLogging":false})");
    dev.start();

    // Registered, and config.json says so (the provisioning key is gone).
    std::string uuid;
    REQUIRE(eventually(
      20s,
      [&](std::string& last) {
        auto cfg = parse(slurp(dev.config_path()));
        last = slurp(dev.config_path());
        if (!cfg.IsObject() || !cfg.HasMember("deviceId"))
          return false;
        uuid = cfg["uuid"].GetString();
        return !cfg.HasMember("apiKey") && cfg.HasMember("registered_at")
               && cfg.HasMember("deviceApiKey")
               && cfg.HasMember("persistentLogging");
      },
      "config.json to record the registration"));
    auto regs = sim.get("/registrations");
    REQUIRE(regs["items"].Size() == 1);
    CHECK(regs["items"][0]["body"]["uuid"] == uuid.c_str());

    auto r1 = container_name(601, "r1", 1);
    REQUIRE(eventually(
      60s, [&] { return running(r1); }, r1 + " to run"));
    CHECK(inspect(r1, "{{json .Config.Env}}").find("V=one")
          != std::string::npos);
    REQUIRE(
      await_report_running(sim, uuid, "r1", 40s, "a report of r1 running"));

    // A new release: /v1/update makes bosun poll now (the next scheduled
    // poll is 4 s plus up to 60 s of jitter away).
    auto polls = sim.requests(uuid, "state-get");
    sim.must("PUT", "/fleets/601/target",
             R"({"config":{},"apps":)" + apps_json(601, "r2", 2, "two") + "}");
    auto asked = steady::now();
    auto u = dev.update();
    CHECK(u.status == 204);
    REQUIRE(eventually(
      5s, [&] { return sim.requests(uuid, "state-get") > polls; },
      "a poll right after /v1/update"));
    CHECK(steady::now() - asked < 3s);
    auto r2 = container_name(601, "r2", 2);
    REQUIRE(eventually(
      60s, [&] { return running(r2); }, r2 + " to run"));
    REQUIRE(
      await_report_running(sim, uuid, "r2", 40s, "a report of r2 running"));
    // The last report matches the engine: r2 runs, r1 is gone.
    auto names = containers_of(601);
    CHECK(names.size() == 1);
    CHECK(names.count(r2) == 1);
    auto rs = sim.reports(uuid);
    check_spacing(dev.log(), rs);
    check_reports_match_engine(601, rs, started_ms, {{"r1", 1}, {"r2", 2}});
    // Every report the cloud got is a v3 report of this device, and the
    // first one carries the device fields.
    auto first = parse(rs.front().body);
    CHECK(first["api_port"].IsInt());
    CHECK(first["supervisor_version"] == "19.0.5");
    CHECK(first["status"] == "Idle");
    CHECK(dev.healthy() == 200);
  }

  TEST_CASE("cloud-sim answers 500s, then stalls, then flaps: bosun backs "
            "off, goes unhealthy, and recovers when the cloud does") {
    app_fixture app(602);
    cloud_sim sim;
    add_fleet(sim, 602, apps_json(602, "r1", 1, "one"));
    auto uuid = device_uuid + "2";
    // 4 s interval: failures retry after min(4 s, 30 s·2^n) = 4 s; requests
    // time out after 1.5 s.
    device dev(provisioned_config(sim, uuid, 602, 4000, 1500));
    dev.start();
    REQUIRE(eventually(
      30s, [&] { return sim.answered(uuid, "state-get", 200) >= 1; },
      "a first good poll"));

    // 500s: one attempt per backoff, never faster.
    sim.must("POST", "/faults",
             R"({"route":"state-get","mode":"status","status":500})");
    CHECK(dev.update().status == 204);
    auto t500 = request_times(sim, uuid, "state-get", 13s);
    INFO("500s: attempts at ", gaps(t500), " s intervals");
    REQUIRE(t500.size() >= 3);
    for (size_t i = 1; i < t500.size(); ++i) {
      CHECK(t500[i] - t500[i - 1] >= 3.8);
      CHECK(t500[i] - t500[i - 1] <= 5.5);
    }
    // Over 2× the interval without a good poll: unhealthy.
    CHECK(dev.healthy() == 500);

    // Stalls: each attempt waits for its timeout, then the backoff.
    sim.must("POST", "/faults", R"({"route":"state-get","mode":"stall"})");
    auto tstall = request_times(sim, uuid, "state-get", 13s);
    INFO("stalls: attempts at ", gaps(tstall), " s intervals");
    REQUIRE(tstall.size() >= 2);
    for (size_t i = 1; i < tstall.size(); ++i) {
      CHECK(tstall[i] - tstall[i - 1] >= 5.3); // 1.5 s timeout + 4 s
      CHECK(tstall[i] - tstall[i - 1] <= 7.5);
    }

    // Flapping: up 1.5 s, down 1.5 s; /v1/update every second lands on
    // both sides, and every answer in an up phase is a good poll.
    sim.must("DELETE", "/faults", "");
    // Good answers are 304s now: bosun has the target's ETag.
    auto good_polls = [&] {
      return sim.answered(uuid, "state-get", 200)
             + sim.answered(uuid, "state-get", 304);
    };
    auto good = good_polls();
    sim.must("POST", "/faults",
             R"({"route":"state-get","mode":"flap","up_ms":1500,)"
             R"("down_ms":1500,"status":503})");
    for (int i = 0; i < 6; ++i) {
      dev.update();
      std::this_thread::sleep_for(1s); // pacing the triggers, not a wait
    }
    CHECK(sim.answered(uuid, "state-get", 503) >= 1);
    CHECK(good_polls() > good);

    // Back for good: the app runs, reports flow, healthy again.
    sim.must("DELETE", "/faults", "");
    CHECK(dev.update().status == 204);
    REQUIRE(eventually(
      60s, [&] { return running(container_name(602, "r1", 1)); },
      "the app to run"));
    REQUIRE(
      await_report_running(sim, uuid, "r1", 40s, "a report of r1 running"));
    REQUIRE(eventually(
      10s, [&] { return dev.healthy() == 200; }, "/v1/healthy to be OK"));
    check_spacing(dev.log(), sim.reports(uuid));
  }

  TEST_CASE("reports whose connection closes before the answer: the next "
            "one still starts 10 s after the previous one started") {
    app_fixture app(605);
    cloud_sim sim;
    add_fleet(sim, 605, apps_json(605, "r1", 1, "one"));
    auto uuid = device_uuid + "5";
    // A 4 s interval caps the report backoff at 4 s: only the 10 s spacing
    // holds the retries back.
    device dev(provisioned_config(sim, uuid, 605));
    dev.start();
    REQUIRE(
      await_report_running(sim, uuid, "r1", 60s, "a report of r1 running"));

    // The next two reports are read (and recorded) by the cloud, whose
    // answer never comes: the connection closes instead.
    sim.must("POST", "/faults",
             R"({"route":"state-patch","mode":"hangup","count":2})");
    sim.must("PUT", "/fleets/605/target",
             R"({"config":{},"apps":)" + apps_json(605, "r2", 2, "two") + "}");
    CHECK(dev.update().status == 204);
    auto times = request_times(sim, uuid, "state-patch", 35s);
    INFO("reports at ", gaps(times), " s intervals");
    CHECK(sim.answered(uuid, "state-patch", 0) == 2);
    REQUIRE(times.size() >= 3);
    for (size_t i = 1; i < times.size(); ++i)
      CHECK(times[i] - times[i - 1] >= 9.9);
    REQUIRE(
      await_report_running(sim, uuid, "r2", 40s, "a report of r2 running"));
  }

  TEST_CASE("restarted while the cloud is down, bosun runs its stored target "
            "and reports once the cloud is back") {
    app_fixture app(603);
    cloud_sim sim;
    add_fleet(sim, 603, apps_json(603, "r1", 1, "one"));
    auto uuid = device_uuid + "3";
    device dev(provisioned_config(sim, uuid, 603, 3000, 2000));
    dev.start();
    auto r1 = container_name(603, "r1", 1);
    REQUIRE(eventually(
      60s, [&] { return running(r1); }, r1 + " to run"));
    dev.stop();

    temp_dir keep;
    auto state = keep.path() + "/sim.json";
    sim.stop(state);
    // Gone while the agent was down: only the stored target can bring it
    // back.
    REQUIRE(docker("rm -f " + r1).status == 0);
    dev.start();
    REQUIRE(eventually(
      60s, [&] { return running(r1); },
      r1 + " to run again without the cloud"));

    sim.start(state);
    REQUIRE(await_report_running(sim, uuid, "r1", 30s,
                                 "a report once the cloud is back"));
    CHECK(sim.answered(uuid, "state-get", 200)
            + sim.answered(uuid, "state-get", 304)
          >= 1);
  }

  TEST_CASE("an invalid target from the cloud is rejected and the running "
            "app stays untouched") {
    app_fixture app(604);
    cloud_sim sim;
    add_fleet(sim, 604, apps_json(604, "r1", 1, "one"));
    auto uuid = device_uuid + "4";
    device dev(provisioned_config(sim, uuid, 604));
    dev.start();
    auto r1 = container_name(604, "r1", 1);
    REQUIRE(eventually(
      60s, [&] { return running(r1); }, r1 + " to run"));
    auto before = containers_of(604);

    // A service name balena refuses.
    sim.must("PUT", "/devices/" + uuid + "/target",
             R"({"config":{},"apps":)" + apps_json(604, "r2", 2, "two", "-bad")
               + "}");
    auto served = sim.get("/devices/" + uuid + "/target");
    std::string etag = served["etag"].GetString();
    auto polls = sim.answered(uuid, "state-get", 200);
    CHECK(dev.update().status == 204);
    REQUIRE(eventually(
      10s,
      [&](std::string& last) {
        last = dev.log();
        return sim.answered(uuid, "state-get", 200) > polls
               && last.find("Could not move to new release")
                    != std::string::npos;
      },
      "bosun to refuse the target"));
    CHECK(dev.log().find("-bad") != std::string::npos);
    // Polled again: the refused target is not fetched anew (304).
    auto not_modified = sim.answered(uuid, "state-get", 304);
    CHECK(dev.update().status == 204);
    REQUIRE(eventually(
      10s, [&] { return sim.answered(uuid, "state-get", 304) > not_modified; },
      "a 304 for the refused target"));
    CHECK(containers_of(604) == before);
    CHECK(running(r1));
    CHECK(inspect(r1, "{{json .Config.Env}}").find("V=one")
          != std::string::npos);
    CHECK_FALSE(etag.empty());
  }

  TEST_CASE("device config: the target's HOST_CONFIG_* vars become the "
            "lines of a Raspberry Pi's config.txt, the device's own config "
            "reaches the cloud first, and SUPERVISOR_POLL_INTERVAL moves the "
            "poll schedule") {
    cloud_sim sim;
    add_fleet(sim, 605, "{}");
    auto uuid = device_uuid + "5";
    // A Pi 4 with balenaOS's config.txt on its boot partition.
    temp_dir boot;
    std::filesystem::create_directories(boot.path() + "/splash");
    std::ofstream(boot.path() + "/config.txt")
      << slurp(std::string(BOSUN_TEST_DATA) + "/boot/rpi4-balenaos-config.txt");
    std::ofstream(boot.path() + "/splash/balena-logo.png")
      << std::string("\x89PNG\r\n\x1a\nlogo", 12);
    auto cfg = provisioned_config(sim, uuid, 605, 900000);
    cfg.insert(cfg.size() - 1, R"(,"deviceType":"raspberrypi4-64")");
    sim.must("PUT", "/fleets/605/target",
             R"({"config":{"RESIN_HOST_CONFIG_gpu_mem":"64",)"
             R"("BALENA_HOST_CONFIG_dtoverlay":"\"vc4-kms-v3d,cma-256\""},)"
             R"("apps":{}})");
    device dev(cfg);
    dev.env["BOOT_MOUNTPOINT"] = boot.path();
    dev.start();

    // The file: the target's values, the device's own values that the
    // target lacked (reported to the cloud first, so its target has them),
    // overlays last with their params.
    const std::string expected = "avoid_warnings=1\n"
                                 "disable_splash=1\n"
                                 "dtparam=i2c_arm=on\n"
                                 "dtparam=spi=on\n"
                                 "dtparam=audio=on\n"
                                 "enable_uart=1\n"
                                 "gpu_mem=64\n"
                                 "dtoverlay=vc4-kms-v3d\n"
                                 "dtparam=cma-256\n";
    REQUIRE(eventually(
      30s,
      [&](std::string& last) {
        last = slurp(boot.path() + "/config.txt");
        return last == expected;
      },
      "config.txt to hold the target's lines"));

    // Reported once, before the first poll: the current values the cloud's
    // target lacked, as RESIN_ device config variables; not what the target
    // had (gpu_mem, dtoverlay) and not the defaults.
    auto devices = sim.get("/devices/" + uuid);
    REQUIRE(devices["device"].HasMember("config_vars"));
    auto& vars = devices["device"]["config_vars"];
    CHECK(vars["RESIN_HOST_CONFIG_enable_uart"] == "1");
    CHECK(vars["RESIN_HOST_CONFIG_avoid_warnings"] == "1");
    CHECK(vars["RESIN_HOST_CONFIG_disable_splash"] == "1");
    CHECK(vars["RESIN_HOST_CONFIG_dtparam"]
          == R"("i2c_arm=on","spi=on","audio=on")");
    CHECK(vars["RESIN_HOST_FIREWALL_MODE"] == "");
    CHECK_FALSE(vars.HasMember("RESIN_HOST_CONFIG_gpu_mem"));
    CHECK_FALSE(vars.HasMember("RESIN_HOST_CONFIG_dtoverlay"));
    CHECK_FALSE(vars.HasMember("RESIN_SUPERVISOR_POLL_INTERVAL"));
    CHECK_FALSE(vars.HasMember("RESIN_SUPERVISOR_LOCAL_MODE"));

    // The device API shows the effective target, defaults filled in.
    auto local = parse(dev.get("/v2/local/target-state").body);
    REQUIRE(local.IsObject());
    auto& config = local["state"]["local"]["config"];
    CHECK(config["HOST_CONFIG_gpu_mem"] == "64");
    CHECK(config["HOST_CONFIG_enable_uart"] == "1");
    CHECK(config["SUPERVISOR_DELTA_VERSION"] == "2");
    CHECK(config["HOST_DISCOVERABILITY"] == "true");

    // A boot-config change needs a reboot: the breadcrumb is set.
    CHECK(dev.log().find("Reboot has been scheduled to apply changes")
          != std::string::npos);

    // The interval: 900000 ms from config.json, then the target's 5000.
    auto next_poll_ms = [&](size_t from) -> std::optional<int64_t> {
      auto log = dev.log();
      auto at = log.find("next target poll in ", from);
      if (at == std::string::npos)
        return std::nullopt;
      return std::stoll(log.substr(at + 20));
    };
    auto first = next_poll_ms(0);
    REQUIRE(first);
    CHECK(*first >= 900000);
    sim.must("PUT", "/fleets/605/target",
             R"({"config":{"RESIN_HOST_CONFIG_gpu_mem":"64",)"
             R"("BALENA_HOST_CONFIG_dtoverlay":"\"vc4-kms-v3d,cma-256\"",)"
             R"("RESIN_SUPERVISOR_POLL_INTERVAL":"5000"},"apps":{}})");
    auto mark = dev.log().size();
    dev.update();
    std::optional<int64_t> next;
    REQUIRE(eventually(
      10s,
      [&](std::string& last) {
        last = dev.log().substr(mark);
        auto changed = last.find("poll interval 5000 ms (from the target)");
        if (changed == std::string::npos)
          return false;
        next = next_poll_ms(mark + changed);
        return next.has_value();
      },
      "the next poll scheduled with the target's interval"));
    CHECK(*next >= 5000);
    CHECK(*next < 65000); // the interval plus at most 60 s of jitter
    // Unchanged boot config: config.txt is not written again.
    CHECK(slurp(boot.path() + "/config.txt") == expected);
  }
}
