// The planner, one behaviour per case: a current state and a target in, the
// steps of the next pass out.
#include "actors/apps/planner.hpp"
#include "tests/unit/apps_planner/fixtures.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::test;
using strs = std::vector<std::string>;

namespace {

const plan_options opts{};

// web + db, the usual two-service app of these tests.
target_state two(const std::vector<target_service>& extra = {}) {
  std::vector<target_service> services{svc("web"), svc("db")};
  for (auto& s : extra)
    services.push_back(s);
  return target({app(services)});
}

} // namespace

TEST_SUITE("planner: apps") {
  TEST_CASE("a device at its target gets an empty plan") {
    auto t = two();
    auto p = plan(state({capp({ctr("web"), ctr("db")})}, t), t, opts);
    CHECK(p.empty());
  }

  TEST_CASE("a new app fetches every image and creates its default network") {
    auto t = two();
    auto p = plan(state({}), t, opts);
    CHECK(summaries(p)
          == strs{"fetch db", "fetch web", "create_network default"});
  }

  TEST_CASE("a new service waits for its network to be created") {
    auto t = two();
    auto p = plan(state({}, t), t, opts);
    CHECK(summaries(p)
          == strs{"noop db", "noop web", "create_network default"});
    CHECK(noop_reason(p, "web") == "waiting for network default to be created");
  }

  TEST_CASE("a new app takes the lock before creating its first container") {
    auto t = two();
    auto p = plan(state({capp({})}, t), t, opts);
    // The executor installs them once the lock is taken.
    REQUIRE(summaries(p) == strs{"take_lock", "install db", "install web"});
    CHECK(first<steps::take_lock>(p)->services == strs{"db", "web"});
  }

  TEST_CASE("installs the services once images, networks and lock are there") {
    auto t = two();
    auto p = plan(state({locked(capp({}))}, t), t, opts);
    CHECK(summaries(p) == strs{"install db", "install web"});
    const auto* s = first<steps::start_service>(p);
    REQUIRE(s != nullptr);
    CHECK(s->app.uuid == "a1");
    CHECK(s->service.name == "db");
    CHECK(s->container_id.empty());
    CHECK_FALSE(s->create_only);
  }

  TEST_CASE("records the new commit once nothing else is left") {
    auto t = two();
    auto a = capp({ctr("web"), ctr("db")});
    a.commit = "c1";
    auto p = plan(state({a}, t), t, opts);
    REQUIRE(summaries(p) == strs{"commit c2"});
    CHECK(first<steps::update_commit>(p)->commit == "c2");
  }

  TEST_CASE(
    "commits, then releases the held lock, when the target is reached") {
    auto t = two();
    auto a = locked(capp({ctr("web"), ctr("db")}));
    a.commit = "c1";
    CHECK(summaries(plan(state({a}, t), t, opts))
          == strs{"commit c2", "release_lock"});
    a.commit = "c2";
    CHECK(summaries(plan(state({a}, t), t, opts)) == strs{"release_lock"});
  }

  TEST_CASE("a pass that only waits neither commits nor releases the lock") {
    auto t = two({depends(svc("api"), "db", dependency_condition::healthy)});
    auto a = locked(capp({ctr("web"), ctr("db")}));
    a.commit = "c1";
    auto p = plan(state({a}, t), t, opts);
    CHECK(summaries(p) == strs{"noop api"});
  }

  TEST_CASE("an app without a release commits nothing") {
    auto t = target({app({}, "a1", 1, "")});
    auto a = capp({});
    a.commit = "";
    CHECK(plan(state({a}, t), t, opts).empty());
  }

  TEST_CASE("apps are matched by uuid, or by appId when the uuid is unknown") {
    auto t = two();
    auto a = capp({ctr("web"), ctr("db")}, "");
    CHECK(plan(state({a}, t), t, opts).empty());
  }

  TEST_CASE("an app's steps follow its take_lock; other apps need none") {
    auto t = target({app({svc("web")}, "a1", 1), app({svc("db")}, "a2", 2)});
    auto a1 = capp({ctr("old", target_match::no_target)}, "a1", 1);
    auto a2 = capp({}, "a2", 2);
    auto s = state({a1, a2});
    s.images.insert("registry/web:1");
    auto p = plan(s, t, opts);
    CHECK(summaries(p)
          == strs{"take_lock", "kill old", "install web", "fetch db"});
    CHECK(first<steps::take_lock>(p)->app_uuid == "a1");
  }
}

