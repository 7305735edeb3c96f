// The registry fails under a pull (issue 15 item 3; docs/RELIABILITY.md):
// the real bosun pulls an image through a loopback TCP proxy in front of
// the test registry; the proxy is cut mid-pull and comes back slow. The
// pull must be retried or resumed until the service runs, the progress the
// device API reports must stay honest, and the running service untouched.
#include "tests/support/api_sample.hpp"
#include "tests/support/bosun.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/tcp_proxy.hpp"

#include <csignal>
#include <doctest/doctest.h>
#include <sstream>

using namespace std::chrono_literals;
using bosun::test::api_sample;
using bosun::test::docker;
using bosun::test::eventually;
using bosun::test::running_bosun;
using bosun::test::sample_api;

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

// The big image's service joins a running app while the registry, behind
// the proxy, is cut after `cut_after` bytes (0: down before the pull
// starts), then comes back at 1 MiB/s. The service must run, the API's
// progress stay honest and the running service stay untouched.
void cut_and_restore(uint64_t cut_after) {
  auto base = bosun::test::required_env("BOSUN_TEST_IMAGE");
  auto pushed = bosun::test::push_layered_image(
    base, "bosun/chaos-big:1",
    "dd if=/dev/urandom of=/big bs=1048576 count=16 2>/dev/null");
  auto repo = pushed.substr(pushed.find('/')); // through the proxy below
  clean_app();
  bosun::test::tcp_proxy proxy(bosun::test::registry_port());
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
  // By id: the new release renames it (web_1_1_c2).
  auto web_id = docker("inspect -f '{{.Id}}' " + web).out;
  auto web_before
    = docker("inspect -f '{{.Id}} {{.State.StartedAt}}' " + web_id).out;

  // Slow from the start (2 MiB/s), so that a cut lands mid-pull; or down
  // before the pull starts.
  proxy.set_rate(2u << 20);
  if (cut_after == 0)
    proxy.cut();
  REQUIRE(b.post("/v2/local/target-state", target("c2", base, big)).status
          == 200);
  std::vector<api_sample> samples;
  auto observe = [&] {
    samples.push_back(sample_api(b, "big"));
    return samples.back();
  };
  REQUIRE(eventually(
    120s,
    [&](std::string& last) {
      auto s = observe();
      last = describe(s) + ", " + std::to_string(proxy.bytes_down())
             + " bytes through the proxy";
      return proxy.bytes_down() >= cut_after;
    },
    "the bytes before the cut"));
  proxy.cut();
  auto cut_index = samples.size();
  auto cut_at = std::chrono::steady_clock::now();
  auto tries_before = proxy.connections();
  // Down for 20 s mid-pull (the engine retries a layer on its own), or
  // until bosun tells a failed attempt when the registry was down from
  // the start.
  eventually(
    150s,
    [&](std::string& last) {
      auto s = observe();
      last = describe(s);
      bool failed = s.image_status == "Download failed";
      if (cut_after == 0)
        return failed;
      return failed || std::chrono::steady_clock::now() - cut_at > 20s;
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
    for (auto p : {s.image_progress, s.progress})
      if (p)
        CHECK((*p >= 0 && *p <= 100));
    if (s.image_status == "Downloaded" || s.image_progress == 100) {
      ++claims;
      CHECK(present);
      CHECK(i >= during_cut); // the image was not there at the restore
    }
    if (s.app_state == "applied")
      CHECK(created);
  }
  CHECK(claims > 0);

  // The running service was not touched.
  CHECK(docker("inspect -f '{{.Id}} {{.State.StartedAt}}' " + web_id).out
        == web_before);
  CHECK(
    docker("inspect -f '{{.State.Running}} {{.RestartCount}}' " + web_id).out
    == "true 0");
  // What the API showed, each change once: "<status> <progress>" of the
  // big image, with | at the cut and at the restore.
  std::string shown, prev;
  for (size_t i = 0; i < samples.size(); ++i) {
    auto& s = samples[i];
    auto now = s.image_status + " "
               + (s.image_progress ? std::to_string(*s.image_progress) : "-");
    if (i == cut_index || i == during_cut)
      shown += "| ";
    if (now != prev)
      shown += now + ", ";
    prev = now;
  }
  MESSAGE(
    "registry cut after ", cut_after, " bytes; ", samples.size(),
    " samples; the service ran ", recovery.count(),
    " ms after the registry came back (1 MiB/s); ", proxy.connections(),
    " connections and ", proxy.bytes_down(), " bytes through the proxy; ",
    std::string(b.log().find("Failed to download image") != std::string::npos
                  ? "bosun saw a failed attempt"
                  : "no failed attempt reached bosun"),
    "; shown: ", shown);
  b.proc().signal(SIGTERM);
  b.proc().wait_exit(30s);
  clean_app();
  docker("rmi -f " + big);
}

} // namespace

TEST_SUITE("registry") {
  TEST_CASE("the registry cut mid-pull and back slow: the pull is retried "
            "until the service runs, the progress stays honest and the "
            "running service is untouched") {
    cut_and_restore(4u << 20);
  }

  TEST_CASE("the registry down when the pull starts and back slow: bosun "
            "says the download failed, retries, and the service runs") {
    cut_and_restore(0);
  }
}
