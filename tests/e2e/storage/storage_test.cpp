// The data dir under stress, with the real bosun binary and a real dockerd
// (docs/RELIABILITY.md):
//  - disk full: the data dir on a small tmpfs that the test fills. The
//    database refuses writes with a clear error, bosun keeps its app running
//    and answers the API, says what is wrong in telemetry and its log, and
//    takes writes again once there is room;
//  - power loss: bosun killed with SIGKILL in the middle of bursts of writes
//    (tags and targets through the device API). The database then passes
//    `PRAGMA integrity_check` and holds at least what was acknowledged.
// Mounting a tmpfs needs root (as CI and `tools/dev test` run).
#include "tests/e2e/api/api_helpers.hpp"
#include "tests/support/bosun.hpp"
#include "tests/support/env.hpp"
#include "tests/support/targets.hpp"

#include <atomic>
#include <csignal>
#include <doctest/doctest.h>
#include <mutex>
#include <random>
#include <rapidjson/document.h>
#include <sqlite3.h>
#include <sstream>
#include <sys/stat.h>
#include <thread>

using namespace std::chrono_literals;
using bosun::test::docker;
using bosun::test::eventually;
using bosun::test::run_command;
using bosun::test::running_bosun;
using bosun::test::temp_dir;

namespace {

constexpr int app_id = 151;
const char* const container = "main_51_1_s1";

std::string target(const std::string& name) {
  return bosun::test::sleeper_target(app_id, "st", "s1", 51, "main", name);
}

std::string empty_target(const std::string& name) {
  return R"({"local":{"name":")" + name + R"(","config":{},"apps":{}}})";
}

void clean_app() {
  bosun::test::api::remove_apps({app_id});
}

bool container_running() {
  return bosun::test::api::running(container);
}

// A tmpfs of `size` mounted at <temp dir>/data for the test's lifetime.
struct small_disk {
  temp_dir dir;
  std::string path = dir.path() + "/data";
  explicit small_disk(const std::string& size) {
    REQUIRE(mkdir(path.c_str(), 0755) == 0);
    auto r = run_command("mount -t tmpfs -o size=" + size + " tmpfs " + path);
    REQUIRE_MESSAGE(r.status == 0, "mounting a tmpfs (needs root): " << r.out);
  }
  ~small_disk() {
    run_command("umount -l " + path);
  }
  // Fills what is left (dd stops at ENOSPC).
  void fill() {
    run_command("dd if=/dev/zero of=" + path + "/filler bs=4k 2>/dev/null");
    run_command("sync");
  }
  void free_up() {
    std::remove((path + "/filler").c_str());
  }
};

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  return d;
}

// The db actor's row of GET /v2/telemetry: its lastError ("" when null).
std::string db_last_error(running_bosun& b) {
  auto d = parse(b.get("/v2/telemetry").body);
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("actors"))
    return "(no telemetry)";
  for (const auto& a : d["actors"].GetArray())
    if (a.HasMember("name") && a["name"] == "db")
      return a["lastError"].IsString() ? a["lastError"].GetString() : "";
  return "(no db actor)";
}

bosun::test::http_reply patch_tags(running_bosun& b, const std::string& json) {
  return bosun::test::http_request(b.port(), "PATCH", "/v2/device/tags", json,
                                   {"Content-Type: application/json"});
}

// PRAGMA integrity_check on a database file, read-only: "ok" when sound.
std::string integrity_check(const std::string& file) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr)
      != SQLITE_OK) {
    out = std::string{"cannot open: "} + sqlite3_errmsg(db);
  } else {
    auto collect = [](void* o, int n, char** values, char**) {
      auto& s = *static_cast<std::string*>(o);
      for (int i = 0; i < n; ++i)
        s += (s.empty() ? "" : "; ") + std::string{values[i] ? values[i] : ""};
      return 0;
    };
    char* err = nullptr;
    if (sqlite3_exec(db, "PRAGMA integrity_check", collect, &out, &err)
        != SQLITE_OK) {
      out = std::string{"integrity_check failed: "} + (err ? err : "");
      sqlite3_free(err);
    }
  }
  sqlite3_close(db);
  return out;
}

// The value of tag `key` in GET /v2/device/tags, or -1.
long tag_value(running_bosun& b, const std::string& key) {
  auto d = parse(b.get("/v2/device/tags").body);
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("tags"))
    return -1;
  for (const auto& t : d["tags"].GetArray())
    if (t["name"] == key.c_str())
      return std::stol(t["value"].GetString());
  return -1;
}

// The number in the target's name "p<N>" (GET /v2/local/target-state), or -1.
long target_number(running_bosun& b) {
  auto d = parse(b.get("/v2/local/target-state").body);
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("state"))
    return -1;
  std::string name = d["state"]["local"]["name"].GetString();
  return name.size() > 1 && name[0] == 'p' ? std::stol(name.substr(1)) : -1;
}

} // namespace

