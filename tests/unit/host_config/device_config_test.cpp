// The device_config actor against a temporary boot directory: what it
// writes, what it answers, and what it leaves alone.
#include "actors/host/device_config.hpp"
#include "persistence/db.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/process.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <chrono>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace bosun;
using namespace std::chrono_literals;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A worker that holds write jobs while shut (the disk as slow as the test
// wants) and tells `watcher` how many it holds; reads, and every job once
// it is opened again (ok_atom), go to the real worker. put_atom shuts it.
caf::behavior gate_impl(caf::event_based_actor* self,
                        device_config_io_actor real, caf::actor watcher) {
  struct held_job {
    caf::response_promise rp;
    boot_write job;
  };
  auto shut = std::make_shared<bool>(false);
  auto held = std::make_shared<std::vector<held_job>>();
  self->link_to(real);
  auto forward = [self, real](caf::response_promise rp, const boot_write& w) {
    self->request(real, caf::infinite, w)
      .then([rp](boot_written& out) mutable { rp.deliver(std::move(out)); },
            [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
  };
  return {
    [self, real](const boot_read& r) {
      auto rp = self->make_response_promise();
      self->request(real, caf::infinite, r)
        .then([rp](boot_contents& c) mutable { rp.deliver(std::move(c)); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self, real](reboot_due_check c) {
      auto rp = self->make_response_promise();
      self->request(real, caf::infinite, c)
        .then([rp](bool due) mutable { rp.deliver(due); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [self, shut, held, watcher, forward](const boot_write& w) {
      auto rp = self->make_response_promise();
      if (!*shut) {
        forward(rp, w);
      } else {
        held->push_back({rp, w});
        self->send(watcher, static_cast<int32_t>(held->size()));
      }
      return rp;
    },
    [shut](caf::put_atom) { *shut = true; },
    [shut, held, forward](caf::ok_atom) {
      *shut = false;
      for (auto& h : *held)
        forward(h.rp, h.job);
      held->clear();
    },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  test::temp_dir dir;
  std::string boot = dir.path() + "/boot";

  // Stopped at the end: a failed apply keeps a retry timer (and so the
  // actor) alive.
  std::vector<device_config_actor> spawned;
  ~fixture() {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  fixture() {
    std::filesystem::create_directories(boot + "/splash");
    std::ofstream(boot + "/config.txt")
      << slurp(std::string(BOSUN_TEST_DATA) + "/boot/rpi4-balenaos-config.txt");
    std::ofstream(boot + "/splash/balena-logo.png")
      << std::string("\x89PNG\r\n\x1a\nlogo", 12);
  }

  device_config_actor spawn(const std::string& type = "raspberrypi4-64",
                            std::optional<std::string> meta = {},
                            device_config_deps deps = {}) {
    device_config_options o;
    o.boot_dir = boot;
    o.breadcrumb = dir.path() + "/state/reboot-after-apply";
    o.device_type = type;
    o.meta_release = std::move(meta);
    o.initial = {{"SUPERVISOR_POLL_INTERVAL", "60000"}};
    o.config_json = dir.path() + "/config.json";
    spawned.push_back(spawn_device_config(sys, deps, o));
    return spawned.back();
  }

  device_config_options options() {
    device_config_options o;
    o.boot_dir = boot;
    o.breadcrumb = dir.path() + "/state/reboot-after-apply";
    o.device_type = "raspberrypi4-64";
    o.config_json = dir.path() + "/config.json";
    return o;
  }

  device_config_result apply(const device_config_actor& a,
                             std::map<std::string, std::string> config) {
    caf::scoped_actor self{sys};
    device_config_result out;
    self->request(a, 10s, apply_device_config{std::move(config), false})
      .receive([&](const device_config_result& r) { out = r; },
               [&](const caf::error& e) { FAIL(to_string(e)); });
    return out;
  }

  device_config_view view(const device_config_actor& a) {
    caf::scoped_actor self{sys};
    device_config_view out;
    self->request(a, 10s, caf::get_atom_v, device_config_atom_v)
      .receive([&](const device_config_view& v) { out = v; },
               [&](const caf::error& e) { FAIL(to_string(e)); });
    return out;
  }
};

} // namespace

TEST_SUITE("device_config") {
  TEST_CASE_FIXTURE(fixture, "before any target, the current values are the "
                             "target, with the defaults filled in") {
    auto a = spawn();
    auto v = view(a);
    CHECK(v.current.at("HOST_CONFIG_gpu_mem") == "16");
    CHECK(v.current.at("SUPERVISOR_POLL_INTERVAL") == "60000");
    CHECK(v.current.at("HOST_FIREWALL_MODE").empty());
    CHECK(v.target.at("HOST_CONFIG_gpu_mem") == "16");
    CHECK(v.target.at("SUPERVISOR_DELTA_VERSION") == "2");
    // The first start keeps the OS's logo as the default.
    CHECK(slurp(boot + "/splash/balena-logo-default.png")
          == slurp(boot + "/splash/balena-logo.png"));
  }

  TEST_CASE_FIXTURE(fixture, "a boot-config change rewrites config.txt, sets "
                             "the breadcrumb and asks for a reboot; the "
                             "same config again changes nothing") {
    auto a = spawn();
    auto config = view(a).target;
    config["HOST_CONFIG_gpu_mem"] = "64";
    config["RESIN_HOST_CONFIG_hdmi_mode"] = "1";
    auto r = apply(a, config);
    CHECK(r.errors.empty());
    CHECK(r.reboot_required);
    CHECK(r.changed.at("HOST_CONFIG_gpu_mem") == "64");
    CHECK(r.changed.at("HOST_CONFIG_hdmi_mode") == "1");
    auto text = slurp(boot + "/config.txt");
    CHECK(text.find("gpu_mem=64\nhdmi_mode=1\n") != std::string::npos);
    CHECK(text.find("# Enable UART") == std::string::npos);
    CHECK_FALSE(std::filesystem::exists(boot + "/config.txt.tmp"));
    CHECK(std::filesystem::exists(dir.path() + "/state/reboot-after-apply"));
    CHECK(view(a).target.at("HOST_CONFIG_hdmi_mode") == "1");

    std::filesystem::remove(dir.path() + "/state/reboot-after-apply");
    auto again = apply(a, config);
    CHECK_FALSE(again.reboot_required);
    CHECK(again.changed.empty());
    CHECK(again.written.empty());
    CHECK(slurp(boot + "/config.txt") == text);
    CHECK_FALSE(
      std::filesystem::exists(dir.path() + "/state/reboot-after-apply"));
  }

  TEST_CASE_FIXTURE(fixture, "table keys: applied and shown; an unknown "
                             "firewall mode runs as off, discoverability "
                             "follows the target") {
    auto a = spawn();
    auto config = view(a).target;
    config["SUPERVISOR_POLL_INTERVAL"] = "30000";
    config["HOST_FIREWALL_MODE"] = "sometimes";
    config["HOST_DISCOVERABILITY"] = "false";
    auto r = apply(a, config);
    CHECK_FALSE(r.reboot_required);
    CHECK(r.changed
          == std::map<std::string, std::string>{
            {"HOST_DISCOVERABILITY", "false"},
            {"HOST_FIREWALL_MODE", "sometimes"},
            {"SUPERVISOR_POLL_INTERVAL", "30000"}});
    auto v = view(a);
    CHECK(v.current.at("SUPERVISOR_POLL_INTERVAL") == "30000");
    CHECK(v.firewall_mode == "off");
    CHECK_FALSE(v.discoverable);
  }

  TEST_CASE_FIXTURE(fixture, "a forbidden key or a missing extlinux.conf is "
                             "an error, and no file is written") {
    auto a = spawn();
    auto config = view(a).target;
    config["HOST_CONFIG_kernel"] = "mine.img";
    auto before = slurp(boot + "/config.txt");
    auto r = apply(a, config);
    CHECK(r.errors
          == std::vector<std::string>{
            "Attempt to change blacklisted config value kernel"});
    CHECK(r.written.empty());
    CHECK(slurp(boot + "/config.txt") == before);

    auto jetson = spawn("jetson-tx2", std::string("2.31.0"));
    auto e = apply(jetson, {{"HOST_EXTLINUX_isolcpus", "1"}});
    CHECK(e.errors
          == std::vector<std::string>{
            "Could not find extlinux file. Device is possibly bricked"});
  }

  TEST_CASE_FIXTURE(fixture, "with a db: the stored target is applied at "
                             "start, and a restart does not apply (and "
                             "reboot for) the same keys again") {
    auto opened = open_db(dir.path() + "/db.sqlite");
    REQUIRE(opened);
    auto db = spawn_db(sys, std::move(*opened));
    std::ofstream(dir.path() + "/config.json") << R"({"uuid":"abc"})";
    target_state t;
    t.config = {{"SUPERVISOR_PERSISTENT_LOGGING", "true"},
                {"HOST_CONFIG_gpu_mem", "64"}};
    {
      caf::scoped_actor self{sys};
      self->request(db, 10s, caf::put_atom_v, target_atom_v, t)
        .receive([] {}, [&](const caf::error& e) { FAIL(to_string(e)); });
    }
    auto breadcrumb = dir.path() + "/state/reboot-after-apply";
    auto a = spawn("raspberrypi4-64", {}, {db, {}, {}});
    REQUIRE(test::eventually(10s, [&](std::string& last) {
      last = slurp(boot + "/config.txt");
      return last == "gpu_mem=64\n";
    }));
    CHECK(std::filesystem::exists(breadcrumb));
    CHECK(slurp(dir.path() + "/config.json")
          == R"({"uuid":"abc","persistentLogging":true})");

    // A restart: the applied keys come back from the db.
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    std::filesystem::remove(breadcrumb);
    auto b = spawn("raspberrypi4-64", {}, {db, {}, {}});
    REQUIRE(test::eventually(10s, [&](std::string& last) {
      last = view(b).current.at("SUPERVISOR_PERSISTENT_LOGGING");
      return last == "true";
    }));
    auto r = apply(b, t.config);
    CHECK(r.changed.empty());
    CHECK_FALSE(r.reboot_required);
    CHECK_FALSE(std::filesystem::exists(breadcrumb));
  }

  TEST_CASE_FIXTURE(fixture, "answers a get while the worker is writing, and "
                             "an apply that came during the write plans "
                             "from its result") {
    caf::scoped_actor watcher{sys};
    auto o = options();
    auto real
      = spawn_device_config_io(sys, {o.boot_dir, o.breadcrumb, {}}, false);
    auto gate
      = sys.spawn(gate_impl, real, caf::actor_cast<caf::actor>(watcher));
    auto a = spawn_device_config(sys, {}, o,
                                 caf::actor_cast<device_config_io_actor>(gate));
    spawned.push_back(a);
    auto config = view(a).target; // after the start's writes
    auto before = slurp(boot + "/config.txt");
    caf::anon_send(gate, caf::put_atom_v);

    caf::scoped_actor client{sys};
    auto first_config = config;
    first_config["HOST_CONFIG_gpu_mem"] = "64";
    auto first
      = client->request(a, 10s, apply_device_config{first_config, false});
    watcher->receive([](int32_t held) { CHECK(held == 1); },
                     caf::after(10s) >>
                       [] {
                         FAIL("the first apply's writes never reached the "
                              "worker");
                       });
    auto second_config = first_config;
    second_config["HOST_CONFIG_hdmi_mode"] = "1";
    auto second
      = client->request(a, 10s, apply_device_config{second_config, false});

    // The first apply's files are being written: the get does not wait.
    auto v = view(a);
    CHECK(v.current.at("HOST_CONFIG_gpu_mem") == "16");
    CHECK(v.current.count("HOST_CONFIG_hdmi_mode") == 0);
    CHECK(v.target.at("HOST_CONFIG_hdmi_mode") == "1"); // the latest target
    CHECK(slurp(boot + "/config.txt") == before);

    caf::anon_send(gate, caf::ok_atom_v);
    first.receive(
      [&](const device_config_result& r) {
        CHECK(r.errors.empty());
        CHECK(r.reboot_required);
        CHECK(
          r.changed
          == std::map<std::string, std::string>{{"HOST_CONFIG_gpu_mem", "64"}});
        CHECK(
          r.written
          == std::vector<std::string>{"config.txt", "splash/balena-logo.png"});
      },
      [&](const caf::error& e) { FAIL(to_string(e)); });
    // Planned after the first was written: only hdmi_mode is new.
    second.receive(
      [&](const device_config_result& r) {
        CHECK(r.errors.empty());
        CHECK(r.changed
              == std::map<std::string, std::string>{
                {"HOST_CONFIG_hdmi_mode", "1"}});
        CHECK(
          r.written
          == std::vector<std::string>{"config.txt", "splash/balena-logo.png"});
      },
      [&](const caf::error& e) { FAIL(to_string(e)); });
    auto text = slurp(boot + "/config.txt");
    CHECK(text.find("gpu_mem=64\nhdmi_mode=1\n") != std::string::npos);
    auto after = view(a);
    CHECK(after.current.at("HOST_CONFIG_gpu_mem") == "64");
    CHECK(after.current.at("HOST_CONFIG_hdmi_mode") == "1");
  }

  TEST_CASE_FIXTURE(fixture, "a boot file that cannot be written is an "
                             "error, and the old file stays whole") {
    auto a = spawn();
    auto config = view(a).target;
    auto before = slurp(boot + "/config.txt");
    // The temp file's path is a directory: the atomic write fails.
    std::filesystem::create_directories(boot + "/config.txt.tmp");
    config["HOST_CONFIG_gpu_mem"] = "64";
    auto r = apply(a, config);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].find("config.txt.tmp") != std::string::npos);
    CHECK(r.written.empty());
    CHECK(r.changed.at("HOST_CONFIG_gpu_mem") == "64");
    CHECK(slurp(boot + "/config.txt") == before);
    CHECK(view(a).current.at("HOST_CONFIG_gpu_mem") == "16");
  }
}
