// The planner in a loop against a simulated device: executing each plan's
// steps must reach the target in a bounded number of passes, from several
// starting points, without breaking an ordering rule on the way (the world
// CHECKs: lock held for kills, networks unused when removed, new containers
// only once images, networks, volumes and dependencies are ready).
#include "actors/apps/planner.hpp"
#include "tests/unit/apps_planner/fixtures.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::test;

namespace {

// Release 1: a web front, a db with a volume on a backend network, a worker
// that waits for a healthy db.
target_state release1() {
  auto web = on_network(on_network(svc("web"), "default"), "backend");
  auto db = with_healthcheck(mounts(
    on_network(strategy(svc("db"), "kill-then-download"), "backend"), "data"));
  auto worker = depends(svc("worker"), "db", dependency_condition::healthy);
  auto a = app({web, db, worker}, "a1", 1, "c1");
  a = with_network(with_volume(a, "data"), "backend", "172.28.0.0/16");
  return target({a});
}

// Release 2 of the same app: web's image changes (download-then-kill), db's
// image changes (kill-then-download), worker is the same (rename only), a new
// cache service appears and an api service with hand-over.
target_state release2() {
  auto t = release1();
  auto& a = t.apps[0];
  a.commit = "c2";
  a.release_id = 3;
  for (auto& s : a.services)
    if (s.name == "web" || s.name == "db")
      s.image = "registry/" + s.name + ":2";
  a.services.push_back(svc("cache"));
  a.services.push_back(strategy(svc("api"), "hand-over"));
  std::sort(a.services.begin(), a.services.end(),
            [](const auto& x, const auto& y) { return x.name < y.name; });
  return t;
}

void require_converged(const outcome& o, int max_passes) {
  INFO("passes: " << o.passes);
  for (const auto& s : o.last)
    INFO("last plan: " << describe(s));
  REQUIRE(o.converged);
  CHECK(o.passes <= max_passes);
}

} // namespace

TEST_SUITE("planner: convergence") {
  TEST_CASE("a fresh device installs release 1") {
    world w;
    auto t = release1();
    auto o = converge(w, t);
    require_converged(o, 10);
    check_at_target(w, t);
    CHECK(w.kills == 0);
  }

  TEST_CASE("a device at its target converges at once") {
    world w;
    auto t = release1();
    w.install(t);
    auto o = converge(w, t);
    require_converged(o, 1);
    CHECK(w.log.empty());
  }

  TEST_CASE("release 1 → release 2 with every strategy") {
    world w;
    w.install(release1());
    auto t = release2();
    auto o = converge(w, t);
    require_converged(o, 15);
    check_at_target(w, t);
    // web and db recreated; worker renamed, not recreated.
    CHECK(w.kills == 2);
  }

  TEST_CASE("release 2 → release 1 drops services and keeps the volume") {
    world w;
    w.install(release2());
    auto t = release1();
    auto o = converge(w, t);
    require_converged(o, 15);
    check_at_target(w, t);
  }

  TEST_CASE("a network config change recreates the network and its users") {
    world w;
    w.install(release1());
    auto t = release1();
    t.apps[0].networks[0].ipam.config[0].subnet = "172.29.0.0/16";
    auto o = converge(w, t);
    require_converged(o, 12);
    check_at_target(w, t);
  }

  TEST_CASE("a volume config change recreates the volume and its users") {
    world w;
    w.install(release1());
    auto t = release1();
    t.apps[0].volumes[0].driver_opts["size"] = "1g";
    auto o = converge(w, t);
    require_converged(o, 12);
    check_at_target(w, t);
  }

  TEST_CASE("an app that leaves the target is removed entirely") {
    world w;
    w.install(release1());
    auto t = target({});
    auto o = converge(w, t);
    require_converged(o, 8);
    check_at_target(w, t);
  }

  TEST_CASE("in local mode an app that leaves keeps its volumes") {
    world w;
    w.install(release1());
    auto t = target({});
    plan_options local;
    local.local_mode = true;
    auto o = converge(w, t, local);
    require_converged(o, 8);
    check_at_target(w, t, true);
    CHECK(w.apps.at("a1").volumes.count("data") == 1);
  }

  TEST_CASE("one app replaces another") {
    world w;
    w.install(release1());
    auto t = target({app({svc("solo")}, "b2", 2, "x1")});
    auto o = converge(w, t);
    require_converged(o, 10);
    check_at_target(w, t);
  }

  TEST_CASE("a messy device: duplicates, dead containers, stray networks") {
    world w;
    auto t = release1();
    w.install(t);
    auto& a = w.apps.at("a1");
    auto dup = a.containers[0];
    dup.k.id = "dup";
    dup.k.created = -1;
    auto dead = a.containers[1];
    dead.k.id = "dead";
    dead.k.status = container_status::dead;
    a.containers.push_back(dup);
    a.containers.push_back(dead);
    target_network stray;
    stray.name = "stray";
    a.networks.push_back({"stray-id", stray});
    a.commit = "";
    auto o = converge(w, t);
    require_converged(o, 8);
    check_at_target(w, t);
  }

  TEST_CASE("a crashed container is left to its supervisor") {
    world w;
    auto t = release1();
    w.install(t);
    for (auto& c : w.apps.at("a1").containers)
      if (c.k.service_name == "web")
        c.k.status = container_status::exited;
    auto o = converge(w, t);
    require_converged(o, 1);
    CHECK(w.starts == 3); // the install's, none since
  }

  TEST_CASE("running flips: stop, then start again") {
    world w;
    auto t = release1();
    w.install(t);
    auto off = t;
    for (auto& s : off.apps[0].services)
      if (s.name == "web")
        s.running = false;
    require_converged(converge(w, off), 4);
    check_at_target(w, off);
    require_converged(converge(w, t), 4);
    check_at_target(w, t);
  }

  TEST_CASE("a user lock without force stops the apply at take_lock") {
    world w;
    w.install(release1());
    w.apps.at("a1").user_locks = {"web"};
    auto t = release2();
    auto o = converge(w, t, {}, 12);
    CHECK_FALSE(o.converged);
    CHECK(w.kills == 0);
    for (const auto& c : w.apps.at("a1").containers)
      CHECK(c.k.commit == "c1");
    plan_options force;
    force.force = true;
    require_converged(converge(w, t, force), 15);
    check_at_target(w, t);
  }

  TEST_CASE("many services converge within the fetch limit") {
    world w;
    std::vector<target_service> services;
    for (char c = 'a'; c <= 'j'; ++c)
      services.push_back(svc(std::string(1, c)));
    auto t = target(
      {app(services, "a1", 1, "c1"), app({svc("k"), svc("l")}, "a2", 2, "c9")});
    auto o = converge(w, t);
    require_converged(o, 10);
    check_at_target(w, t);
  }

  TEST_CASE(
    "a service stopped through the API stays stopped across a release") {
    world w;
    w.install(release1());
    auto& a = w.apps.at("a1");
    a.user_stopped = {"web"};
    for (auto& c : a.containers)
      if (c.k.service_name == "web") {
        c.k.status = container_status::exited;
        c.k.stopped_by_agent = true;
      }
    auto t = release2();
    require_converged(converge(w, t), 15);
    check_at_target(w, t);
  }

  TEST_CASE("service:X network mode converges") {
    world w;
    auto t = target(
      {app({network_mode(svc("sidecar"), "service:vpn"), svc("vpn")})});
    require_converged(converge(w, t), 8);
    check_at_target(w, t);
  }
}
