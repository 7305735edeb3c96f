// The images actor against a real dockerd and registry (see tools/dev test).
//
// Each test pulls a tag of its own: the test image's manifest is copied to a
// new tag in the registry (no other test knows it), so pulls really happen
// and removing the tag afterwards touches nothing another test uses.
#include "actors/engine/engine.hpp"
#include "actors/images/images.hpp"
#include "tests/support/env.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/process.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <cstdlib>
#include <doctest/doctest.h>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
using bosun::test::eventually;

namespace bosun {
namespace {

using bosun::test::required_env;

// "127.0.0.1:5000/bosun/busybox:1" -> port 5000, repo "bosun/busybox", "1".
struct image_ref {
  std::string registry;
  int port = 0;
  std::string repo;
  std::string tag;
};

image_ref parse_ref(const std::string& image) {
  image_ref r;
  auto slash = image.find('/');
  REQUIRE(slash != std::string::npos);
  r.registry = image.substr(0, slash);
  auto colon = r.registry.find(':');
  REQUIRE_MESSAGE(colon != std::string::npos, "registry without port: ", image);
  r.port = std::stoi(r.registry.substr(colon + 1));
  auto rest = image.substr(slash + 1);
  auto tag = rest.rfind(':');
  REQUIRE(tag != std::string::npos);
  r.repo = rest.substr(0, tag);
  r.tag = rest.substr(tag + 1);
  return r;
}

const char* const manifest_type
  = "application/vnd.docker.distribution.manifest.v2+json";

// Copies the test image's manifest to `new_tag` in the registry; returns the
// full name of the new image.
std::string registry_tag(const std::string& image, const std::string& new_tag) {
  auto r = parse_ref(image);
  auto got
    = test::http_request(r.port, "GET", "/v2/" + r.repo + "/manifests/" + r.tag,
                         {}, {std::string{"Accept: "} + manifest_type});
  REQUIRE_MESSAGE(got.status == 200, "registry GET manifest: ", got.status, " ",
                  got.body);
  auto put = test::http_request(
    r.port, "PUT", "/v2/" + r.repo + "/manifests/" + new_tag, got.body,
    {std::string{"Content-Type: "} + manifest_type});
  REQUIRE_MESSAGE(put.status == 201, "registry PUT manifest: ", put.status, " ",
                  put.body);
  return r.registry + "/" + r.repo + ":" + new_tag;
}

struct seen {
  std::mutex m;
  std::vector<image_progress> events;
};

image_listener_actor::behavior_type recorder(image_listener_actor::pointer,
                                             std::shared_ptr<seen> s) {
  return {[s](image_progress& p) {
    std::lock_guard<std::mutex> g{s->m};
    s->events.push_back(std::move(p));
  }};
}

struct images_fixture {
  // Declared before the actor system, so it outlives every actor.
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{
    io.get_executor()};
  std::thread io_thread{[this] { io.run(); }};
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  engine_actor engine;
  images_actor images;
  std::shared_ptr<seen> rec = std::make_shared<seen>();
  image_listener_actor listener;
  std::string image = required_env("BOSUN_TEST_IMAGE");
  std::string registry = required_env("BOSUN_TEST_REGISTRY");
  std::string prefix = "it-img-" + std::to_string(::getpid()) + "-";
  std::vector<std::string> created; // image names to remove at the end

