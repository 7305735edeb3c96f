// The app_manager's engine view (issue 12): kept current from the engine's
// events and bosun's own steps; read in full only at the start, after a
// reconnect, or when the engine contradicts it.
#include "tests/unit/app_manager/fixture.hpp"

using namespace bosun;
using namespace bosun::amtest;

namespace {

std::vector<std::string> calls_with(const world& w, const std::string& prefix) {
  std::vector<std::string> out;
  for (auto& c : w.calls)
    if (c.rfind(prefix, 0) == 0)
      out.push_back(c);
  return out;
}

void engine_goes(deterministic& t, engine_state s) {
  engine_status es;
  es.state = s;
  caf::anon_send(t.am, es);
  t.run();
}

} // namespace

TEST_CASE("an external change reaches the view through its event") {
  deterministic t;
  auto target = target_of({service("web"), service("db")});
  t.apply(target);
  t.settle();
  auto db = t.w->id_of("db");
  REQUIRE_FALSE(db.empty());
  auto name = t.w->containers.at(db).spec.name;
  // Someone renames db's container (docker rename): dockerd says so.
  t.w->containers.at(db).spec.name = "renamed";
  t.w->emit(db, "rename");
  t.run();
  t.w->calls.clear();
  t.apply(target); // the same target again: a pass
  t.settle();
  // The pass read just that container, and put its name back.
  CHECK(calls_with(*t.w, "list").empty());
  auto inspects = calls_with(*t.w, "inspect ");
  REQUIRE_FALSE(inspects.empty());
  for (auto& c : inspects)
    CHECK(c == "inspect " + db);
  CHECK(t.w->count_prefix("rename " + db) == 1);
  CHECK(t.w->containers.at(db).spec.name == name);
  CHECK(t.status().engine_full_reads == 1);
}

TEST_CASE("a reconnect causes exactly one full re-read") {
  deterministic t;
  t.apply(target_of({service("web"), service("db")}));
  t.settle();
  CHECK(t.status().engine_full_reads == 1);
  t.w->calls.clear();
  engine_goes(t, engine_state::down);
  engine_goes(t, engine_state::up);
  t.settle();
  auto st = t.status();
  CHECK(st.engine_full_reads == 2);
  CHECK(t.w->count_prefix("list") == 1);
  CHECK(st.state == apps_state::idle);
  CHECK(t.w->containers.size() == 2); // nothing was recreated
  // "Up" again without having been down reads nothing more.
  engine_goes(t, engine_state::up);
  t.settle();
  CHECK(t.status().engine_full_reads == 2);
  CHECK(t.w->count_prefix("list") == 1);
}

TEST_CASE("an engine error that contradicts the view reads it in full") {
  deterministic t;
  auto target = target_of({service("web")});
  t.apply(target);
  t.settle();
  auto web = t.w->id_of("web");
  REQUIRE_FALSE(web.empty());
  // The container vanishes without an event (a stream that lost it).
  t.w->containers.erase(web);
  // A new release: the planner renames the container it believes in.
  target.apps[0].release_id = 8;
  target.apps[0].commit = "def";
  t.apply(target);
  t.settle();
  CHECK(t.w->count_prefix("rename " + web) == 1); // refused: no such
  CHECK(t.status().engine_full_reads == 2);
  CHECK(t.running("web")); // recreated from the fresh read
  CHECK(t.status().state == apps_state::idle);
}

TEST_CASE("bosun's own steps keep the view current without re-listing") {
  deterministic t;
  t.apply(target_of({service("web"), service("db")}));
  t.settle();
  t.w->calls.clear();
  // A new service and a new volume: created, then read back one by one.
  auto target = target_of({service("web"), service("db"), service("cache")});
  target_volume v;
  v.name = "more";
  target.apps[0].volumes.push_back(v);
  t.apply(target);
  t.settle();
  CHECK(t.running("cache"));
  CHECK(t.w->volumes.count("1_more") == 1);
  CHECK(t.w->count_prefix("list") == 0);
  CHECK(t.status().engine_full_reads == 1);
  CHECK(t.status().state == apps_state::idle);
}