TEST_SUITE("planner: removed apps") {
  TEST_CASE("an app that left the target takes the lock first") {
    auto t = target({});
    auto p = plan(state({capp({ctr("web"), ctr("db")})}), t, opts);
    REQUIRE(summaries(p) == strs{"take_lock", "kill web", "kill db"});
    CHECK(first<steps::take_lock>(p)->services == strs{"db", "web"});
  }

  TEST_CASE("kills every container of an app that left, once locked") {
    auto t = target({});
    auto a = locked(capp({ctr("web"), ctr("db")}));
    a.volumes = {vol("data")};
    auto p = plan(state({a}), t, opts);
    CHECK(summaries(p) == strs{"kill web", "kill db"});
  }

  TEST_CASE("removes the networks of an app that left after its containers") {
    auto t = target({});
    auto a = locked(capp({}));
    a.networks.push_back(net("backend"));
    a.volumes = {vol("data")};
    auto p = plan(state({a}), t, opts);
    CHECK(summaries(p)
          == strs{"remove_network default", "remove_network backend"});
  }

  TEST_CASE("removes the volumes of an app that left after its networks") {
    auto t = target({});
    auto a = locked(capp({}));
    a.networks.clear();
    a.volumes = {vol("data")};
    CHECK(summaries(plan(state({a}), t, opts)) == strs{"remove_volume data"});
  }

  TEST_CASE("local mode never removes the volumes of an app that left") {
    auto t = target({});
    auto a = locked(capp({}));
    a.networks.clear();
    a.volumes = {vol("data")};
    plan_options local;
    local.local_mode = true;
    CHECK(summaries(plan(state({a}), t, local)) == strs{"release_lock"});
    a.lock_held = false;
    CHECK(plan(state({a}), t, local).empty());
  }

  TEST_CASE("releases the lock last when an app that left is gone") {
    auto t = target({});
    auto a = locked(capp({}));
    a.networks.clear();
    CHECK(summaries(plan(state({a}), t, opts)) == strs{"release_lock"});
  }

  TEST_CASE("removes a dead container of an app that left without the lock") {
    auto t = target({});
    auto a
      = capp({ctr("web", target_match::no_target, container_status::dead)});
    CHECK(summaries(plan(state({a}), t, opts)) == strs{"remove web"});
  }
}

TEST_SUITE("planner: containers") {
  TEST_CASE("removes a dead container without taking the lock") {
    auto t = two();
    auto dead = ctr("web", target_match::equal, container_status::dead);
    auto p = plan(state({capp({dead, ctr("db")})}, t), t, opts);
    CHECK(summaries(p) == strs{"remove web"});
  }

  TEST_CASE("a dead container does not stand for its service") {
    auto t = two();
    auto dead = ctr("web", target_match::equal, container_status::dead);
    dead.created = 9;
    auto live = ctr("web");
    live.id = "web-2";
    auto p = plan(state({capp({dead, live, ctr("db")})}, t), t, opts);
    CHECK(summaries(p) == strs{"remove web"});
  }

  TEST_CASE(
    "keeps the newest of several containers of a service, kills the rest") {
    auto t = two();
    auto old = ctr("web");
    old.id = "web-old";
    old.created = 1;
    auto fresh = ctr("web");
    fresh.id = "web-new";
    fresh.created = 5;
    auto p = plan(state({locked(capp({old, fresh, ctr("db")}))}, t), t, opts);
    REQUIRE(summaries(p) == strs{"kill web"});
    CHECK(first<steps::kill_service>(p)->container_id == "web-old");
  }

  TEST_CASE("kills a service the release dropped") {
    auto t = two();
    auto gone = ctr("cache", target_match::no_target);
    auto p
      = plan(state({locked(capp({ctr("web"), ctr("db"), gone}))}, t), t, opts);
    REQUIRE(summaries(p) == strs{"kill cache"});
    CHECK(first<steps::kill_service>(p)->reason
          == "cache is not in the target release");
  }

  TEST_CASE("a stopping container is waited for") {
    auto t = two();
    auto web = ctr("web", target_match::differs, container_status::stopping);
    auto p = plan(state({locked(capp({web, ctr("db")}))}, t), t, opts);
    CHECK(summaries(p) == strs{"noop web"});
  }

  TEST_CASE("a removing container is waited for and holds its network") {
    auto t = two();
    auto gone
      = ctr("cache", target_match::no_target, container_status::removing);
    gone.networks = {"old"};
    auto a = locked(capp({ctr("web"), ctr("db"), gone}));
    a.networks.push_back(net("old"));
    CHECK(summaries(plan(state({a}, t), t, opts)) == strs{"noop cache"});
  }
}

