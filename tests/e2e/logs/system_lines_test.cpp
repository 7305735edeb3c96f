// The agent's own lines on /v2/local/logs: applying a target and a
// container dying tell, in balena's wording and in order, what bosun did.
// The real binary in local mode, a real dockerd, the private registry.
#include "tests/e2e/logs/harness.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <random>

using namespace std::chrono_literals;
using namespace bosun::test;

namespace {

// A tag of the test image that the engine does not have, so that bosun
// pulls it (only the manifest: the layers are the test image's).
class fresh_image {
public:
  fresh_image() {
    auto base = required_env("BOSUN_TEST_IMAGE");
    auto registry = required_env("BOSUN_TEST_REGISTRY");
    name_ = registry + "/bosun/lines:" + std::to_string(std::random_device{}());
    ok_ = (docker("image inspect " + base).status == 0
           || docker("pull -q " + base).status == 0)
          && docker("tag " + base + " " + name_).status == 0
          && docker("push -q " + name_).status == 0
          && docker("rmi " + name_).status == 0;
  }
  ~fresh_image() {
    docker("rmi -f " + name_);
  }
  fresh_image(const fresh_image&) = delete;
  fresh_image& operator=(const fresh_image&) = delete;

  bool ok() const {
    return ok_;
  }
  const std::string& name() const {
    return name_;
  }

private:
  std::string name_;
  bool ok_ = false;
};

// One service, "main"; `env` changes its config (a new container).
std::string one_service_target(const std::string& image,
                               const std::string& env = "{}") {
  return R"({"local":{"name":"e2e","config":{},"apps":{"131":{"name":"lines",)"
         R"("commit":"c1","releaseId":"1","services":{"31":{)"
         R"("serviceName":"main","serviceId":31,"imageId":31,"image":")"
         + image + R"(","environment":)" + env
         + R"(,"labels":{},"command":["/bin/sh","-c",)"
           R"("trap 'exit 0' TERM; sleep 1000 & wait"]}},)"
           R"("volumes":{},"networks":{}}}}})";
}

void clean_app() {
  auto ids = docker("ps -aq --filter label=io.balena.app-id=131");
  std::replace(ids.out.begin(), ids.out.end(), '\n', ' ');
  if (!ids.out.empty())
    docker("rm -f " + ids.out);
  docker("network rm 131_default");
}

struct app_cleanup {
  app_cleanup() {
    clean_app();
  }
  ~app_cleanup() {
    clean_app();
  }
};

std::vector<std::string> system_lines(const local_reader& r) {
  std::vector<std::string> out;
  for (auto& l : r.lines())
    if (l.is_system)
      out.push_back(l.message);
  return out;
}

size_t count(const std::vector<std::string>& lines, const std::string& l) {
  return static_cast<size_t>(std::count(lines.begin(), lines.end(), l));
}

// Where `l` first is in `lines` (lines.size() if nowhere).
size_t at(const std::vector<std::string>& lines, const std::string& l) {
  return static_cast<size_t>(std::find(lines.begin(), lines.end(), l)
                             - lines.begin());
}

} // namespace

