// The images actor on the deterministic scheduler, against a simulated
// engine whose pulls the test completes by hand: virtual time drives the
// backoff and the progress throttle, nothing sleeps.
#include "actors/images/images.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <doctest/doctest.h>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace bosun;

namespace {

struct pending_pull {
  image_pull pull;
  pull_listener_actor listener;
  caf::response_promise rp;
};

// The simulated engine's state, changed by the test directly (everything
// runs on the test thread).
struct world {
  std::map<std::string, std::string> present; // name -> id
  std::vector<pending_pull> pulls;            // not answered yet
  std::vector<std::string> calls;             // "inspect x", "pull x", ...
  std::map<std::string, std::string> in_use;  // name -> 409 message
  std::set<std::string> dangling;             // ids of untagged images
  int next_id = 1;

  size_t count(const std::string& call) const {
    size_t n = 0;
    for (auto& c : calls)
      n += c == call ? 1 : 0;
    return n;
  }
};

// Ends pull number `index`: well (the image is then present) or with `err`.
// Sent by the test: a promise must be delivered inside its actor.
struct finish_pull {
  size_t index = 0;
  caf::error err;
};

} // namespace

BOSUN_MESSAGE(finish_pull)

namespace {

caf::behavior fake_engine(caf::event_based_actor* self,
                          std::shared_ptr<world> w) {
  return {
    [w](finish_pull& m) {
      if (m.index >= w->pulls.size())
        return;
      auto pp = std::move(w->pulls[m.index]);
      w->pulls.erase(w->pulls.begin() + static_cast<long>(m.index));
      if (m.err) {
        pp.rp.deliver(std::move(m.err));
      } else {
        w->present[pp.pull.from_image]
          = "sha256:" + std::to_string(w->next_id++);
        pp.rp.deliver(caf::unit);
      }
    },
    [w](image_inspect_req& req) -> caf::result<image_inspect> {
      w->calls.push_back("inspect " + req.name);
      auto i = w->present.find(req.name);
      if (i == w->present.end())
        return caf::make_error(engine_errc::not_found,
                               "No such image: " + req.name);
      image_inspect out;
      out.id = i->second;
      out.repo_tags = {req.name};
      return out;
    },
    [self, w](image_pull_req& req) {
      w->calls.push_back("pull " + req.pull.from_image);
      w->pulls.push_back(pending_pull{std::move(req.pull),
                                      std::move(req.listener),
                                      self->make_response_promise()});
    },
    [w](image_list_req&) {
      image_list out;
      for (auto& [name, id] : w->present) {
        image_summary s;
        s.id = id;
        s.repo_tags = {name};
        out.push_back(s);
      }
      for (auto& id : w->dangling) {
        image_summary s;
        s.id = id;
        out.push_back(s);
      }
      return out;
    },
    [w](image_remove_req& req) -> caf::result<image_delete_result> {
      w->calls.push_back("remove " + req.name);
      if (auto i = w->in_use.find(req.name); i != w->in_use.end())
        return caf::make_error(engine_errc::conflict, i->second);
      if (w->present.erase(req.name) == 0 && w->dangling.erase(req.name) == 0)
        return caf::make_error(engine_errc::not_found, "No such image");
      return image_delete_result{image_delete_item{req.name, ""}};
    },
  };
}

using progress_log = std::vector<image_progress>;

image_listener_actor::behavior_type
collector(image_listener_actor::pointer, std::shared_ptr<progress_log> out) {
  return {[out](image_progress& p) { out->push_back(std::move(p)); }};
}

caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  add_images_error_renderer(cfg);
  return cfg;
}

image_fetch fetch(std::string image, std::string service = "web") {
  image_fetch f;
  f.image = std::move(image);
  f.app_id = 1;
  f.service_name = std::move(service);
  return f;
}

using fetch_handle = decltype(std::declval<caf::scoped_actor&>()->request(
  std::declval<images_actor&>(), caf::infinite, std::declval<image_fetch>()));