TEST_SUITE("planner: networks and volumes") {
  TEST_CASE("the default network is always created") {
    auto t = two();
    auto a = locked(capp({ctr("web"), ctr("db")}));
    a.networks.clear();
    CHECK(summaries(plan(state({a}, t), t, opts))
          == strs{"create_network default"});
  }

  TEST_CASE("creates the release's networks and volumes before installing") {
    auto t = target({with_volume(
      with_network(app({mounts(on_network(svc("db"), "backend"), "data")}),
                   "backend"),
      "data")});
    auto p = plan(state({locked(capp({}))}, t), t, opts);
    CHECK(summaries(p)
          == strs{"noop db", "create_volume data", "create_network backend"});
    CHECK(noop_reason(p, "db") == "waiting for network backend to be created");
  }

  TEST_CASE("a new service waits for its volume to be created") {
    auto t = target({with_volume(app({mounts(svc("db"), "data")}), "data")});
    auto p = plan(state({locked(capp({}))}, t), t, opts);
    CHECK(summaries(p) == strs{"noop db", "create_volume data"});
    CHECK(noop_reason(p, "db") == "waiting for volume data to be created");
  }

  TEST_CASE("a volume dropped by a release is kept") {
    auto t = two();
    auto a = capp({ctr("web"), ctr("db")});
    a.volumes = {vol("olddata", false)};
    CHECK(plan(state({a}, t), t, opts).empty());
  }

  TEST_CASE("removes a network the release dropped once no container uses it") {
    auto t = two();
    auto a = capp({ctr("web"), ctr("db")});
    a.networks.push_back(net("old"));
    auto p = plan(state({a}, t), t, opts);
    REQUIRE(summaries(p) == strs{"remove_network old"});
    CHECK(first<steps::remove_network>(p)->id == "old-nid");
  }

  TEST_CASE("removes a service before the network it uses") {
    auto t = two();
    auto gone = ctr("cache", target_match::no_target);
    gone.networks = {"old"};
    auto a = locked(capp({ctr("web"), ctr("db"), gone}));
    a.networks.push_back(net("old"));
    CHECK(summaries(plan(state({a}, t), t, opts)) == strs{"kill cache"});
  }

  TEST_CASE("kills the users of a network that changes before removing it") {
    auto t = two();
    auto a = locked(capp({ctr("web"), ctr("db")}));
    a.networks = {net("default", false)};
    auto p = plan(state({a}, t), t, opts);
    CHECK(summaries(p) == strs{"kill db", "kill web"});
    CHECK(first<steps::kill_service>(p)->reason == "network default changes");
  }

  TEST_CASE("recreates a changed network once unused: remove, then create") {
    auto t = two();
    auto a = locked(capp({}));
    a.networks = {net("default", false)};
    auto p = plan(state({a}, t), t, opts);
    CHECK(summaries(p)
          == strs{"noop db", "noop web", "remove_network default"});
    CHECK(noop_reason(p, "web")
          == "waiting for network default to be recreated");
    a.networks.clear();
    CHECK(summaries(plan(state({a}, t), t, opts))
          == strs{"noop db", "noop web", "create_network default"});
  }

  TEST_CASE("recreates a changed volume after killing its users") {
    auto t = target({with_volume(app({mounts(svc("db"), "data")}), "data")});
    auto db = ctr("db");
    db.volumes = {"data"};
    auto a = locked(capp({db}));
    a.volumes = {vol("data", false)};
    auto p = plan(state({a}, t), t, opts);
    REQUIRE(summaries(p) == strs{"kill db"});
    CHECK(first<steps::kill_service>(p)->reason == "volume data changes");
    a.containers.clear();
    CHECK(summaries(plan(state({a}, t), t, opts))
          == strs{"noop db", "remove_volume data"});
  }

  TEST_CASE("a duplicate network is removed once its name is unused") {
    auto t = two();
    auto a = locked(capp({}));
    a.networks.push_back(current_network{"default", "dup-id", true});
    auto p = plan(state({a}, t), t, opts);
    REQUIRE(count<steps::remove_network>(p) == 1);
    CHECK(first<steps::remove_network>(p)->id == "dup-id");
  }
}

