// The host actor against a real dbus-daemon (a private system bus started
// here) with stand-in services that speak the real interfaces: dbusmock's
// logind template and mock_host.py (systemd1, hostname1). Each test asserts
// the exact calls the stand-ins received, and the files bosun wrote.
#include "actors/host/host.hpp"
#include "tests/support/host_bus.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace std::chrono_literals;

namespace bosun {
namespace {

using test::eventually;
using test::host_bus;
using test::temp_dir;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

struct host_fixture {
  temp_dir dir;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  host_actor host;
  host_options opts;

  explicit host_fixture(const std::string& bus_address) {
    for (auto d : {"/state", "/boot", "/locks/services", "/vpn", "/root/etc"})
      std::filesystem::create_directories(dir.path() + d);
    std::ofstream(dir.path() + "/led") << "0";
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
    self.emplace(*sys);
    opts.dbus_address = bus_address;
    opts.state_mount = dir.path() + "/state";
    opts.boot_mount = dir.path() + "/boot";
    opts.lock_base = dir.path() + "/locks";
    opts.led_file = dir.path() + "/led";
    opts.vpn_status = dir.path() + "/vpn";
    opts.uuid = "0123456789abcdef";
    opts.log = std::make_shared<logger>(log_level::error);
  }

  void start() {
    host = spawn_host(*sys, opts, {});
  }

  ~host_fixture() {
    caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
    host = nullptr;
    self.reset();
  }

  bus_status bus() {
    bus_status out;
    (*self)
      ->request(host, 10s, caf::get_atom_v, bus_atom_v)
      .receive([&](const bus_status& b) { out = b; }, [](const caf::error&) {});
    return out;
  }

  bool connected() {
    return eventually(20s, [&](std::string& last) {
      auto b = bus();
      last = b.last_error;
      return b.connected;
    });
  }

