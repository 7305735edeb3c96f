// Persistent logging end to end: the real bosun binary, a real dockerd and
// cloud-sim (a managed device whose target polls fail, so nothing but the
// tests' own containers runs). GET /v2/logs/history gives every line, in
// order, across a bosun restart; a small cap holds the newest lines within
// it; without the option the route answers 409.
#include "tests/e2e/logs/harness.hpp"

#include <csignal>
#include <doctest/doctest.h>
#include <filesystem>
#include <map>

using namespace std::chrono_literals;
using namespace bosun::test;

namespace {

// config.json of the cloud-sim device, plus `extra` keys.
std::string with(const cloud_sim& cs, const std::string& extra) {
  auto json = cs.config_json();
  return json.substr(0, json.size() - 1) + "," + extra + "}";
}

struct history_reply {
  int status = 0;
  std::string body;
  std::vector<shipped_line> lines;
};

history_reply history(running_bosun& b, const std::string& key,
                      const std::string& query = {}) {
  auto r = b.get("/v2/logs/history?apikey=" + key + query);
  history_reply out{r.status, r.body, {}};
  size_t start = 0;
  while (start < r.body.size()) {
    auto nl = r.body.find('\n', start);
    if (nl == std::string::npos)
      nl = r.body.size();
    rapidjson::Document d;
    auto text = r.body.substr(start, nl - start);
    if (!d.Parse(text.c_str()).HasParseError())
      if (auto l = parse_line(d))
        out.lines.push_back(*l);
    start = nl + 1;
  }
  return out;
}

struct container {
  std::string name;
  ~container() {
    docker("rm -f " + name);
  }
};

uint64_t size_of(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

} // namespace

TEST_SUITE("logs") {
  TEST_CASE("GET /v2/logs/history: every line in order, kept across a bosun "
            "restart, filtered; 401 without a key") {
    cloud_sim cs;
    REQUIRE(cs.wait_ready());
    REQUIRE(cs.provision());
    container c{"plog-numbers"};
    temp_dir keep;
    auto data = keep.path() + "/data";
    auto config = with(cs, R"("persistentLogging":true)");
    std::string first_run;
    {
      running_bosun b({}, data, config);
      REQUIRE(b.wait_ready());
      auto key = api_key_of(b);
      REQUIRE_FALSE(key.empty());
      CHECK(b.get("/v2/logs/history").status == 401);
      REQUIRE(run_service(c.name, 61, numbered(50)));
      REQUIRE(eventually(
        30s,
        [&](std::string& last) {
          auto h = history(b, key);
          auto runs = runs_of(h.lines, 61);
          last = "status " + std::to_string(h.status) + ", "
                 + std::to_string(h.lines.size()) + " lines";
          return h.status == 200 && runs.size() == 1
                 && complete(runs.begin()->second, 50);
        },
        "the first run's 100 lines in the history"));
      auto h = history(b, key);
      first_run = runs_of(h.lines, 61).begin()->first;
      for (auto& l : h.lines)
        if (l.service_id == 61)
          CHECK(l.service_name == c.name);
      // Filters: the last 3 of the service; a time window.
      auto last3 = history(b, key, "&count=3&service=" + c.name);
      std::vector<std::string> tail;
      for (auto& l : h.lines)
        if (l.service_id == 61)
          tail.push_back(l.message);
      tail.erase(tail.begin(), tail.end() - 3);
      std::vector<std::string> got;
      for (auto& l : last3.lines)
        got.push_back(l.message);
      CHECK(got == tail);
      auto mid = h.lines[h.lines.size() / 2].timestamp;
      for (auto& l : history(b, key, "&since=" + std::to_string(mid)).lines)
        CHECK(l.timestamp >= mid);
      for (auto& l : history(b, key, "&until=" + std::to_string(mid)).lines)
        CHECK(l.timestamp <= mid);
      CHECK(history(b, key, "&service=nobody").lines.empty());
      CHECK(history(b, key, "&count=0").status == 400);

      b.proc().signal(SIGTERM);
      REQUIRE(b.proc().wait_exit(20s));
    }
    // While bosun is down the service runs again.
    REQUIRE(docker("restart -t 1 " + c.name).status == 0);
    {
      running_bosun b({}, data, config);
      REQUIRE(b.wait_ready());
      auto key = api_key_of(b);
      std::vector<std::string> order;
      REQUIRE(eventually(
        30s,
        [&](std::string& last) {
          order.clear();
          auto runs = runs_of(history(b, key).lines, 61, &order);
          last = std::to_string(runs.size()) + " runs:";
          for (auto& [id, r] : runs)
            last += " " + id + " out " + std::to_string(r.out.size()) + " err "
                    + std::to_string(r.err.size());
          if (runs.size() != 2)
            return false;
          for (auto& [id, r] : runs)
            if (!complete(r, 50))
              return false;
          return true;
        },
        "both runs, each complete and once"));
      // The earlier run first, whole: appended, not rewritten.
      REQUIRE(order.size() == 2);
      CHECK(order.front() == first_run);
      bool second_seen = false;
      for (auto& l : history(b, key).lines) {
        if (l.service_id != 61)
          continue;
        bool first = l.message.rfind(first_run, 0) == 0;
        CHECK_FALSE((first && second_seen));
        second_seen = second_seen || !first;
      }
    }
  }

  TEST_CASE("a small cap: the files stay within it and keep the newest "
            "lines") {
    cloud_sim cs;
    REQUIRE(cs.wait_ready());
    REQUIRE(cs.provision());
    const uint64_t cap = 65536;
    running_bosun b(
      {}, {},
      with(cs, R"("persistentLogging":true,"persistentLogSize":65536)"));
    REQUIRE(b.wait_ready());
    auto key = api_key_of(b);
    container c{"plog-cap"};
    // 1500 lines of ~130 bytes on stdout: three times the cap.
    REQUIRE(run_service(
      c.name, 62,
      "R=$(cut -c1-8 /proc/sys/kernel/random/uuid); i=0; while [ $i -lt 1500 "
      "]; do i=$((i+1)); echo \"$R out $i padded ......................\"; "
      "done; exec sleep 100000"));
    auto dir = b.data_dir() + "/logs/";
    uint64_t biggest = 0;
    REQUIRE(eventually(
      60s,
      [&](std::string& last) {
        auto total = size_of(dir + "bosun.log") + size_of(dir + "bosun.log.1");
        biggest = std::max(biggest, total);
        auto h = history(b, key);
        last = std::to_string(total) + " bytes, "
               + std::to_string(h.lines.size()) + " lines";
        auto runs = runs_of(h.lines, 62);
        if (runs.size() != 1)
          return false;
        auto& r = runs.begin()->second;
        if (!r.out.empty())
          last += ", " + std::to_string(r.out.front()) + "-"
                  + std::to_string(r.out.back());
        return !r.out.empty() && r.out.back() == 1500;
      },
      "the last line in the history"));
    CHECK(biggest <= cap);
    CHECK(size_of(dir + "bosun.log") + size_of(dir + "bosun.log.1") <= cap);
    CHECK(size_of(dir + "bosun.log.1") > 0); // it rotated
    // The tail of the run, consecutive up to the last line.
    auto runs = runs_of(history(b, key).lines, 62);
    REQUIRE(runs.size() == 1);
    auto& r = runs.begin()->second;
    REQUIRE(!r.out.empty());
    CHECK(r.out.back() == 1500);
    CHECK(r.out.size() > 200);
    CHECK(r.out.size() < 1500);
    CHECK(r.err.empty());
    for (size_t i = 1; i < r.out.size(); ++i)
      CHECK(r.out[i] == r.out[i - 1] + 1);
  }

  TEST_CASE("without persistent logging the history answers 409") {
    cloud_sim cs;
    REQUIRE(cs.wait_ready());
    REQUIRE(cs.provision());
    running_bosun b({}, {}, cs.config_json());
    REQUIRE(b.wait_ready());
    auto h = history(b, api_key_of(b));
    CHECK(h.status == 409);
    CHECK(h.body
          == R"({"status":"failed","message":"persistent logging is off"})");
    CHECK_FALSE(std::filesystem::exists(b.data_dir() + "/logs"));
  }
}
