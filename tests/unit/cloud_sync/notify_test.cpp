// cloud_sync learns of app changes from app_manager (apps_subscribe,
// apps_view_changed), never by asking for the view: a change reaches the
// report without a poll, and the subscription survives a restart of either
// side under root (rest-for-one).
#include "actors/root/root.hpp"
#include "tests/unit/cloud_sync/fixture.hpp"

namespace {

struct under_root : deterministic {
  std::vector<caf::actor> managers; // every fake app_manager root spawned
  root_actor root;

  // root with two children, as the agent has them: app_manager (the fake)
  // and cloud_sync after it.
  void start_root() {
    std::ofstream(config_path()) << "{}";
    root_options ro;
    auto w = apps;
    ro.children.push_back(
      core_child(&core_actors::app_manager,
                 [this, w](caf::actor_system& s, const core_actors&) {
                   managers.push_back(s.spawn(fake_app_manager, w));
                   return caf::actor_cast<app_manager_actor>(managers.back());
                 }));
    auto o = options(true);
    ro.children.push_back(
      core_child(&core_actors::cloud_sync,
                 [o](caf::actor_system& s, const core_actors& c) {
                   cloud_sync_deps d;
                   d.apps = c.app_manager;
                   return spawn_cloud_sync(s, d, o);
                 }));
    ro.log = std::make_shared<const logger>(log_level::error);
    root = spawn_root(sys, std::move(ro));
    sched.run();
    sync = core().cloud_sync;
  }

  core_actors core() {
    auto h = self->request(root, caf::infinite, caf::get_atom_v, core_atom_v);
    sched.run();
    core_actors out;
    h.receive([&](core_actors& c) { out = c; },
              [&](caf::error& e) { FAIL(sys.render(e)); });
    return out;
  }

  void crash(const caf::actor& a) {
    self->send_exit(a, caf::make_error(caf::sec::runtime_error, "boom"));
    sched.run();
  }

  ~under_root() {
    if (root)
      self->send_exit(root, caf::exit_reason::user_shutdown);
    sync = nullptr;
    sched.run();
  }
};

std::string web_status(const std::string& status) {
  return R"("web":{"image":"reg/web:1","status":")" + status + R"("})";
}

} // namespace

TEST_SUITE("cloud_sync and app_manager's view") {
  TEST_CASE_FIXTURE(deterministic,
                    "a change in app_manager reaches the report without "
                    "cloud_sync asking for the view") {
    start(options(true));
    settle_first_poll();
    CHECK(apps->listeners.size() == 1);
    auto first = take("PATCH", "/device/v3/state");
    CHECK(first.req.body.find(web_status("Running")) != std::string::npos);
    answer(first, 200);
    // An hour of nothing: no report, and nothing asked of app_manager.
    // (Past the silence check at 3600 s: a change waits 10 s after one.)
    advance(3650s);
    CHECK(pending("PATCH", "/device/v3/state") == 0);
    take("GET", "/device/v3/"); // the periodic polls go on
    // The service exits: app_manager says so, and the report follows.
    set_web("exited");
    sched.run();
    auto second = take("PATCH", "/device/v3/state");
    CHECK(second.req.body.find(web_status("exited")) != std::string::npos);
    answer(second, 200);
    CHECK(apps->view_requests == 0);
    CHECK(apps->views_sent == 3); // at the subscription, the target, exited
  }

  TEST_CASE_FIXTURE(under_root,
                    "after app_manager restarts, the fresh cloud_sync "
                    "subscribes to the fresh app_manager and gets its view") {
    start_root();
    settle_first_poll();
    auto first = take("PATCH", "/device/v3/state");
    answer(first, 200);
    REQUIRE(managers.size() == 1);
    REQUIRE(apps->listeners.size() == 1);
    auto first_sync = caf::actor_cast<caf::actor>(sync);
    // The service exited while app_manager was down: its new instance
    // shows it.
    set_web("exited");
    sched.run();
    apps->views_sent = 0;
    auto before = apps->listeners.size();
    crash(managers.front());
    REQUIRE(managers.size() == 2);
    sync = core().cloud_sync;
    REQUIRE(sync);
    CHECK(caf::actor_cast<caf::actor>(sync) != first_sync);
    REQUIRE(apps->listeners.size() == before + 1);
    CHECK(apps->listeners.back().address() == sync.address());
    CHECK(apps->views_sent == 1); // the view, at once
    settle_first_poll();
    auto r = take("PATCH", "/device/v3/state");
    CHECK(r.req.body.find(web_status("exited")) != std::string::npos);
    CHECK(apps->view_requests == 0);
  }

  TEST_CASE_FIXTURE(under_root,
                    "after cloud_sync restarts, the fresh one subscribes to "
                    "the same app_manager and gets its view") {
    start_root();
    settle_first_poll();
    auto first = take("PATCH", "/device/v3/state");
    answer(first, 200);
    REQUIRE(apps->listeners.size() == 1);
    set_web("exited");
    sched.run();
    apps->views_sent = 0;
    crash(caf::actor_cast<caf::actor>(sync));
    CHECK(managers.size() == 1); // app_manager was not restarted
    sync = core().cloud_sync;
    REQUIRE(sync);
    REQUIRE(apps->listeners.size() == 2);
    CHECK(apps->listeners.back().address() == sync.address());
    CHECK(apps->views_sent == 1);
    settle_first_poll();
    auto r = take("PATCH", "/device/v3/state");
    CHECK(r.req.body.find(web_status("exited")) != std::string::npos);
    CHECK(apps->view_requests == 0);
  }
}