TEST_SUITE("planner: run state and release") {
  TEST_CASE("the same config in a new release renames the container") {
    auto t = two();
    auto p = plan(state({locked(capp({ctr("web", target_match::metadata_only),
                                      ctr("db")}))},
                        t),
                  t, opts);
    REQUIRE(summaries(p) == strs{"rename web"});
    CHECK(first<steps::update_metadata>(p)->container_id == "web-id");
    CHECK(first<steps::update_metadata>(p)->app.commit == "c2");
  }

  TEST_CASE("download-then-kill renames only once every image is present") {
    auto t = two({svc("api")});
    auto s = state(
      {locked(capp({ctr("web", target_match::metadata_only), ctr("db")}))}, t);
    s.images.erase("registry/api:1");
    auto p = plan(s, t, opts);
    CHECK(summaries(p) == strs{"fetch api", "noop web"});
  }

  TEST_CASE("kill-then-download renames at once") {
    auto t = two({strategy(svc("api"), "kill-then-download")});
    auto api = ctr("api", target_match::metadata_only);
    auto s = state(
      {locked(capp({api, ctr("web"), ctr("db", target_match::differs)}))}, t);
    s.images.erase("registry/db:1");
    auto p = plan(s, t, opts);
    CHECK(has(p, "rename api"));
  }

  TEST_CASE("stops a running service whose target is stopped") {
    auto t = target({app({stopped(svc("web"))})});
    auto p = plan(state({locked(capp({ctr("web")}))}, t), t, opts);
    CHECK(summaries(p) == strs{"stop web"});
  }

  TEST_CASE("stopping a service needs the lock") {
    auto t = target({app({stopped(svc("web"))})});
    CHECK(summaries(plan(state({capp({ctr("web")})}, t), t, opts))
          == strs{"take_lock", "stop web"});
  }

  TEST_CASE("a stopped service whose target is stopped gets no step") {
    auto t = target({app({stopped(svc("web"))})});
    auto web = ctr("web", target_match::equal, container_status::exited);
    CHECK(plan(state({capp({web})}, t), t, opts).empty());
  }

  TEST_CASE("starts a service bosun stopped once the target says running") {
    auto t = two();
    auto web = ctr("web", target_match::equal, container_status::exited);
    web.stopped_by_agent = true;
    auto p = plan(state({capp({web, ctr("db")})}, t), t, opts);
    REQUIRE(summaries(p) == strs{"start web"});
    CHECK(first<steps::start_service>(p)->container_id == "web-id");
  }

  TEST_CASE("an exited container with a restart policy gets no step") {
    auto t = two();
    auto web = ctr("web", target_match::equal, container_status::exited);
    CHECK(plan(state({capp({web, ctr("db")})}, t), t, opts).empty());
  }

  TEST_CASE("a crash-looping container does not block the commit") {
    auto t = two();
    auto web = ctr("web", target_match::equal, container_status::exited);
    auto a = capp({web, ctr("db")});
    a.commit = "c1";
    CHECK(summaries(plan(state({a}, t), t, opts)) == strs{"commit c2"});
  }

  TEST_CASE("a created container is started without the lock") {
    auto t = two();
    auto web = ctr("web", target_match::equal, container_status::created);
    CHECK(summaries(plan(state({capp({web, ctr("db")})}, t), t, opts))
          == strs{"start web"});
  }

  TEST_CASE("a paused container is left alone") {
    auto t = two();
    auto web = ctr("web", target_match::equal, container_status::paused);
    CHECK(plan(state({capp({web, ctr("db")})}, t), t, opts).empty());
  }

  TEST_CASE("a service stopped through the API is not started again") {
    auto t = two();
    auto web = ctr("web", target_match::equal, container_status::exited);
    web.stopped_by_agent = true;
    auto a = capp({web, ctr("db")});
    a.user_stopped = {"web"};
    CHECK(plan(state({a}, t), t, opts).empty());
  }

  TEST_CASE("a service stopped through the API is recreated but not started") {
    auto t = two();
    auto a = locked(capp({ctr("db")}));
    a.user_stopped = {"web"};
    auto p = plan(state({a}, t), t, opts);
    REQUIRE(summaries(p) == strs{"create web"});
    CHECK(first<steps::start_service>(p)->create_only);
  }

  TEST_CASE("a new service the target has stopped is created, not started") {
    auto t = target({app({stopped(svc("web"))})});
    auto p = plan(state({locked(capp({}))}, t), t, opts);
    REQUIRE(summaries(p) == strs{"create web"});
    CHECK(first<steps::start_service>(p)->create_only);
  }
}