struct deterministic {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing(cfg)};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys};
  std::shared_ptr<world> w = std::make_shared<world>();
  std::shared_ptr<progress_log> seen = std::make_shared<progress_log>();
  caf::actor engine = sys.spawn(fake_engine, w);
  image_listener_actor listener = sys.spawn(collector, seen);
  images_actor images
    = spawn_images(sys, caf::actor_cast<engine_actor>(engine), options());

  static images_options options() {
    images_options o;
    o.max_pulls = 3;
    o.attempts = 3;
    o.backoff_initial = 500ms;
    o.backoff_max = 10s;
    o.progress_interval = 250ms;
    return o;
  }

  deterministic() {
    self->send(images, image_subscribe{listener});
    sched.run();
  }

  ~deterministic() {
    self->send_exit(images, caf::exit_reason::user_shutdown);
    self->send_exit(engine, caf::exit_reason::user_shutdown);
    self->send_exit(listener, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void advance(std::chrono::milliseconds d) {
    sched.advance_time(d);
    sched.run();
  }

  fetch_handle start(image_fetch f) {
    auto h = self->request(images, caf::infinite, std::move(f));
    sched.run();
    return h;
  }

  // The reply of a fetch started with start(); must be there already.
  caf::expected<image_fetched> result(fetch_handle& h) {
    caf::expected<image_fetched> out{
      caf::make_error(caf::sec::request_timeout)};
    h.receive([&](image_fetched& x) { out = std::move(x); },
              [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  template <class T, class Msg>
  caf::expected<T> ask(Msg msg) {
    auto h = self->request(images, caf::infinite, std::move(msg));
    sched.run();
    caf::expected<T> out{caf::make_error(caf::sec::unexpected_response)};
    h.receive([&](T& x) { out = std::move(x); },
              [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  images_telemetry telemetry() {
    auto t = ask<images_telemetry>(caf::get_atom_v);
    REQUIRE(t);
    return *t;
  }

  // The engine reports one progress line for pull number `i`.
  void progress(size_t i, pull_progress p) {
    REQUIRE(i < w->pulls.size());
    auto& pp = w->pulls[i];
    caf::anon_send(pp.listener, image_pull_event{pp.pull.from_image, p});
    sched.run();
  }

  // Pull number `i` ends: well (the image is then present) or with `err`.
  void complete(size_t i, caf::error err = {}) {
    REQUIRE(i < w->pulls.size());
    self->send(engine, finish_pull{i, std::move(err)});
    sched.run();
  }

  std::vector<int> percents(const std::string& image) const {
    std::vector<int> out;
    for (auto& p : *seen)
      if (p.image == image)
        out.push_back(p.percent);
    return out;
  }
};

pull_progress layer(std::string status, std::string id,
                    std::optional<int64_t> current = {},
                    std::optional<int64_t> total = {}) {
  pull_progress p;
  p.status = std::move(status);
  p.id = std::move(id);
  p.current = current;
  p.total = total;
  return p;
}

const std::string web = "reg.io/app/web:1";

} // namespace

TEST_SUITE("images actor") {
  TEST_CASE_FIXTURE(deterministic, "an image already present is not pulled") {
    w->present[web] = "sha256:77";
    auto h = start(fetch(web));
    auto r = result(h);
    REQUIRE_MESSAGE(r, sys.render(r.error()));
    CHECK(r->id == "sha256:77");
    CHECK(r->image == web);
    CHECK_FALSE(r->pulled);
    CHECK(w->count("pull " + web) == 0);
    CHECK(telemetry().done == 1);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "pulls a missing image and replies with its id") {
    auto h = start(fetch(web));
    REQUIRE(w->pulls.size() == 1);
    CHECK(w->pulls[0].pull.from_image == web);
    CHECK(telemetry().pulling == 1);
    complete(0);
    auto r = result(h);
    REQUIRE_MESSAGE(r, sys.render(r.error()));
    CHECK(r->id == w->present.at(web));
    CHECK(r->pulled);
    auto t = telemetry();
    CHECK(t.pulling == 0);
    CHECK(t.done == 1);
    CHECK(t.pulled == 1);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "never pulls every tag of an untagged name") {
    auto h = start(fetch("reg.io/app/web"));
    REQUIRE(w->pulls.size() == 1);
    CHECK(w->pulls[0].pull.from_image == "reg.io/app/web:latest");
    complete(0);
    auto r = result(h);
    REQUIRE_MESSAGE(r, sys.render(r.error()));
    CHECK(r->image == "reg.io/app/web");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "two fetches of one image share one pull and both reply") {
    auto a = start(fetch(web, "web"));
    auto b = start(fetch(web, "worker"));
    CHECK(w->count("pull " + web) == 1);
    complete(0);
    auto ra = result(a);
    auto rb = result(b);
    REQUIRE(ra);
    REQUIRE(rb);
    CHECK(ra->id == rb->id);
    CHECK(w->count("pull " + web) == 1);
    // Progress is attributed to both services.
    REQUIRE_FALSE(seen->empty());
    CHECK(seen->back().users.size() == 2);
  }

  TEST_CASE_FIXTURE(deterministic, "runs at most three pulls at once") {
    std::vector<fetch_handle> hs;
    for (int i = 0; i < 5; ++i)
      hs.push_back(start(fetch("reg.io/app/s" + std::to_string(i) + ":1")));
    CHECK(w->pulls.size() == 3);
    auto t = telemetry();
    CHECK(t.pulling == 3);
    CHECK(t.queued == 2);
    complete(0);
    CHECK(w->pulls.size() == 3); // the fourth started
    complete(0);
    complete(0);
    complete(0);
    complete(0);
    CHECK(w->pulls.empty());
    for (auto& h : hs) {
      auto r = result(h);
      CHECK_MESSAGE(r, sys.render(r.error()));
    }
    CHECK(telemetry().done == 5);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "retries a failed pull with backoff, then fails with why") {
    auto h = start(fetch(web));
    const auto manifest
      = caf::make_error(engine_errc::stream_error, "manifest unknown");
    complete(0, manifest);
    CHECK(w->pulls.empty());
    CHECK(telemetry().retrying == 1);
    advance(499ms);
    CHECK(w->pulls.empty());
    advance(1ms);
    REQUIRE(w->pulls.size() == 1); // second attempt after 500 ms
    complete(0, manifest);
    advance(999ms);
    CHECK(w->pulls.empty());
    advance(1ms);
    REQUIRE(w->pulls.size() == 1); // third after 1 s more
    complete(0, manifest);
    auto r = result(h);
    REQUIRE_FALSE(r);
    CHECK(r.error() == images_errc::fetch_failed);
    CHECK(images_error_message(r.error())
          == "Failed to download image 'reg.io/app/web:1' due to 'manifest "
             "unknown'");
    auto t = telemetry();
    CHECK(t.failed == 1);
    CHECK(t.attempts == 3);
    CHECK(t.last_error == images_error_message(r.error()));
  }

  TEST_CASE_FIXTURE(deterministic,
                    "listeners hear of each failed attempt that is retried") {
    auto h = start(fetch(web));
    complete(0, caf::make_error(engine_errc::stream_error, "denied"));
    std::vector<std::string> failures;
    for (auto& p : *seen)
      if (!p.failure.empty())
        failures.push_back(p.failure);
    CHECK(failures
          == std::vector<std::string>{
            "Failed to download image 'reg.io/app/web:1' due to 'denied'"});
    CHECK(seen->back().image == web);
    CHECK(seen->back().users.size() == 1);
    advance(500ms);
    REQUIRE(w->pulls.size() == 1);
    complete(0);
    REQUIRE(result(h));
    CHECK(seen->back().failure.empty());
  }

  TEST_CASE_FIXTURE(deterministic, "a retry that succeeds replies the image") {
    auto h = start(fetch(web));
    complete(0, caf::make_error(engine_errc::server_error, "registry 502"));
    advance(500ms);
    REQUIRE(w->pulls.size() == 1);
    complete(0);
    auto r = result(h);
    REQUIRE_MESSAGE(r, sys.render(r.error()));
    CHECK(r->pulled);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "a local-only image that is absent fails without a pull") {
    auto h = start(fetch("local_image_web:latest"));
    auto r = result(h);
    REQUIRE_FALSE(r);
    CHECK(r.error() == images_errc::not_available);
    CHECK(images_error_message(r.error()).find("local_image_web:latest")
          != std::string::npos);
    CHECK(w->pulls.empty());
  }

  TEST_CASE_FIXTURE(deterministic,
                    "publishes progress throttled, never down, ending at 100") {
    auto h = start(fetch(web));
    CHECK(percents(web) == std::vector<int>{0});
    progress(0, layer("Pulling fs layer", "a"));
    progress(0, layer("Downloading", "a", 500, 1000)); // 25%
    CHECK(percents(web) == std::vector<int>{0});       // within 250 ms of the 0
    advance(250ms);
    CHECK(percents(web) == std::vector<int>{0, 25});   // the deferred value
    progress(0, layer("Download complete", "a"));      // 50%
    progress(0, layer("Extracting", "a", 1000, 1000)); // 99%
    advance(250ms);
    CHECK(percents(web) == std::vector<int>{0, 25, 99});
    complete(0);
    CHECK(percents(web) == std::vector<int>{0, 25, 99, 100});
    REQUIRE(result(h));
    auto& last = seen->back();
    REQUIRE(last.users.size() == 1);
    CHECK(last.users[0].app_id == 1);
    CHECK(last.users[0].service_name == "web");
  }

  TEST_CASE_FIXTURE(deterministic,
                    "cleanup removes unneeded fetched images, not kept ones") {
    w->present["reg.io/app/web:1"] = "sha256:a1";
    w->present["reg.io/app/web:2"] = "sha256:a2";
    w->present["user/own:1"] = "sha256:b1";
    for (auto n : {"reg.io/app/web:1", "reg.io/app/web:2"}) {
      auto h = start(fetch(n));
      REQUIRE(result(h));
    }
    auto r = ask<image_cleanup_result>(image_cleanup{{"reg.io/app/web:2"}, {}});
    REQUIRE_MESSAGE(r, sys.render(r.error()));
    CHECK(r->removed == string_list{"reg.io/app/web:1"});
    CHECK(w->present.count("reg.io/app/web:2") == 1);
    CHECK(w->present.count("user/own:1") == 1); // never fetched by us
    CHECK(w->count("remove user/own:1") == 0);
    CHECK(telemetry().removed == 1);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "cleanup skips an image a container uses (409)") {
    w->present["reg.io/app/old:1"] = "sha256:c1";
    w->in_use["reg.io/app/old:1"] = "image is being used by container x";
    auto h = start(fetch("reg.io/app/old:1"));
    REQUIRE(result(h));
    auto r = ask<image_cleanup_result>(image_cleanup{{}, {}});
    REQUIRE_MESSAGE(r, sys.render(r.error()));
    CHECK(r->removed.empty());
    CHECK(r->in_use == string_list{"reg.io/app/old:1"});
    CHECK(w->present.count("reg.io/app/old:1") == 1);
  }

  TEST_CASE_FIXTURE(deterministic,
                    "cleanup removes dangling images unless told not to") {
    w->dangling = {"sha256:d1"};
    image_cleanup keep_dangling;
    keep_dangling.dangling = false;
    auto r = ask<image_cleanup_result>(keep_dangling);
    REQUIRE_MESSAGE(r, sys.render(r.error()));
    CHECK(r->removed.empty());
    CHECK(w->dangling.count("sha256:d1") == 1);
    r = ask<image_cleanup_result>(image_cleanup{});
    REQUIRE_MESSAGE(r, sys.render(r.error()));
    CHECK(r->removed == string_list{"sha256:d1"});
    CHECK(w->dangling.empty());
  }
}