TEST_SUITE("logs") {
  TEST_CASE("applying a target and a container's death are told as balena "
            "tells them, in order, once each") {
    app_cleanup cleanup;
    fresh_image image;
    REQUIRE(image.ok());
    running_bosun b;
    REQUIRE(b.wait_ready());
    local_reader reader(b.port(), api_key_of(b));
    REQUIRE(eventually(
      20s, [&] { return reader.poll(50ms) && !reader.lines().empty(); },
      "the reader's first line"));
    REQUIRE(reader.status() == 200);

    auto r = b.post("/v2/local/target-state", one_service_target(image.name()));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    std::string service; // "main <image id>", once it is known
    REQUIRE(eventually(
      60s,
      [&](std::string& last) {
        reader.poll(50ms);
        auto id = docker("image inspect -f '{{.Id}}' " + image.name());
        service = "main " + id.out;
        auto lines = system_lines(reader);
        last = std::to_string(lines.size())
               + " system lines, last: " + (lines.empty() ? "" : lines.back());
        return id.status == 0
               && count(lines, "Started service '" + service + "'") == 1;
      },
      "the service to be told started"));
    auto lines = system_lines(reader);
    const std::vector<std::string> applied{
      "Downloading image '" + image.name() + "'",
      "Downloaded image '" + image.name() + "'",
      "Installing service '" + service + "'",
      "Installed service '" + service + "'",
      "Starting service '" + service + "'",
      "Started service '" + service + "'",
    };
    for (size_t i = 0; i < applied.size(); ++i) {
      CAPTURE(applied[i]);
      CHECK(count(lines, applied[i]) == 1);
      if (i > 0)
        CHECK(at(lines, applied[i - 1]) < at(lines, applied[i]));
    }
    CHECK(count(lines, "Creating network 'default'") == 1);

    // Killed from outside: the exit, then the supervisor's restart.
    REQUIRE(docker("kill main_31_1_c1").status == 0);
    REQUIRE(eventually(
      60s,
      [&](std::string& last) {
        reader.poll(50ms);
        auto now = system_lines(reader);
        last = now.empty() ? "" : now.back();
        return count(now, "Restarting service '" + service + "'") == 1;
      },
      "the restart to be told"));
    lines = system_lines(reader);
    CHECK(count(lines, "Service exited '" + service + "'") == 1);
    CHECK(at(lines, "Service exited '" + service + "'")
          < at(lines, "Restarting service '" + service + "'"));
    CHECK(at(lines, "Started service '" + service + "'")
          < at(lines, "Service exited '" + service + "'"));

    // A config change under the user's update lock: the apply waits, and
    // says so, until the lock goes; then the old container is killed and
    // the new one installed.
    auto lock_dir = b.data_dir() + "/services/131/main";
    REQUIRE(run_command("mkdir -p " + lock_dir + " && touch " + lock_dir
                        + "/updates.lock")
              .status
            == 0);
    r = b.post("/v2/local/target-state",
               one_service_target(image.name(), R"({"V":"2"})"));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    const std::string locked_prefix = "Updates are locked, retrying in ";
    const std::string reason
      = ". Reason: Lockfile exists for { appId: 131, service: main }";
    auto locked_lines = [&] {
      size_t n = 0;
      for (auto& l : system_lines(reader))
        if (l.rfind(locked_prefix, 0) == 0 && l.size() > reason.size()
            && l.compare(l.size() - reason.size(), reason.size(), reason) == 0)
          ++n;
      return n;
    };
    REQUIRE(eventually(
      30s,
      [&](std::string& last) {
        reader.poll(50ms);
        auto now = system_lines(reader);
        last = now.empty() ? "" : now.back();
        return locked_lines() >= 1;
      },
      "the apply to say the update is locked"));
    auto kills_before
      = count(system_lines(reader), "Killing service '" + service + "'");
    REQUIRE(run_command("rm -f " + lock_dir + "/updates.lock").status == 0);
    REQUIRE(eventually(
      60s,
      [&](std::string& last) {
        reader.poll(50ms);
        auto now = system_lines(reader);
        last = now.empty() ? "" : now.back();
        return count(now, "Started service '" + service + "'") == 2;
      },
      "the new container to be told started"));
    lines = system_lines(reader);
    CHECK(count(lines, "Killing service '" + service + "'")
          == kills_before + 1);
    CHECK(count(lines, "Killed service '" + service + "'") == 1);
    CHECK(count(lines, "Installing service '" + service + "'") == 2);
    // The image was there: no second download.
    CHECK(count(lines, "Downloading image '" + image.name() + "'") == 1);

    // No error lines on the way.
    for (auto& l : reader.lines())
      if (l.is_system)
        CHECK_MESSAGE(!l.is_stderr, l.message);
  }
}