TEST_SUITE("storage") {
  TEST_CASE("a full data dir: writes are refused cleanly, the app and the "
            "API go on, telemetry and the log say why, and writes work "
            "again once there is room") {
    clean_app();
    small_disk disk{"8m"};
    {
      running_bosun b({"--local-mode"}, disk.path);
      REQUIRE(b.wait_ready());
      REQUIRE(b.post("/v2/local/target-state", target("full")).status == 200);
      REQUIRE(eventually(120s, container_running, "the service to run"));
      REQUIRE(patch_tags(b, R"({"before":"1"})").status == 202);

      disk.fill();
      auto refused = patch_tags(b, R"({"during":"1"})");
      CHECK(refused.status >= 500);
      CHECK_MESSAGE(refused.body.find("full") != std::string::npos,
                    refused.body);
      auto target_refused = b.post("/v2/local/target-state", target("during"));
      CHECK(target_refused.status >= 400);
      CHECK(target_refused.body.find("full") != std::string::npos);

      // The agent goes on: API, reads, the app.
      CHECK(b.get("/ping").status == 200);
      CHECK(b.get("/v2/applications/state").status == 200);
      CHECK(tag_value(b, "before") == 1);
      CHECK(tag_value(b, "during") == -1);
      CHECK(container_running());
      CHECK(b.proc().running());
      // It says why.
      CHECK_MESSAGE(db_last_error(b).find("full") != std::string::npos,
                    db_last_error(b));
      CHECK_MESSAGE(
        b.log().find("cannot store the target") != std::string::npos, b.log());

      disk.free_up();
      CHECK(patch_tags(b, R"({"after":"2"})").status == 202);
      CHECK(tag_value(b, "after") == 2);
      CHECK(b.post("/v2/local/target-state", target("after")).status == 200);
      CHECK(container_running());
    }
    // Nothing half-written: the database is sound and holds the writes.
    CHECK(integrity_check(disk.path + "/bosun.sqlite") == "ok");
    running_bosun again({"--local-mode"}, disk.path);
    REQUIRE(again.wait_ready());
    CHECK(tag_value(again, "after") == 2);
    clean_app();
  }

  TEST_CASE("SIGKILL during bursts of writes: the database opens sound and "
            "holds every acknowledged write") {
    // BOSUN_TEST_POWER_TRIALS trials (default 8), seeded by
    // BOSUN_TEST_POWER_SEED (default 1).
    auto env_long = [](const char* name, long dflt) {
      const char* v = std::getenv(name);
      return v != nullptr && *v != '\0' ? std::stol(v) : dflt;
    };
    long trials = env_long("BOSUN_TEST_POWER_TRIALS", 8);
    auto seed = static_cast<unsigned>(env_long("BOSUN_TEST_POWER_SEED", 1));
    std::mt19937 rng{seed};
    temp_dir dir;
    auto data = dir.path() + "/data";
    long tag_acked = -1, target_acked = -1, next = 0;
    std::atomic<long> acked_writes{0};
    std::chrono::milliseconds worst_restart{0}; // start until /ping answers
    for (long trial = 0; trial < trials; ++trial) {
      CAPTURE(seed);
      CAPTURE(trial);
      auto start = std::chrono::steady_clock::now();
      running_bosun b({"--local-mode"}, data);
      REQUIRE(b.wait_ready());
      worst_restart = std::max(
        worst_restart, std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start));
      // What was acknowledged before the last kill is there.
      CHECK(tag_value(b, "n") >= tag_acked);
      CHECK(target_number(b) >= target_acked);
      // Two writers, tags and targets, until the kill cuts them off.
      std::atomic<bool> killed{false};
      std::atomic<long> counter{next};
      std::mutex m;
      std::string refusals; // writes answered with an error (none expected)
      auto writer = [&](bool tags, long& acked) {
        while (!killed) {
          auto n = counter++;
          auto r = tags
                     ? patch_tags(b, R"({"n":")" + std::to_string(n) + R"("})")
                     : b.post("/v2/local/target-state",
                              empty_target("p" + std::to_string(n)));
          if (r.status == (tags ? 202 : 200)) {
            acked = std::max(acked, n);
            ++acked_writes;
          } else if (r.status != 0) {
            std::lock_guard<std::mutex> g{m};
            refusals += std::to_string(r.status) + " " + r.body + "\n";
          }
        }
      };
      long tags_now = tag_acked, targets_now = target_acked;
      std::thread t1{[&] { writer(true, tags_now); }};
      std::thread t2{[&] { writer(false, targets_now); }};
      auto delay = std::uniform_int_distribution<int>{50, 1500}(rng);
      std::this_thread::sleep_for(std::chrono::milliseconds{delay});
      b.proc().signal(SIGKILL);
      CHECK(b.proc().wait_exit(10s).has_value());
      killed = true;
      t1.join();
      t2.join();
      CHECK_MESSAGE(refusals.empty(), refusals);
      tag_acked = tags_now;
      target_acked = targets_now;
      next = counter;
      CHECK(integrity_check(data + "/bosun.sqlite") == "ok");
      MESSAGE("trial ", trial, ": killed after ", delay, " ms, ",
              acked_writes.load(), " acknowledged writes so far");
    }
    running_bosun last({"--local-mode"}, data);
    REQUIRE(last.wait_ready());
    CHECK(tag_value(last, "n") >= tag_acked);
    CHECK(target_number(last) >= target_acked);
    CHECK(tag_acked > 0);
    CHECK(target_acked > 0);
    MESSAGE(trials, " trials (seed ", seed, "): ", acked_writes.load(),
            " acknowledged writes, worst start to /ping after a kill ",
            worst_restart.count(), " ms");
  }
}
