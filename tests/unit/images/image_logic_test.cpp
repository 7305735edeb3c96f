// The images actor's pure helpers: names, progress aggregation, throttling,
// backoff and the cleanup choice.
#include "actors/images/image_logic.hpp"
#include "api/docker/codec.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace bosun;
namespace logic = bosun::image_logic;

namespace {

pull_progress line(std::string status, std::string id,
                   std::optional<int64_t> current = {},
                   std::optional<int64_t> total = {}) {
  pull_progress p;
  p.status = std::move(status);
  p.id = std::move(id);
  p.current = current;
  p.total = total;
  return p;
}

std::vector<pull_progress> recorded(const std::string& file) {
  std::ifstream in{std::string{BOSUN_TEST_DATA} + "/docker/" + file};
  REQUIRE_MESSAGE(in.good(), "missing test data ", file);
  std::vector<pull_progress> out;
  std::string l;
  while (std::getline(in, l)) {
    if (l.empty())
      continue;
    auto p = docker::decode_pull_progress(l);
    REQUIRE_MESSAGE(p, "undecodable line: ", l);
    out.push_back(std::move(p.value));
  }
  return out;
}

image_summary img(std::string id, string_list tags, string_list digests = {}) {
  image_summary s;
  s.id = std::move(id);
  s.repo_tags = std::move(tags);
  s.repo_digests = std::move(digests);
  return s;
}

} // namespace

TEST_SUITE("image_logic") {
  TEST_CASE("normalises names to the form the engine lists them under") {
    struct row {
      const char* in;
      const char* out;
    };
    const row rows[] = {
      {"busybox", "busybox:latest"},
      {"busybox:1", "busybox:1"},
      {"docker.io/library/busybox:1", "busybox:1"},
      {"docker.io/balena/foo", "balena/foo:latest"},
      {"library/busybox", "busybox:latest"},
      {"127.0.0.1:5000/bosun/busybox:1", "127.0.0.1:5000/bosun/busybox:1"},
      {"127.0.0.1:5000/bosun/busybox", "127.0.0.1:5000/bosun/busybox:latest"},
      {"localhost:5000/x", "localhost:5000/x:latest"},
      {"registry2.balena-cloud.com/v2/abc@sha256:0123",
       "registry2.balena-cloud.com/v2/abc@sha256:0123"},
      {"reg.io/x:1@sha256:ab", "reg.io/x@sha256:ab"},
      {"local_image_web:latest", "local_image_web:latest"},
      {"sha256:abcdef", "sha256:abcdef"},
      {"", ""},
    };
    for (auto& r : rows) {
      CAPTURE(r.in);
      CHECK(logic::normalise_name(r.in) == r.out);
    }
  }

  TEST_CASE("only names that start with a registry can be pulled") {
    CHECK(logic::has_registry("127.0.0.1:5000/bosun/busybox:1"));
    CHECK(logic::has_registry("registry2.balena-cloud.com/v2/abc@sha256:01"));
    CHECK(logic::has_registry("localhost/x"));
    CHECK(logic::has_registry("myhost:5000/x"));
    CHECK_FALSE(logic::has_registry("local_image_web:latest"));
    CHECK_FALSE(logic::has_registry("busybox"));
    CHECK_FALSE(logic::has_registry("balena/foo:1"));
    CHECK_FALSE(logic::has_registry("sha256:0123abcd"));
    CHECK_FALSE(logic::has_registry(""));
  }

  TEST_CASE("tells image ids from names") {
    CHECK(logic::is_image_id("sha256:0123456789abcdef"));
    CHECK_FALSE(logic::is_image_id("sha256:"));
    CHECK_FALSE(logic::is_image_id("sha256:xyz"));
    CHECK_FALSE(logic::is_image_id("busybox:1"));
  }

  TEST_CASE("retries after 500 ms, doubling, capped") {
    CHECK(logic::retry_delay(1, 500ms, 30s) == 500ms);
    CHECK(logic::retry_delay(2, 500ms, 30s) == 1s);
    CHECK(logic::retry_delay(3, 500ms, 30s) == 2s);
    CHECK(logic::retry_delay(7, 500ms, 30s) == 30s);
    CHECK(logic::retry_delay(1000, 500ms, 30s) == 30s);
  }

  TEST_CASE("says which image failed and why, in balena's words") {
    CHECK(logic::fetch_failure_message("127.0.0.1:5000/x:1", "manifest unknown")
          == "Failed to download image '127.0.0.1:5000/x:1' due to 'manifest "
             "unknown'");
  }
}