TEST_SUITE("planner: update strategies") {
  TEST_CASE(
    "download-then-kill fetches the new image and keeps the old container") {
    auto t = two();
    auto s = state(
      {locked(capp({ctr("web", target_match::differs), ctr("db")}))}, t);
    s.images.erase("registry/web:1");
    CHECK(summaries(plan(s, t, opts)) == strs{"fetch web"});
  }

  TEST_CASE("download-then-kill keeps the old container until every image of "
            "the app is present") {
    auto t = two({svc("api")});
    auto s = state(
      {locked(capp({ctr("web", target_match::differs), ctr("db")}))}, t);
    s.images.erase("registry/api:1");
    s.downloading["registry/api:1"] = 40;
    auto p = plan(s, t, opts);
    CHECK(summaries(p) == strs{"noop api", "noop web"});
    CHECK(noop_reason(p, "api") == "downloading registry/api:1 for api (40%)");
    CHECK(noop_reason(p, "web")
          == "waiting for every image of the app before replacing web");
  }

  TEST_CASE("download-then-kill replaces once every image is present") {
    auto t = two();
    auto a = locked(capp({ctr("web", target_match::differs), ctr("db")}));
    auto p = plan(state({a}, t), t, opts);
    // Nothing to wait for between the kill and the install: one step.
    REQUIRE(summaries(p) == strs{"replace web"});
    const auto* r = first<steps::replace_service>(p);
    CHECK(r->reason == "web changed (download-then-kill)");
    CHECK(r->old_container_id == a.containers[0].id);
    CHECK_FALSE(r->create_only);
  }

  TEST_CASE("download-then-kill kills, then installs in a later pass, when "
            "the new container must wait") {
    // web waits for db, which changes in the same pass.
    auto t = target({app({depends(svc("web"), "db"), svc("db")})});
    auto a = locked(capp(
      {ctr("web", target_match::differs), ctr("db", target_match::differs)}));
    auto p = plan(state({a}, t), t, opts);
    REQUIRE(summaries(p) == strs{"kill web", "replace db"});
    CHECK(first<steps::kill_service>(p)->reason
          == "web changed (download-then-kill)");
    a.containers = {ctr("db")};
    CHECK(summaries(plan(state({a}, t), t, opts)) == strs{"install web"});
  }

  TEST_CASE("an unknown strategy label behaves like download-then-kill") {
    auto t = two({strategy(svc("api"), "yolo")});
    auto s = state({locked(capp({ctr("api", target_match::differs), ctr("web"),
                                 ctr("db")}))},
                   t);
    s.images.erase("registry/api:1");
    CHECK(summaries(plan(s, t, opts)) == strs{"fetch api"});
  }

  TEST_CASE("kill-then-download kills before fetching") {
    auto t = target({app({strategy(svc("db"), "kill-then-download")})});
    auto s = state({locked(capp({ctr("db", target_match::differs)}))});
    CHECK(summaries(plan(s, t, opts)) == strs{"kill db"});
    s.apps[0].containers.clear();
    CHECK(summaries(plan(s, t, opts)) == strs{"fetch db"});
  }

  TEST_CASE("delete-then-download kills before fetching") {
    auto t = target({app({strategy(svc("db"), "delete-then-download")})});
    auto s = state({locked(capp({ctr("db", target_match::differs)}))});
    CHECK(summaries(plan(s, t, opts)) == strs{"kill db"});
  }

  TEST_CASE("downloads wait while a kill-then-download service still runs") {
    auto t = two({strategy(svc("big"), "kill-then-download")});
    auto s
      = state({locked(capp({ctr("big", target_match::differs),
                            ctr("web", target_match::differs), ctr("db")}))});
    s.images.insert("registry/db:1");
    auto p = plan(s, t, opts);
    CHECK(summaries(p) == strs{"kill big", "noop web"});
    CHECK(noop_reason(p, "web").find("waiting for big to be removed") == 0);
  }

  TEST_CASE(
    "hand-over fetches first, then hands over with the label's timeout") {
    auto web = labelled(strategy(svc("web"), "hand-over"),
                        "io.balena.update.handover-timeout", "5000");
    auto t = target({app({web})});
    auto s = state({locked(capp({ctr("web", target_match::differs)}))});
    CHECK(summaries(plan(s, t, opts)) == strs{"fetch web"});
    s.images.insert(web.image);
    auto p = plan(s, t, opts);
    REQUIRE(summaries(p) == strs{"handover web"});
    CHECK(first<steps::handover>(p)->timeout_ms == 5000);
    CHECK(first<steps::handover>(p)->old_container_id == "web-id");
  }

  TEST_CASE(
    "hand-over uses the default timeout when the label is absent or bad") {
    auto t = target({app({strategy(svc("web"), "hand-over")})});
    auto s = state({locked(capp({ctr("web", target_match::differs)}))}, t);
    plan_options o;
    o.handover_timeout_ms = 1234;
    CHECK(first<steps::handover>(plan(s, t, o))->timeout_ms == 1234);
    t.apps[0].services[0].config.labels["io.balena.update.handover-timeout"]
      = "soon";
    CHECK(first<steps::handover>(plan(s, t, o))->timeout_ms == 1234);
  }

  TEST_CASE("hand-over under a network change is a plain kill") {
    auto t = target({app({strategy(svc("web"), "hand-over")})});
    auto a = locked(capp({ctr("web", target_match::differs)}));
    a.networks = {net("default", false)};
    CHECK(summaries(plan(state({a}, t), t, opts)) == strs{"kill web"});
  }

  TEST_CASE("hand-over of a service the release dropped is a plain kill") {
    auto t = target({app({strategy(svc("web"), "hand-over")})});
    auto a = locked(capp({ctr("web"), ctr("old", target_match::no_target)}));
    CHECK(summaries(plan(state({a}, t), t, opts)) == strs{"kill old"});
  }

  TEST_CASE("hand-over from a container that is not running is a plain kill") {
    auto t = target({app({strategy(svc("web"), "hand-over")})});
    auto web = ctr("web", target_match::differs, container_status::exited);
    CHECK(summaries(plan(state({locked(capp({web}))}, t), t, opts))
          == strs{"kill web"});
  }

  TEST_CASE("hand-over waits for the new container's dependencies") {
    auto t = two();
    t.apps[0].services[1] = depends(strategy(svc("web"), "hand-over"), "db");
    auto a = locked(
      capp({ctr("web", target_match::differs),
            ctr("db", target_match::equal, container_status::exited)}));
    auto p = plan(state({a}, t), t, opts);
    CHECK(summaries(p) == strs{"noop web"});
  }
}

