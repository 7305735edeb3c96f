// Two whole agents side by side in one actor system, each with its own data
// dir and its own simulated engine. Each gets its own target; nothing of one
// may show up in the other: containers and images on its engine, telemetry,
// logs (the log stream, the persistent log and the agent's own log), the
// database and the API keys.
#include "tests/unit/fleet/fixture.hpp"

namespace bosun::fleettest {
namespace {

struct two_agents : agents {
  one& alpha = add();
  one& beta = add();

  two_agents() {
    start(alpha, "alpha", 1, 11);
    start(beta, "beta", 2, 22);
  }
};

} // namespace

TEST_SUITE("two agents in one process") {
  TEST_CASE_FIXTURE(two_agents, "each agent's target, containers, telemetry, "
                                "logs, database and keys stay its own") {
    apply(alpha);
    apply(beta);

    // Containers and images: each engine holds its own agent's only.
    for (auto* o : {&alpha, &beta}) {
      auto cs = containers(*o);
      REQUIRE(cs.size() == 1);
      CHECK(cs[0].names[0].rfind("/" + o->service + "_", 0) == 0);
      CHECK(cs[0].labels.at("io.balena.app-id") == std::to_string(o->app_id));
      auto imgs = ask<image_list>(o->engine, image_list_req{});
      REQUIRE(imgs.size() == 1);
      CHECK(imgs[0].repo_tags == string_list{"reg.local/" + o->service + ":1"});
      auto vols = ask<volume_list>(o->engine, volume_list_req{});
      REQUIRE(vols.volumes.size() == 1);
      CHECK(vols.volumes[0].name == std::to_string(o->app_id) + "_data");
    }

    // Logs: lines written on one engine reach that agent's readers only.
    self->send(alpha.engine, sim::sim_write_logs{"alpha", 3, false});
    self->send(beta.engine, sim::sim_write_logs{"beta", 2, false});
    auto count = [](one& o, const std::string& what) {
      size_t n = 0;
      for (const auto& m : o.lines->copy())
        n += m.find(what) != std::string::npos ? 1 : 0;
      return n;
    };
    test::eventually(
      10s, [&] { return count(alpha, "alpha_") >= 4; },
      "alpha's lines at alpha's reader");
    test::eventually(
      10s, [&] { return count(beta, "beta_") >= 3; },
      "beta's lines at beta's reader");
    CHECK(count(alpha, "beta") == 0);
    CHECK(count(beta, "alpha") == 0);

    // Telemetry: each agent's snapshot walks its own tree.
    for (auto* o : {&alpha, &beta}) {
      auto* other = o == &alpha ? &beta : &alpha;
      auto tel = core(*o).telemetry;
      auto snap = ask<telemetry_snapshot>(tel, collect_telemetry{o->a.root});
      REQUIRE(snap.apps);
      REQUIRE(snap.apps->services.size() == 1);
      CHECK(snap.apps->services[0].service_name == o->service);
      REQUIRE(snap.engine);
      CHECK(snap.engine->state == engine_state::up);
      bool own = false;
      for (const auto& r : snap.actors) {
        CHECK(r.name.find(other->service) == std::string::npos);
        own = own || r.name.find(o->service) != std::string::npos;
      }
      CHECK(own);
    }

    // Database and keys: own uuid, own target, own key.
    CHECK(alpha.a.uuid != beta.a.uuid);
    CHECK(alpha.a.api_key != beta.a.api_key);
    for (auto* o : {&alpha, &beta}) {
      auto* other = o == &alpha ? &beta : &alpha;
      auto db = core(*o).db;
      auto stored
        = ask<std::optional<target_state>>(db, caf::get_atom_v, target_atom_v);
      REQUIRE(stored);
      REQUIRE(stored->apps.size() == 1);
      CHECK(stored->apps[0].app_id == o->app_id);
      auto uuid = ask<std::optional<std::string>>(
        db, caf::get_atom_v, config_kv_atom_v, std::string{"uuid"});
      CHECK(uuid == std::optional<std::string>{o->a.uuid});
      auto keys = core(*o).api_keys;
      CHECK(ask<std::string>(keys, caf::get_atom_v, global_key_atom_v)
            == o->a.api_key);
      CHECK(!ask<std::optional<api_key_record>>(
        keys, caf::get_atom_v, api_key_atom_v, other->a.api_key));
    }

    // Files: each data dir's persistent log and agent log name only its own.
    for (auto* o : {&alpha, &beta}) {
      auto* other = o == &alpha ? &beta : &alpha;
      test::eventually(
        10s,
        [&] {
          return slurp(o->dir / "logs" / "bosun.log").find(o->service + "_")
                 != std::string::npos;
        },
        o->service + "'s persistent log");
      auto plog = slurp(o->dir / "logs" / "bosun.log");
      CHECK(plog.find(other->service) == std::string::npos);
      auto alog = slurp(o->dir / "agent.log");
      CHECK(alog.find(o->service) != std::string::npos);
      CHECK(alog.find(other->service) == std::string::npos);
      CHECK(alog.find(other->a.uuid) == std::string::npos);
    }
  }
}

} // namespace bosun::fleettest