  images_fixture() {
    auto host = required_env("DOCKER_HOST");
    std::string why;
    auto ep = http::parse_endpoint(host, &why);
    REQUIRE_MESSAGE(ep, "DOCKER_HOST=", host, ": ", why);
    cfg.set("scheduler.max-threads", 2);
    add_engine_error_renderer(cfg);
    add_images_error_renderer(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    self.emplace(*sys);
    engine = spawn_engine(*sys, io, *ep);
    images_options opts;
    opts.backoff_initial = 100ms; // keeps the failing test short
    images = spawn_images(*sys, engine, opts);
    listener = sys->spawn(recorder, rec);
    (*self)->send(images, image_subscribe{listener});
  }

  ~images_fixture() {
    for (auto& n : created)
      (*self)
        ->request(engine, 60s, image_remove_req{n, false, true})
        .receive([](image_delete_result&) {}, [](caf::error&) {});
    caf::anon_send_exit(images, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
    images = nullptr;
    listener = nullptr;
    engine = nullptr;
    self.reset();
    sys.reset();
    work.reset();
    io.stop();
    io_thread.join();
  }

  // A tag only this test knows, in the registry, not on the engine.
  std::string fresh(const std::string& name) {
    auto n = registry_tag(image, prefix + name);
    created.push_back(n);
    return n;
  }

  template <class T, class Handle, class Req>
  caf::expected<T> call(const Handle& h, Req req,
                        std::chrono::seconds timeout = 300s) {
    caf::expected<T> out{caf::make_error(caf::sec::request_timeout)};
    (*self)
      ->request(h, timeout, std::move(req))
      .receive([&](T& v) { out = std::move(v); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  image_fetch fetch(const std::string& name, std::string service = "web") {
    image_fetch f;
    f.image = name;
    f.app_id = 1;
    f.service_name = std::move(service);
    return f;
  }

  images_telemetry telemetry() {
    auto t = call<images_telemetry>(images, caf::get_atom_v);
    REQUIRE(t);
    return *t;
  }

  std::vector<image_progress> progress_of(const std::string& name) {
    std::lock_guard<std::mutex> g{rec->m};
    std::vector<image_progress> out;
    for (auto& p : rec->events)
      if (p.image == name)
        out.push_back(p);
    return out;
  }

  std::string render(const caf::error& e) {
    return sys->render(e);
  }
};

} // namespace

TEST_SUITE("images actor (real dockerd)") {
  TEST_CASE("fetches an image from the registry, progress reaching 100") {
    images_fixture f;
    auto name = f.fresh("pull");
    auto got = f.call<image_fetched>(f.images, f.fetch(name));
    REQUIRE_MESSAGE(got, f.render(got.error()));
    CHECK(got->pulled);
    CHECK(got->image == name);
    CHECK(got->id.rfind("sha256:", 0) == 0);
    CHECK(eventually(10s, [&](std::string& last) {
      auto ps = f.progress_of(name);
      last = std::to_string(ps.size()) + " events";
      if (!ps.empty())
        last += ", last " + std::to_string(ps.back().percent);
      return !ps.empty() && ps.back().percent == 100;
    }));
    auto ps = f.progress_of(name);
    for (size_t i = 1; i < ps.size(); ++i)
      CHECK(ps[i - 1].percent <= ps[i].percent);
    REQUIRE_FALSE(ps.empty());
    REQUIRE(ps.back().users.size() == 1);
    CHECK(ps.back().users[0].service_name == "web");
    // Present now: no second pull.
    auto again = f.call<image_fetched>(f.images, f.fetch(name));
    REQUIRE_MESSAGE(again, f.render(again.error()));
    CHECK_FALSE(again->pulled);
    CHECK(again->id == got->id);
    auto t = f.telemetry();
    CHECK(t.attempts == 1);
    CHECK(t.done == 2);
    CHECK(t.pulled == 1);
  }

  TEST_CASE("a tag the registry lacks fails after the retries, saying why") {
    images_fixture f;
    auto missing = f.registry + "/bosun/" + f.prefix + "missing:404";
    auto got = f.call<image_fetched>(f.images, f.fetch(missing));
    REQUIRE_FALSE(got);
    CHECK(got.error() == images_errc::fetch_failed);
    auto msg = images_error_message(got.error());
    MESSAGE("failure: ", msg);
    CHECK(msg.rfind("Failed to download image '" + missing + "' due to '", 0)
          == 0);
    CHECK((msg.find("manifest unknown") != std::string::npos
           || msg.find("not found") != std::string::npos));
    auto t = f.telemetry();
    CHECK(t.attempts == 3);
    CHECK(t.failed == 1);
    CHECK(t.last_error == msg);
  }

  TEST_CASE("two fetches of one image at once make one pull") {
    images_fixture f;
    auto name = f.fresh("shared");
    auto h1 = (*f.self)->request(f.images, 300s, f.fetch(name, "web"));
    auto h2 = (*f.self)->request(f.images, 300s, f.fetch(name, "worker"));
    std::vector<image_fetched> replies;
    for (auto* h : {&h1, &h2})
      h->receive([&](image_fetched& r) { replies.push_back(r); },
                 [&](caf::error& e) { FAIL_CHECK(f.render(e)); });
    REQUIRE(replies.size() == 2);
    CHECK(replies[0].id == replies[1].id);
    CHECK(replies[0].pulled);
    CHECK(replies[1].pulled);
    auto t = f.telemetry();
    CHECK(t.attempts == 1);
    CHECK(t.pulled == 2);
  }

  TEST_CASE("cleanup removes a fetched image no service keeps") {
    images_fixture f;
    auto kept = f.fresh("kept");
    auto dropped = f.fresh("dropped");
    for (auto& n : {kept, dropped}) {
      auto got = f.call<image_fetched>(f.images, f.fetch(n));
      REQUIRE_MESSAGE(got, f.render(got.error()));
    }
    image_cleanup req;
    req.keep = {kept};
    req.dangling = false; // the engine is shared with other tests
    auto r = f.call<image_cleanup_result>(f.images, req);
    REQUIRE_MESSAGE(r, f.render(r.error()));
    CHECK(r->removed == string_list{dropped});
    CHECK(r->failed.empty());
    auto gone = f.call<image_inspect>(f.engine, image_inspect_req{dropped});
    CHECK(gone.error() == engine_errc::not_found);
    auto still = f.call<image_inspect>(f.engine, image_inspect_req{kept});
    CHECK_MESSAGE(still, f.render(still.error()));
  }
}

} // namespace bosun
