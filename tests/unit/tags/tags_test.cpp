// The tags actor on the deterministic scheduler against a scripted db: it
// answers reads from what it loaded, stores a change before answering it,
// and a failed store changes nothing.
#include "actors/tags/tags.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <doctest/doctest.h>

using namespace bosun;

namespace {

struct fake_tags_db {
  std::map<std::string, device_tag> rows; // by name
  int64_t next_id = 1;
  int reads = 0;
  bool fail_puts = false;
};

caf::behavior fake_db(caf::event_based_actor*,
                      std::shared_ptr<fake_tags_db> db) {
  return {
    [db](caf::get_atom, device_tags_atom) {
      ++db->reads;
      std::vector<device_tag> out;
      for (auto& [name, t] : db->rows)
        out.push_back(t);
      return out;
    },
    [db](caf::put_atom, device_tags_atom,
         const std::map<std::string, std::string>& tags) -> caf::result<void> {
      if (db->fail_puts)
        return caf::make_error(db_errc::query_failed, "disk full");
      for (auto& [name, value] : tags) {
        auto& row = db->rows[name];
        if (row.id == 0)
          row = device_tag{db->next_id++, name, value};
        row.value = value;
      }
      return caf::unit;
    },
  };
}

caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

struct tags_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{testing(cfg)};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<fake_tags_db> db = std::make_shared<fake_tags_db>();
  caf::actor db_handle = sys.spawn(fake_db, db);
  tags_actor tags;

  void start() {
    tags = spawn_tags(sys, caf::actor_cast<db_actor>(db_handle),
                      std::make_shared<const logger>(log_level::error));
    sched.run();
  }
  ~tags_fixture() {
    if (tags)
      caf::anon_send_exit(tags, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(db_handle, caf::exit_reason::user_shutdown);
    sched.run();
  }

  std::vector<device_tag> get() {
    caf::scoped_actor self{sys};
    auto h
      = self->request(tags, caf::infinite, caf::get_atom_v, device_tags_atom_v);
    sched.run();
    std::vector<device_tag> out;
    h.receive([&](std::vector<device_tag>& t) { out = std::move(t); },
              [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  caf::error put(std::map<std::string, std::string> kv) {
    caf::scoped_actor self{sys};
    auto h = self->request(tags, caf::infinite, caf::put_atom_v,
                           device_tags_atom_v, std::move(kv));
    sched.run();
    caf::error out;
    h.receive([] {}, [&](caf::error& e) { out = std::move(e); });
    return out;
  }
};

} // namespace

TEST_SUITE("tags") {
  TEST_CASE_FIXTURE(tags_fixture, "answers the stored tags from memory") {
    db->rows["zone"] = device_tag{4, "zone", "eu"};
    start();
    CHECK(db->reads == 1);
    CHECK(get() == std::vector<device_tag>{{4, "zone", "eu"}});
    CHECK(get() == std::vector<device_tag>{{4, "zone", "eu"}});
    CHECK(db->reads == 1);
  }

  TEST_CASE_FIXTURE(tags_fixture,
                    "a change is stored before it is answered, keeping the "
                    "other tags, with the ids db gave") {
    db->rows["zone"] = device_tag{1, "zone", "eu"};
    db->next_id = 2;
    start();
    CHECK_FALSE(put({{"rack", "7"}, {"zone", "us"}}));
    CHECK(db->rows["rack"] == device_tag{2, "rack", "7"});
    CHECK(get()
          == std::vector<device_tag>{{2, "rack", "7"}, {1, "zone", "us"}});
  }

  TEST_CASE_FIXTURE(tags_fixture,
                    "a failed store is the answer, and the tags stay") {
    db->rows["zone"] = device_tag{1, "zone", "eu"};
    start();
    db->fail_puts = true;
    CHECK(put({{"zone", "us"}}) == db_errc::query_failed);
    CHECK(get() == std::vector<device_tag>{{1, "zone", "eu"}});
  }
}