TEST_SUITE("planner: dependencies") {
  TEST_CASE("waits for db to be running before starting web") {
    auto t = target({app({depends(svc("web"), "db"), svc("db")})});
    auto p = plan(state({locked(capp({}))}, t), t, opts);
    CHECK(summaries(p) == strs{"install db", "noop web"});
    CHECK(noop_reason(p, "web") == "waiting for dependency db to be running");
  }

  TEST_CASE(
    "waits for db to be healthy before starting web (service_healthy)") {
    auto t = target({app(
      {depends(svc("web"), "db", dependency_condition::healthy), svc("db")})});
    auto db = ctr("db");
    db.health = container_health::starting;
    auto p = plan(state({locked(capp({db}))}, t), t, opts);
    CHECK(summaries(p) == strs{"noop web"});
    CHECK(noop_reason(p, "web") == "waiting for dependency db to be healthy");
    db.health = container_health::healthy;
    CHECK(summaries(plan(state({locked(capp({db}))}, t), t, opts))
          == strs{"install web"});
  }

  TEST_CASE("service_healthy on a dependency without healthcheck waits, and "
            "says why") {
    auto t = target({app(
      {depends(svc("web"), "db", dependency_condition::healthy), svc("db")})});
    auto p = plan(state({locked(capp({ctr("db")}))}, t), t, opts);
    CHECK(noop_reason(p, "web")
          == "waiting for dependency db to be healthy (it has no healthcheck)");
  }

  TEST_CASE("service_started does not wait for health") {
    auto t = target({app({depends(svc("web"), "db"), svc("db")})});
    auto db = ctr("db");
    db.health = container_health::unhealthy;
    CHECK(summaries(plan(state({locked(capp({db}))}, t), t, opts))
          == strs{"install web"});
  }

  TEST_CASE("a dependency being updated holds its dependants back") {
    auto t = target({app({depends(svc("web"), "db"), svc("db")})});
    auto s = state({locked(capp({ctr("db", target_match::differs)}))}, t);
    s.images.erase("registry/db:1");
    auto p = plan(s, t, opts);
    CHECK(summaries(p) == strs{"fetch db", "noop web"});
  }

  TEST_CASE("network_mode service:db is an implicit dependency") {
    auto t = target({app({network_mode(svc("web"), "service:db"), svc("db")})});
    auto p = plan(state({locked(capp({}))}, t), t, opts);
    CHECK(summaries(p) == strs{"install db", "noop web"});
  }

  TEST_CASE("a start of an existing container waits for its dependencies too") {
    auto t = target({app({depends(svc("web"), "db"), svc("db")})});
    auto web = ctr("web", target_match::equal, container_status::created);
    auto db = ctr("db", target_match::equal, container_status::exited);
    auto p = plan(state({capp({web, db})}, t), t, opts);
    CHECK(summaries(p) == strs{"noop web"});
  }

  TEST_CASE("a new service starts only when all the app's images are present") {
    auto t = two();
    auto s = state({locked(capp({ctr("db", target_match::differs)}))}, t);
    s.images.erase("registry/db:1");
    auto p = plan(s, t, opts);
    CHECK(summaries(p) == strs{"fetch db", "noop web"});
    CHECK(noop_reason(p, "web")
          == "waiting for every image of the app before starting web");
  }
}

