// The registry fails under a pull (issue 15 item 3; docs/RELIABILITY.md):
// the real bosun pulls an image through a loopback TCP proxy in front of
// the test registry; the proxy is cut mid-pull and comes back slow. The
// pull must be retried or resumed until the service runs, the progress the
// device API reports must stay honest, and the running service untouched.
#include "tests/support/bosun.hpp"
#include "tests/support/tcp_proxy.hpp"

#include <csignal>
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <sstream>

using namespace std::chrono_literals;
using bosun::test::docker;
using bosun::test::eventually;
using bosun::test::running_bosun;

namespace {

constexpr int app_id = 9200;

std::string target(const std::string& commit, const std::string& web_image,
                   const std::string& big_image) {
  const std::string sleeper
    = R"(["/bin/sh","-c","trap 'exit 0' TERM; sleep 100000 & wait"])";
  auto svc = [&](int id, const std::string& name, const std::string& image) {
    auto sid = std::to_string(id);
    return '"' + sid + R"(":{"serviceName":")" + name + R"(","serviceId":)"
           + sid + R"(,"imageId":)" + sid + R"(,"image":")" + image
           + R"(","environment":{},"labels":{},"command":)" + sleeper + "}";
  };
  std::string services = svc(1, "web", web_image);
  if (!big_image.empty())
    services += "," + svc(2, "big", big_image);
  return R"({"local":{"name":"registry","config":{},"apps":{")"
         + std::to_string(app_id) + R"(":{"name":"reg","commit":")" + commit
         + R"(","releaseId":"1","services":{)" + services
         + R"(},"volumes":{},"networks":{}}}}})";
}

void clean_app() {
  auto ids
    = docker("ps -aq --filter label=io.balena.app-id=" + std::to_string(app_id))
        .out;
  std::istringstream in(ids);
  std::string id;
  while (in >> id)
    docker("rm -f " + id);
  docker("network rm " + std::to_string(app_id) + "_default");
}

// An image of `megabytes` of random data on the test image, pushed to the
// registry and not on the engine; its name in the registry's repository.
std::string push_big_image(const std::string& base, int megabytes) {
  auto registry = bosun::test::required_env("BOSUN_TEST_REGISTRY");
  auto name = registry + "/bosun/chaos-big:1";
  docker("pull -q " + base);
  auto built = bosun::test::run_command(
    "printf 'FROM " + base
    + "\\nRUN dd if=/dev/urandom of=/big bs=1048576 count="
    + std::to_string(megabytes)
    + " 2>/dev/null\\n' | DOCKER_BUILDKIT=0 docker build -q -t " + name + " -");
  REQUIRE_MESSAGE(built.status == 0, built.out);
  auto pushed = docker("push -q " + name);
  REQUIRE_MESSAGE(pushed.status == 0, pushed.out);
  docker("rmi -f " + name);
  return "/bosun/chaos-big:1";
}

// What the device API said about the big image at one moment.
struct sample {
  std::string app_state;           // /v2/state/status appState
  std::optional<double> overall;   // overallDownloadProgress
  std::string status;              // the big image's status
  std::optional<int> progress;     // its downloadProgress
  std::optional<int> app_progress; // /v2/applications/state download_progress
  std::string app_status;          // /v2/applications/state status
};

sample take_sample(running_bosun& b) {
  sample s;
  rapidjson::Document d;
  d.Parse(b.get("/v2/state/status").body.c_str());
  if (d.IsObject()) {
    if (d.HasMember("appState") && d["appState"].IsString())
      s.app_state = d["appState"].GetString();
    if (d.HasMember("overallDownloadProgress")
        && d["overallDownloadProgress"].IsNumber())
      s.overall = d["overallDownloadProgress"].GetDouble();
    if (d.HasMember("images") && d["images"].IsArray())
      for (auto& i : d["images"].GetArray())
        if (i.IsObject() && i.HasMember("serviceName")
            && std::string(i["serviceName"].GetString()) == "big") {
          s.status = i["status"].GetString();
          if (i["downloadProgress"].IsInt())
            s.progress = i["downloadProgress"].GetInt();
        }
  }
  rapidjson::Document a;
  a.Parse(b.get("/v2/applications/state").body.c_str());
  auto app = std::to_string(app_id);
  if (a.IsObject()) {
    for (auto& m : a.GetObject()) {
      if (!m.value.IsObject() || !m.value.HasMember("services"))
        continue;
      auto& svcs = m.value["services"];
      if (svcs.IsObject() && svcs.HasMember("big")) {
        auto& big = svcs["big"];
        if (big.HasMember("status") && big["status"].IsString())
          s.app_status = big["status"].GetString();
        if (big.HasMember("downloadProgress")
            && big["downloadProgress"].IsInt())
          s.app_progress = big["downloadProgress"].GetInt();
      }
    }
  }
  return s;
}