TEST_SUITE("pull_tracker") {
  TEST_CASE("a pull without layer lines stays at 0 until it finishes") {
    logic::pull_tracker t;
    for (auto& p : recorded("pull_progress.ndjson"))
      t.add(p);
    CHECK(t.layers() == 0);
    CHECK(t.percent() == 0);
    t.finish();
    CHECK(t.percent() == 100);
  }

  TEST_CASE("follows a recorded one-layer pull from 0 to 100") {
    logic::pull_tracker t;
    std::vector<int> seen;
    for (auto& p : recorded("pull_progress_layers.ndjson")) {
      t.add(p);
      seen.push_back(t.percent());
    }
    CHECK(t.layers() == 1);
    // Pulling from, Pulling fs layer, Downloading 36445/3001196, Verifying,
    // Download complete, Extracting 32768, Extracting all, Pull complete,
    // Digest, Status: 100 once the stream ended well (finish()).
    const std::vector<int> want = {0, 0, 0, 50, 50, 50, 99, 99, 99, 99};
    CHECK(seen == want);
    t.finish();
    CHECK(t.percent() == 100);
  }

  TEST_CASE("the stream's error leaves the percent where it was") {
    logic::pull_tracker t;
    for (auto& p : recorded("pull_progress_error.ndjson"))
      t.add(p);
    CHECK(t.percent() == 50);
  }

  TEST_CASE("weighs layers by size; existing layers do not count") {
    logic::pull_tracker t;
    t.add(line("Pulling fs layer", "a"));
    t.add(line("Pulling fs layer", "b"));
    t.add(line("Already exists", "c"));
    CHECK(t.layers() == 3);
    CHECK(t.percent() == 0); // c is not downloaded: no part of the pull
    t.add(line("Downloading", "a", 300, 1000));
    // a and b count 1000 each (b: the mean of known sizes); a is 300/1000
    // downloaded = 15% of its part: 150 of 2000.
    CHECK(t.percent() == 7);
    t.add(line("Downloading", "b", 0, 3000));
    // sizes a 1000, b 3000 = 4000; done 150.
    CHECK(t.percent() == 7); // never goes down (3 computed)
    t.add(line("Download complete", "a"));
    t.add(line("Downloading", "b", 3000, 3000));
    // 500 + 1500 = 2000 of 4000
    CHECK(t.percent() == 50);
    t.add(line("Pull complete", "a"));
    t.add(line("Pull complete", "b"));
    CHECK(t.percent() == 99);
    t.finish();
    CHECK(t.percent() == 100);
  }

  TEST_CASE("a layer already on the engine is no part of the download: "
            "an image of one present and one new layer is not done when "
            "the present one is told first") {
    // The order the engine tells them in (issue 15, registry failures:
    // the device API said 100 for a whole 16 MiB pull, cut and all).
    logic::pull_tracker t;
    t.add(line("Already exists", "base"));
    CHECK(t.percent() == 0);
    t.add(line("Pulling fs layer", "big"));
    CHECK(t.percent() == 0);
    t.add(line("Downloading", "big", 4 << 20, 16 << 20));
    CHECK(t.percent() == 12); // 4 of 16 MiB, half of the layer's part
    t.add(line("Download complete", "big"));
    t.add(line("Extracting", "big", 16 << 20, 16 << 20));
    CHECK(t.percent() == 99);
    t.add(line("Pull complete", "big"));
    CHECK(t.percent() == 99); // the stream has not ended yet
    t.finish();
    CHECK(t.percent() == 100);
  }

  TEST_CASE("stays below 100 until the pull ended") {
    logic::pull_tracker t;
    t.add(line("Downloading", "a", 1000, 1000));
    t.add(line("Extracting", "a", 1000, 1000));
    CHECK(t.percent() == 99);
    t.add(line("Pull complete", "a"));
    CHECK(t.percent() == 99); // more layers may be told: only finish() ends
    t.finish();
    CHECK(t.percent() == 100);
  }

  TEST_CASE("ignores lines about the tag and the digest") {
    logic::pull_tracker t;
    t.add(line("Pulling from bosun/busybox", "1"));
    t.add(line("Digest: sha256:00", ""));
    t.add(line("Status: Downloaded newer image for x", ""));
    CHECK(t.layers() == 0);
  }
}