TEST_SUITE("planner: update locks") {
  TEST_CASE("an app without the lock gets take_lock first, then its steps") {
    auto t = two({svc("api")});
    t.apps[0].services[2] = strategy(svc("web"), "kill-then-download");
    auto dead = ctr("old", target_match::no_target, container_status::dead);
    auto s
      = state({capp({ctr("web", target_match::differs), ctr("db"), dead})}, t);
    s.images.erase("registry/api:1");
    auto p = plan(s, t, opts);
    CHECK(summaries(p)
          == strs{"take_lock", "remove old", "kill web", "noop api"});
  }

  TEST_CASE("take_lock names every current and target service") {
    auto t = two();
    auto s = state({capp({ctr("web", target_match::differs),
                          ctr("cache", target_match::no_target)})},
                   t);
    auto p = plan(s, t, opts);
    const auto* lock = first<steps::take_lock>(p);
    REQUIRE(lock != nullptr);
    CHECK(lock->services == strs{"cache", "db", "web"});
    CHECK(lock->app_uuid == "a1");
    CHECK(lock->app_id == 1);
    CHECK_FALSE(lock->force);
  }

  TEST_CASE(
    "take_lock forces with the force option or SUPERVISOR_OVERRIDE_LOCK") {
    auto t = two();
    auto s = state({capp({ctr("web", target_match::differs), ctr("db")})}, t);
    plan_options o;
    o.force = true;
    CHECK(first<steps::take_lock>(plan(s, t, o))->force);
    o.force = false;
    o.lock_override = true;
    CHECK(first<steps::take_lock>(plan(s, t, o))->force);
  }

  TEST_CASE("a user lock file: take_lock says who holds it") {
    auto t = two();
    auto a = capp({ctr("web", target_match::differs), ctr("db")});
    a.user_locks = {"web"};
    auto p = plan(state({a}, t), t, opts);
    REQUIRE(summaries(p) == strs{"take_lock", "replace web"});
    CHECK(first<steps::take_lock>(p)->reason.find("updates are locked by web")
          == 0);
  }

  TEST_CASE("fetch, remove and start of an existing container need no lock") {
    auto t = two({svc("api")});
    auto dead = ctr("old", target_match::no_target, container_status::dead);
    auto web = ctr("web", target_match::equal, container_status::created);
    auto s = state({capp({web, ctr("db"), dead})}, t);
    s.images.erase("registry/api:1");
    auto p = plan(s, t, opts);
    CHECK(summaries(p) == strs{"remove old", "fetch api", "start web"});
  }

  TEST_CASE(
    "needs_lock covers kill, stop, rename, handover and new containers") {
    CHECK(needs_lock(steps::kill_service{}));
    CHECK(needs_lock(steps::stop_service{}));
    CHECK(needs_lock(steps::update_metadata{}));
    CHECK(needs_lock(steps::handover{}));
    CHECK(needs_lock(steps::start_service{}));
    steps::start_service existing;
    existing.container_id = "x";
    CHECK_FALSE(needs_lock(existing));
    CHECK_FALSE(needs_lock(steps::fetch_image{}));
    CHECK_FALSE(needs_lock(steps::remove_service{}));
    CHECK_FALSE(needs_lock(steps::create_network{}));
    CHECK_FALSE(needs_lock(steps::remove_volume{}));
  }
}

