// app_manager tells its subscribers (cloud_sync) when the apps view
// changes (apps_subscribe, apps_view_changed): the current view at once,
// every change without being asked, bursts coalesced to one view per
// notify_interval with the last change delivered, and a subscriber that
// terminates is dropped.
#include "tests/unit/app_manager/fixture.hpp"

using namespace bosun;
using namespace bosun::amtest;

namespace {

struct heard {
  std::vector<apps_view> views;
};

apps_listener_actor::behavior_type listener(apps_listener_actor::pointer,
                                            std::shared_ptr<heard> h) {
  return {[h](apps_view_changed& m) { h->views.push_back(std::move(m.view)); }};
}

struct subscribed : deterministic {
  std::shared_ptr<heard> h = std::make_shared<heard>();
  apps_listener_actor probe = sys.spawn(listener, h);

  subscribed() {
    caf::anon_send(am, apps_subscribe{probe});
    run();
  }
  ~subscribed() {
    self->send_exit(probe, caf::exit_reason::user_shutdown);
    run();
  }

  const service_view* last_service(const std::string& name) const {
    if (h->views.empty() || h->views.back().apps.empty())
      return nullptr;
    for (auto& s : h->views.back().apps.front().services)
      if (s.service_name == name)
        return &s;
    return nullptr;
  }
};

} // namespace

TEST_SUITE("app_manager tells its subscribers the apps view") {
  TEST_CASE_FIXTURE(subscribed, "the current view comes at once, and each "
                                "change without asking") {
    REQUIRE(h->views.size() == 1); // at once: no apps yet
    CHECK(h->views.front().apps.empty());
    CHECK(status().listeners == 1);
    apply(target_of({service("web"), service("db")}));
    settle();
    auto* web = last_service("web");
    REQUIRE(web != nullptr);
    CHECK(web->status == "Running");
    CHECK_FALSE(h->views.back().applying);
    // The device API stops web: the subscriber hears it.
    auto n = h->views.size();
    REQUIRE(act(service_action_kind::stop, "web"));
    advance(opts.notify_interval); // Stopping, then (coalesced) exited
    CHECK(h->views.size() > n);
    web = last_service("web");
    REQUIRE(web != nullptr);
    CHECK(web->status == "exited");
    // Nothing changes: nothing is sent.
    n = h->views.size();
    for (int i = 0; i < 60; ++i)
      advance(1s);
    CHECK(h->views.size() == n);
  }

  TEST_CASE_FIXTURE(subscribed, "a pull's progress is coalesced: a bounded "
                                "number of views, the last value in the last") {
    auto web = service("web");
    img->hold.insert(web.image);
    apply(target_of({web}));
    run();
    auto* s = last_service("web");
    REQUIRE(s != nullptr);
    CHECK(s->image_status == "Downloading");
    auto n = h->views.size();
    // 200 progress updates over 2 s (one per 10 ms).
    for (int pct = 1; pct <= 200; ++pct) {
      image_progress p;
      p.image = web.image;
      p.percent = pct / 2;
      caf::anon_send(am, p);
      advance(10ms);
    }
    advance(opts.notify_interval);
    auto sent = h->views.size() - n;
    // One per 250 ms at most over these 2.25 s (the 1 s re-plans change
    // nothing); 100 without coalescing.
    CHECK(sent >= 2);
    CHECK(sent <= 10);
    s = last_service("web");
    REQUIRE(s != nullptr);
    REQUIRE(s->download_progress);
    CHECK(*s->download_progress == 100);
    CHECK(status().views_sent == h->views.size());
  }

  TEST_CASE_FIXTURE(subscribed, "a change right after a send waits for the "
                                "interval, and is not lost") {
    auto web = service("web");
    img->hold.insert(web.image);
    apply(target_of({web}));
    advance(1s);
    auto n = h->views.size();
    image_progress p;
    p.image = web.image;
    p.percent = 10;
    caf::anon_send(am, p);
    run();
    REQUIRE(h->views.size() == n + 1); // at once: nothing sent for 1 s
    p.percent = 20;
    caf::anon_send(am, p);
    advance(opts.notify_interval - 1ms);
    CHECK(h->views.size() == n + 1);
    advance(1ms);
    REQUIRE(h->views.size() == n + 2);
    CHECK(*last_service("web")->download_progress == 20);
  }

  TEST_CASE_FIXTURE(subscribed, "a subscriber that terminates is dropped; a "
                                "restarted app_manager serves a new one") {
    CHECK(status().listeners == 1);
    self->send_exit(probe, caf::exit_reason::user_shutdown);
    run();
    CHECK(status().listeners == 0);
    apply(target_of({service("web")}));
    settle();
    restart_manager();
    auto h2 = std::make_shared<heard>();
    auto probe2 = sys.spawn(listener, h2);
    caf::anon_send(am, apps_subscribe{probe2});
    run();
    REQUIRE(h2->views.size() == 1);
    REQUIRE(h2->views.front().apps.size() == 1);
    CHECK(h2->views.front().apps.front().services.front().status == "Running");
    self->send_exit(probe2, caf::exit_reason::user_shutdown);
    run();
  }
}