TEST_SUITE("progress_throttle") {
  using clock = logic::progress_throttle::clock;

  TEST_CASE("publishes a change at most every interval, and 100 at once") {
    logic::progress_throttle t{250ms};
    auto t0 = clock::time_point{} + 10s;
    auto d = t.decide(0, t0);
    CHECK(d.send);
    t.sent(0, t0);
    CHECK_FALSE(t.decide(0, t0 + 1s).send); // unchanged
    CHECK(t.decide(0, t0 + 1s).wait == 0ms);
    d = t.decide(5, t0 + 100ms);
    CHECK_FALSE(d.send);
    CHECK(d.wait == 150ms);
    d = t.decide(5, t0 + 250ms);
    CHECK(d.send);
    t.sent(5, t0 + 250ms);
    d = t.decide(100, t0 + 251ms);
    CHECK(d.send);
  }
}

TEST_SUITE("plan_cleanup") {
  TEST_CASE("removes fetched images nobody keeps, and dangling ones") {
    image_list images = {
      img("sha256:aa", {"reg.io/app/web:1"}),
      img("sha256:bb", {"reg.io/app/web:2"}),
      img("sha256:cc", {"reg.io/app/db:1"}),
      img("sha256:dd", {}, {}),                               // dangling
      img("sha256:ee", {"<none>:<none>"}, {"<none>@<none>"}), // dangling
      img("sha256:ff", {"user/own:1"}),                       // not ours
      img("sha256:11", {}, {"reg.io/v2/x@sha256:99"}), // pulled by digest
    };
    auto plan = logic::plan_cleanup(images, {"reg.io/app/web:2", "sha256:cc"},
                                    {"reg.io/app/web:1", "reg.io/app/web:2",
                                     "reg.io/app/db:1", "reg.io/gone:1",
                                     "reg.io/v2/x@sha256:99"});
    CHECK(plan.remove_names
          == string_list{"reg.io/app/web:1", "reg.io/v2/x@sha256:99"});
    CHECK(plan.remove_ids == string_list{"sha256:dd", "sha256:ee"});
    CHECK(plan.forget == string_list{"reg.io/gone:1"});
  }

  TEST_CASE("untags a fetched name of a kept image that keeps a kept tag") {
    image_list images = {
      img("sha256:aa", {"reg.io/app/web:1", "reg.io/app/web:latest"}),
    };
    auto plan
      = logic::plan_cleanup(images, {"reg.io/app/web"}, {"reg.io/app/web:1"});
    CHECK(plan.remove_names == string_list{"reg.io/app/web:1"});
    CHECK(plan.forget.empty());
  }

  TEST_CASE("keeps the last tag of an image kept by digest or id") {
    image_list images = {
      img("sha256:aa", {"reg.io/app/web:1"}, {"reg.io/app/web@sha256:d1"}),
      img("sha256:bb", {"reg.io/app/db:1"}),
    };
    auto plan
      = logic::plan_cleanup(images, {"reg.io/app/web@sha256:d1", "sha256:bb"},
                            {"reg.io/app/web:1", "reg.io/app/db:1"});
    CHECK(plan.remove_names.empty());
    CHECK(plan.forget.empty());
  }

  TEST_CASE("keeps a dangling image named by id") {
    image_list images = {img("sha256:dd", {})};
    auto plan = logic::plan_cleanup(images, {"sha256:dd"}, {});
    CHECK(plan.remove_ids.empty());
  }
}