TEST_SUITE("planner: images") {
  TEST_CASE("fetches at most max_concurrent_fetches images at once") {
    auto t = target({app({svc("a"), svc("b"), svc("c"), svc("d")})});
    auto p = plan(state({capp({})}), t, opts);
    CHECK(summaries(p) == strs{"fetch a", "fetch b", "fetch c", "noop d"});
    CHECK(noop_reason(p, "d")
          == "waiting for a download slot for registry/d:1");
  }

  TEST_CASE("downloads in flight count against the fetch limit") {
    auto t = target({app({svc("a"), svc("b"), svc("c")})});
    auto s = state({capp({})});
    s.downloading["registry/a:1"] = -1;
    s.downloading["other:1"] = 10;
    auto p = plan(s, t, opts);
    CHECK(summaries(p) == strs{"noop a", "fetch b", "noop c"});
    CHECK(noop_reason(p, "a") == "downloading registry/a:1 for a");
  }

  TEST_CASE("max_concurrent_fetches 0 means no limit") {
    auto t = target({app({svc("a"), svc("b"), svc("c"), svc("d")})});
    plan_options o;
    o.max_concurrent_fetches = 0;
    CHECK(count<steps::fetch_image>(plan(state({capp({})}), t, o)) == 4);
  }

  TEST_CASE("two services sharing an image fetch it once") {
    auto t = target({app(
      {with_image(svc("a"), "shared:1"), with_image(svc("b"), "shared:1")})});
    auto p = plan(state({capp({})}), t, opts);
    REQUIRE(summaries(p) == strs{"fetch a"});
    CHECK(first<steps::fetch_image>(p)->image == "shared:1");
  }

  TEST_CASE("the fetch limit is shared by all apps") {
    auto t = target(
      {app({svc("a"), svc("b")}, "a1", 1), app({svc("c"), svc("d")}, "a2", 2)});
    auto p = plan(state({capp({}, "a1", 1), capp({}, "a2", 2)}), t, opts);
    CHECK(summaries(p) == strs{"fetch a", "fetch b", "fetch c", "noop d"});
  }

  TEST_CASE("an app taking its lock fetches in the same pass") {
    auto t = target({app({svc("a"), svc("b"), svc("x")}, "a1", 1),
                     app({svc("c"), svc("d"), svc("e")}, "a2", 2)});
    auto a1 = capp({ctr("x", target_match::no_target)}, "a1", 1);
    a1.containers[0].service_name = "gone";
    auto p = plan(state({a1, capp({}, "a2", 2)}), t, opts);
    CHECK(summaries(p)
          == strs{"take_lock", "kill gone", "fetch a", "fetch b", "fetch x",
                  "noop c", "noop d", "noop e"});
  }

  TEST_CASE("downloads nobody waits for keep the loop alive") {
    auto t = two();
    auto s = state({capp({ctr("web"), ctr("db")})}, t);
    s.downloading["stale:1"] = 50;
    auto p = plan(s, t, opts);
    CHECK(summaries(p) == strs{"noop"});
    CHECK(only_noops(p));
  }

  TEST_CASE("a service whose container matches needs no fetch of its tag") {
    auto t = two();
    auto s = state({capp({ctr("web"), ctr("db")})});
    CHECK(plan(s, t, opts).empty());
  }
}

TEST_SUITE("planner: helpers") {
  TEST_CASE("service_networks: network_mode, networks, default, none") {
    CHECK(service_networks(svc("a")) == strs{"default"});
    CHECK(service_networks(on_network(on_network(svc("a"), "x"), "y"))
          == strs{"x", "y"});
    CHECK(service_networks(network_mode(on_network(svc("a"), "x"), "y"))
          == strs{"y", "x"});
    for (auto m : {"host", "bridge", "none", "service:db", "container:x"})
      CHECK(service_networks(network_mode(svc("a"), m)).empty());
  }

  TEST_CASE("service_volumes lists named volumes only") {
    auto s = mounts(mounts(svc("a"), "data"), "data");
    service_volume anon;
    anon.target = "/tmp";
    s.config.volumes.push_back(anon);
    service_volume bind;
    bind.kind = mount_kind::bind;
    bind.source = "/host";
    s.config.volumes.push_back(bind);
    CHECK(service_volumes(s) == strs{"data"});
  }

  TEST_CASE(
    "service_dependencies merges depends_on and service: network mode") {
    auto s = network_mode(
      depends(depends(svc("web"), "db"), "db", dependency_condition::healthy),
      "service:vpn");
    auto deps = service_dependencies(s);
    REQUIRE(deps.size() == 2);
    CHECK(deps[0].service == "db");
    CHECK(deps[0].condition == dependency_condition::healthy);
    CHECK(deps[1].service == "vpn");
    CHECK(deps[1].condition == dependency_condition::started);
  }

  TEST_CASE(
    "app_networks adds default, ConfigOnly when all services use host") {
    auto a = with_network(app({svc("web")}), "zeta");
    auto nets = app_networks(a);
    REQUIRE(nets.size() == 2);
    CHECK(nets[0].name == "default");
    CHECK_FALSE(nets[0].config_only);
    CHECK(nets[1].name == "zeta");
    auto host = app({network_mode(svc("web"), "host")});
    CHECK(app_networks(host)[0].config_only);
    CHECK_FALSE(app_networks(app({}))[0].config_only);
  }

  TEST_CASE("a release that defines default configures it") {
    auto a = with_network(app({svc("web")}), "default", "10.9.0.0/16");
    auto nets = app_networks(a);
    REQUIRE(nets.size() == 1);
    CHECK(nets[0].ipam.config.at(0).subnet == "10.9.0.0/16");
  }

  TEST_CASE("describe says what and why in one line") {
    steps::kill_service k{"a1", 1, "web", "0123456789abcdef", "web changed"};
    CHECK(describe(k) == "kill web (0123456789ab) of app a1: web changed");
    steps::noop n{"", "", "waiting"};
    CHECK(describe(n) == "wait: waiting");
    steps::take_lock l{"a1", 1, {"web"}, true, "take it"};
    CHECK(describe(l) == "take lock (force) of app a1: take it");
  }
}