std::string describe(const sample& s) {
  auto opt = [](auto& o) { return o ? std::to_string(*o) : "null"; };
  return "appState " + s.app_state + ", overall " + opt(s.overall)
         + ", big image " + s.status + " " + opt(s.progress) + ", big service "
         + s.app_status + " " + opt(s.app_progress);
}

} // namespace

TEST_SUITE("registry") {
  TEST_CASE("the registry cut mid-pull and back slow: the pull is retried "
            "until the service runs, the progress stays honest and the "
            "running service is untouched") {
    auto base = bosun::test::required_env("BOSUN_TEST_IMAGE");
    auto repo = push_big_image(base, 16);
    clean_app();
    bosun::test::tcp_proxy proxy(5000);
    auto big = "127.0.0.1:" + std::to_string(proxy.port()) + repo;
    docker("rmi -f " + big);
    running_bosun b;
    REQUIRE(b.wait_ready());
    REQUIRE(b.post("/v2/local/target-state", target("c1", base, "")).status
            == 200);
    std::string web = "web_1_1_c1";
    REQUIRE(eventually(60s, [&] {
      return docker("inspect -f '{{.State.Running}}' " + web).out == "true";
    }));
    auto web_before
      = docker("inspect -f '{{.Id}} {{.State.StartedAt}}' " + web).out;

    // Slow from the start (2 MiB/s), so the cut lands mid-pull.
    proxy.set_rate(2u << 20);
    REQUIRE(b.post("/v2/local/target-state", target("c2", base, big)).status
            == 200);
    std::vector<sample> samples;
    auto observe = [&] {
      samples.push_back(take_sample(b));
      return samples.back();
    };
    REQUIRE(eventually(
      120s,
      [&](std::string& last) {
        auto s = observe();
        last = describe(s) + ", " + std::to_string(proxy.bytes_down())
               + " bytes through the proxy";
        return proxy.bytes_down() > (4u << 20);
      },
      "a quarter of the pull"));
    proxy.cut();
    auto cut_at = std::chrono::steady_clock::now();
    auto tries_before = proxy.connections();
    // Down until the engine or bosun has tried again and been refused: a
    // failed attempt shows (the engine's own retries count too).
    eventually(
      150s,
      [&](std::string& last) {
        auto s = observe();
        last = describe(s);
        return s.status == "Download failed"
               || b.log().find("Failed to download image '" + big)
                    != std::string::npos
               || std::chrono::steady_clock::now() - cut_at > 20s;
      },
      "the pull to notice the registry is gone");
    CHECK(docker("image inspect " + big).status != 0);
    // Back, slow: 1 MiB/s.
    auto during_cut = samples.size();
    proxy.restore(1u << 20);
    auto restored_at = std::chrono::steady_clock::now();
    std::string big_name = "big_2_1_c2";
    bool ran = eventually(
      300s,
      [&](std::string& last) {
        auto s = observe();
        last = describe(s);
        return s.app_state == "applied"
               && docker("inspect -f '{{.State.Running}}' " + big_name).out
                    == "true";
      },
      "the big service to run after the registry came back");
    auto recovery = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - restored_at);
    CHECK_MESSAGE(ran, b.log());
    CHECK(proxy.connections() > tries_before);

    // Honest progress: never outside 0..100; "Downloaded", 100 % or
    // "applied" only once the image (and the container) exist. An image
    // or container seen now existed from the moment it was first claimed:
    // nothing removed them.
    bool present = docker("image inspect " + big).status == 0;
    bool created = docker("inspect " + big_name).status == 0;
    int claims = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      auto& s = samples[i];
      CAPTURE(describe(s));
      CAPTURE(i);
      if (s.overall)
        CHECK((*s.overall >= 0 && *s.overall <= 100));
      for (auto p : {s.progress, s.app_progress})
        if (p)
          CHECK((*p >= 0 && *p <= 100));
      if (s.status == "Downloaded" || s.progress == 100) {
        ++claims;
        CHECK(present);
        CHECK(i >= during_cut); // the image was not there at the restore
      }
      if (s.app_state == "applied")
        CHECK(created);
    }
    CHECK(claims > 0);

    // The running service was not touched.
    CHECK(docker("inspect -f '{{.Id}} {{.State.StartedAt}}' " + web).out
          == web_before);
    CHECK(docker("inspect -f '{{.State.Running}}' " + web).out == "true");
    MESSAGE("registry cut after ", (4u << 20), " bytes; ", samples.size(),
            " samples; the service ran ", recovery.count(),
            " ms after the registry came back (1 MiB/s); ", proxy.connections(),
            " connections through the proxy");
    b.proc().signal(SIGTERM);
    b.proc().wait_exit(30s);
    clean_app();
    docker("rmi -f " + big);
  }
}
