// app_manager pins (issue 12): the pass loop under a newer target, a failed
// download, and an app leaving the target.
#include "tests/unit/app_manager/fixture.hpp"

using namespace bosun;
using namespace bosun::amtest;

namespace {

bool any_call(const world& w, const std::string& needle) {
  for (auto& c : w.calls)
    if (c.find(needle) != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST_CASE("a new target while a pass runs supersedes it") {
  deterministic t;
  t.w->hold_lists = true; // the first pass stops in its engine read
  CHECK(t.apply(target_of({service("old")})) == 1);
  REQUIRE(t.w->held == 1);
  CHECK(t.status().passes == 1);
  // A pass that is still reading the engine already says it applies.
  CHECK(t.status().state == apps_state::applying);
  CHECK(t.apply(target_of({service("new")})) == 2);
  CHECK(t.w->held == 1); // no second pass while one runs
  auto before = t.w->calls.size();
  t.release_lists();
  // The held pass is abandoned at its first step boundary: the next thing
  // asked of the engine is a fresh read, not a step of the stale pass.
  REQUIRE(t.w->calls.size() > before);
  // (The held read completes first: it has no container to inspect.) The
  // next request is the new pass reading the new target's image.
  CHECK(t.w->calls[before] == "image registry.local/new:1");
  t.settle();
  // The old target's pass planned nothing: no fetch, no container of it.
  for (auto& f : t.img->fetches)
    CHECK(f != "registry.local/old:1");
  CHECK_FALSE(any_call(*t.w, "create old_"));
  REQUIRE(t.w->containers.size() == 1);
  CHECK(t.running("new"));
  auto st = t.status();
  CHECK(st.state == apps_state::idle);
  REQUIRE(t.db_state->target.has_value());
  CHECK(t.db_state->target->apps[0].services[0].name == "new");
}

TEST_CASE("a failed image fetch shows; a good target recovers") {
  deterministic t;
  const std::string image = "registry.local/web:1";
  t.img->fail[image] = "manifest unknown";
  t.apply(target_of({service("web"), service("db")}));
  t.run();
  auto st = t.status();
  REQUIRE(st.fetch_errors.count(image) == 1);
  CHECK(st.fetch_errors.at(image) == "manifest unknown");
  CHECK(st.state == apps_state::applying);
  CHECK(st.failures == 0); // the pass itself did not fail: it waits
  auto v = t.view();
  CHECK(v.update_failed);
  CHECK(v.applying);
  REQUIRE(v.apps.size() == 1);
  CHECK(v.apps[0].update_status == "aborted");
  for (auto& s : v.apps[0].services)
    if (s.service_name == "web") {
      CHECK(s.image_status == "Download failed");
      CHECK(s.container_id.empty());
    }
  // db's image came, but nothing is installed before every image is there.
  CHECK(t.w->containers.empty());
  bool told = false;
  for (auto& l : t.line_texts())
    told = told || l.find("manifest unknown") != std::string::npos;
  CHECK(told);
  // The failure is retried after 30 s only: no fetch before that (view()
  // moved the clock 1 s already).
  auto fetches = t.img->fetches.size();
  CHECK(fetches == 2);
  t.advance(std::chrono::seconds(28));
  CHECK(t.img->fetches.size() == fetches);
  t.img->fail.clear();
  // A new target clears the failure and fetches at once.
  t.apply(target_of({service("web"), service("db")}));
  t.settle();
  CHECK(t.img->fetches.size() == fetches + 1);
  st = t.status();
  CHECK(st.fetch_errors.empty());
  CHECK(st.state == apps_state::idle);
  CHECK(t.running("web"));
  CHECK(t.running("db"));
  CHECK_FALSE(t.view().update_failed);
}

TEST_CASE("a failed fetch is retried by itself after 30 s") {
  deterministic t;
  const std::string image = "registry.local/web:1";
  t.img->fail[image] = "manifest unknown";
  t.apply(target_of({service("web")}));
  t.run();
  REQUIRE(t.status().fetch_errors.count(image) == 1);
  t.img->fail.clear();
  t.advance(std::chrono::seconds(31));
  t.settle();
  CHECK(t.status().fetch_errors.empty());
  CHECK(t.running("web"));
  CHECK(t.status().state == apps_state::idle);
}

TEST_CASE("a failed fetch is tried again as soon as the engine is back") {
  // Found by e2e.engine: a pull cut by an engine restart waited out the
  // 30 s meant for a failing registry once the engine was back.
  deterministic t;
  const std::string image = "registry.local/web:1";
  t.img->fail[image] = "engine restarted";
  t.apply(target_of({service("web")}));
  t.run();
  REQUIRE(t.status().fetch_errors.count(image) == 1);
  t.img->fail.clear();
  for (auto s : {engine_state::down, engine_state::up}) {
    engine_status es;
    es.state = s;
    caf::anon_send(t.am, es);
    t.run();
  }
  t.settle(); // 20 s of virtual time: before the 30 s retry
  CHECK(t.status().fetch_errors.empty());
  CHECK(t.running("web"));
}

namespace {

target_state two_apps() {
  auto t = target_of({service("web"), service("db")}, 1);
  auto other = target_of({service("x")}, 2);
  t.apps.push_back(other.apps[0]);
  return t;
}

} // namespace

TEST_CASE("an app removed from the target: containers, networks go") {
  for (bool local : {true, false}) {
    CAPTURE(local);
    deterministic t(local);
    auto tg = two_apps();
    if (!local)
      tg.source = target_source::cloud;
    t.apply(tg);
    t.settle();
    REQUIRE(t.w->containers.size() == 3);
    REQUIRE(t.w->has_network("1_default"));
    REQUIRE(t.w->has_network("2_default"));
    auto x = t.w->id_of("x");
    tg.apps.erase(tg.apps.begin());
    t.apply(tg);
    t.settle();
    REQUIRE(t.w->containers.size() == 1);
    CHECK(t.w->id_of("x") == x); // the other app is untouched
    CHECK(t.running("x"));
    CHECK_FALSE(t.w->has_network("1_default"));
    CHECK(t.w->has_network("2_default"));
    // Local mode keeps the data of an app that goes (as balena); otherwise
    // its volumes go too.
    CHECK(t.w->volumes.count("1_data") == (local ? 1 : 0));
    CHECK(t.w->volumes.count("2_data") == 1);
    CHECK(t.status().state == apps_state::idle);
  }
}