  // The request's error text ("" when it succeeded).
  template <class... Ts>
  std::string call(Ts&&... xs) {
    std::string out = "no answer";
    (*self)
      ->request(host, 60s, std::forward<Ts>(xs)...)
      .receive([&] { out.clear(); },
               [&](const caf::error& e) {
                 const auto& ctx = e.context();
                 out = ctx.match_elements<std::string>()
                         ? ctx.get_as<std::string>(0)
                         : sys->render(e);
                 if (e == host_errc::updates_locked)
                   out = "423 " + out;
                 if (e == host_errc::bus_unavailable)
                   out = "503 " + out;
               });
    return out;
  }
};

} // namespace

TEST_SUITE("host actor, real dbus-daemon") {
  TEST_CASE("reboot and shutdown call logind's Reboot(false) and "
            "PowerOff(false)") {
    host_bus bus;
    REQUIRE(bus.ready());
    host_fixture fx(bus.address());
    fx.start();
    REQUIRE(fx.connected());
    CHECK(fx.call(power_request{power_action::reboot, false}).empty());
    CHECK(eventually(10s, [&](std::string& last) {
      last = bus.logind_calls();
      return last.find(" Reboot False\n") != std::string::npos;
    }));
    CHECK(fx.call(power_request{power_action::shutdown, false}).empty());
    CHECK(eventually(10s, [&](std::string& last) {
      last = bus.logind_calls();
      return last.find(" PowerOff False\n") != std::string::npos;
    }));
    CHECK(count(bus.logind_calls(), "Reboot") == 1);
  }

  TEST_CASE("an update lock or a rollback breadcrumb refuses a reboot "
            "(423) unless forced; only the allowed one reaches logind") {
    host_bus bus;
    REQUIRE(bus.ready());
    host_fixture fx(bus.address());
    auto web = fx.dir.path() + "/locks/services/5/web";
    std::filesystem::create_directories(web);
    std::ofstream(web + "/updates.lock") << "";
    fx.start();
    REQUIRE(fx.connected());
    CHECK(fx.call(power_request{power_action::reboot, false})
          == "423 Lockfile exists for { appId: 5, service: web }");
    std::ofstream(fx.dir.path() + "/state/rollback-health-breadcrumb") << "";
    std::filesystem::remove(web + "/updates.lock");
    CHECK(fx.call(power_request{power_action::reboot, false})
          == "423 Waiting for Host OS update to finish");
    // force bypasses both; the agent's lock files are gone again after.
    std::ofstream(web + "/updates.lock") << "";
    CHECK(fx.call(power_request{power_action::reboot, true}).empty());
    CHECK_FALSE(std::filesystem::exists(web + "/updates.lock"));
    CHECK_FALSE(std::filesystem::exists(web + "/resin-updates.lock"));
    CHECK(eventually(10s, [&](std::string& last) {
      last = bus.logind_calls();
      return last.find("Reboot False") != std::string::npos;
    }));
    CHECK(count(bus.logind_calls(), "Reboot") == 1);
  }

  TEST_CASE("no bus: requests that need it fail with the reason, and the "
            "actor connects once the bus appears") {
    auto bus = std::make_unique<host_bus>();
    REQUIRE(bus->ready());
    auto address = bus->address();
    bus->stop(); // the socket file stays, nobody listens
    host_fixture fx(address);
    fx.start();
    CHECK(eventually(10s, [&](std::string& last) {
      auto b = fx.bus();
      last = b.last_error;
      return !b.connected && b.last_error.find(address) != std::string::npos;
    }));
    auto refused = fx.call(power_request{power_action::reboot, true});
    CHECK_MESSAGE(
      refused.rfind("503 The host's D-Bus is not reachable", 0) == 0, refused);
    bool vpn_refused = false;
    (*fx.self)
      ->request(fx.host, 10s, caf::get_atom_v, vpn_atom_v)
      .receive([](const vpn_status&) {},
               [&](const caf::error& e) {
                 vpn_refused = e == host_errc::bus_unavailable;
               });
    CHECK(vpn_refused);
    // Blink needs no bus.
    (*fx.self)->send(fx.host, blink_atom_v);
    CHECK(eventually(10s, [&](std::string& last) {
      last = slurp(fx.dir.path() + "/led");
      return last == "1";
    }));
  }

  TEST_CASE("the actor reconnects with backoff when the bus comes up late") {
    temp_dir late;
    auto socket = late.path() + "/bus.sock";
    host_fixture fx("unix:path=" + socket);
    fx.start();
    CHECK(eventually(10s, [&](std::string& last) {
      auto b = fx.bus();
      last = b.last_error;
      return !b.connected && b.last_error.find(socket) != std::string::npos;
    }));
    CHECK(fx.bus().connects == 0);
    host_bus bus({}, socket);
    REQUIRE(bus.ready());
    CHECK(fx.connected());
    CHECK(fx.bus().connects == 1);
    CHECK(fx.call(power_request{power_action::shutdown, false}).empty());
    CHECK(eventually(10s, [&](std::string& last) {
      last = bus.logind_calls();
      return last.find("PowerOff False") != std::string::npos;
    }));
  }

  TEST_CASE("blink writes 1 and 0 to the LED file, and ends on 0") {
    host_bus bus;
    REQUIRE(bus.ready());
    host_fixture fx(bus.address());
    fx.opts.blink_for = 1000ms;
    fx.start();
    (*fx.self)->send(fx.host, blink_atom_v);
    CHECK(eventually(5s, [&](std::string& last) {
      last = slurp(fx.dir.path() + "/led");
      return last == "1";
    }));
    CHECK(eventually(5s, [&](std::string& last) {
      last = slurp(fx.dir.path() + "/led");
      return last == "0";
    }));
    // Stopped: it stays 0 (the stop wrote it last).
    CHECK(eventually(5s, [&](std::string& last) {
      last = fx.bus().address;
      return slurp(fx.dir.path() + "/led") == "0";
    }));
  }

  TEST_CASE("VPN: enabled from openvpn.service's ActiveState, connected "
            "from the status file") {
    host_bus bus({"openvpn.service=activating"});
    REQUIRE(bus.ready());
    host_fixture fx(bus.address());
    fx.start();
    REQUIRE(fx.connected());
    vpn_status v;
    auto ask = [&] {
      (*fx.self)
        ->request(fx.host, 10s, caf::get_atom_v, vpn_atom_v)
        .receive([&](const vpn_status& s) { v = s; },
                 [](const caf::error& e) { FAIL(to_string(e)); });
    };
    ask();
    CHECK(v.enabled);
    CHECK_FALSE(v.connected);
    std::ofstream(fx.dir.path() + "/vpn/active") << "";
    ask();
    CHECK(v.connected);
    CHECK(bus.host_calls().find("GetUnit openvpn.service\n")
          != std::string::npos);
  }

  TEST_CASE("host-config: proxy files written, proxy units restarted over "
            "D-Bus; hostname through hostname1") {
    host_bus bus({"balena-proxy-config.service=active",
                  "redsocks.service=active:multi-user.target"});
    REQUIRE(bus.ready());
    host_fixture fx(bus.address());
    fx.start();
    REQUIRE(fx.connected());
    host_config_patch p;
    p.hostname = "dev1";
    host_config_patch::proxy_patch pp;
    pp.fields = {{"type", "socks5"},
                 {"ip", "192.168.0.199"},
                 {"port", "8123"},
                 {"login", "user"},
                 {"password", "secret"}};
    pp.dns = "1.1.1.1:53";
    pp.no_proxy = std::vector<std::string>{"10.0.0.0/8", "local"};
    pp.no_proxy_given = true;
    p.proxy = pp;
    CHECK(fx.call(p).empty());
    auto dir = fx.dir.path() + "/boot/system-proxy";
    CHECK(slurp(dir + "/no_proxy") == "10.0.0.0/8\nlocal");
    CHECK(slurp(dir + "/redsocks.conf")
          == "base {\n\tlog_debug = off;\n\tlog_info = on;\n\tlog = "
             "stderr;\n\tdaemon = off;\n\tredirector = iptables;\n}\n\n"
             "redsocks {\n\ttype = socks5;\n\tip = 192.168.0.199;\n\tport = "
             "8123;\n\tlogin = \"user\";\n\tpassword = \"secret\";\n\t"
             "local_ip = 127.0.0.1;\n\tlocal_port = 12345;\n}\n\n"
             "dnsu2t {\n\tremote_ip = 1.1.1.1;\n\tremote_port = 53;\n\t"
             "local_ip = 127.0.0.1;\n\tlocal_port = 53;\n}\n");
    auto calls = bus.host_calls();
    CHECK(calls.find("SetStaticHostname dev1 False\n") != std::string::npos);
    auto restart_cfg
      = calls.find("RestartUnit balena-proxy-config.service fail\n");
    auto restart_rs = calls.find("RestartUnit redsocks.service fail\n");
    CHECK(restart_cfg != std::string::npos);
    CHECK(restart_rs != std::string::npos);
    CHECK(restart_cfg < restart_rs);
    // GET reads it back (port as written; the codec makes it a number).
    host_settings got;
    (*fx.self)
      ->request(fx.host, 10s, caf::get_atom_v, hostcfg_atom_v)
      .receive([&](const host_settings& s) { got = s; },
               [](const caf::error& e) { FAIL(to_string(e)); });
    REQUIRE(got.proxy);
    CHECK(got.proxy->dns == std::optional<std::string>("1.1.1.1:53"));
    CHECK(got.proxy->no_proxy
          == std::vector<std::string>{"10.0.0.0/8", "local"});
    CHECK(got.proxy->fields.size() == 5);
    // "proxy":{} removes the proxy, keeps no_proxy.
    host_config_patch clear;
    clear.proxy = host_config_patch::proxy_patch{};
    CHECK(fx.call(clear).empty());
    CHECK_FALSE(std::filesystem::exists(dir + "/redsocks.conf"));
    CHECK(std::filesystem::exists(dir + "/no_proxy"));
  }
}

} // namespace bosun
