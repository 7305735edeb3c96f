// The volumes and networks actors against a real dockerd (see tools/dev
// test). App ids and uuids are unique per test process, so the objects are
// ours alone; everything created is removed at the end.
#include "actors/engine/engine.hpp"
#include "actors/volumes/networks.hpp"
#include "actors/volumes/volume_logic.hpp"
#include "actors/volumes/volumes.hpp"
#include "tests/support/env.hpp"

#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <cstdlib>
#include <doctest/doctest.h>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;

namespace bosun {
namespace {

using bosun::test::required_env;

bool contains(const string_list& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

struct volumes_fixture {
  // Declared before the actor system, so it outlives every actor.
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{
    io.get_executor()};
  std::thread io_thread{[this] { io.run(); }};
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  engine_actor engine;
  volumes_actor volumes;
  networks_actor networks;
  // Unique per process: 9<pid>0, 9<pid>1, ... ; uuids "bosunit<pid>x".
  int64_t app_a = 9000000000 + int64_t{::getpid()} * 10;
  int64_t app_b = app_a + 1;
  std::string uuid_a = "bosunit" + std::to_string(::getpid()) + "a";
  std::vector<std::string> containers, volume_names, network_names;

  volumes_fixture() {
    auto host = required_env("DOCKER_HOST");
    std::string why;
    auto ep = http::parse_endpoint(host, &why);
    REQUIRE_MESSAGE(ep, "DOCKER_HOST=", host, ": ", why);
    cfg.set("scheduler.max-threads", 2);
    add_engine_error_renderer(cfg);
    add_volumes_error_renderer(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    self.emplace(*sys);
    engine = spawn_engine(*sys, io, *ep);
    volumes = spawn_volumes(*sys, engine);
    networks = spawn_networks(*sys, engine);
  }

  ~volumes_fixture() {
    for (auto& c : containers)
      call_void(engine, container_remove_req{c, true, false});
    for (auto& n : network_names)
      call_void(engine, network_remove_req{n});
    for (auto& v : volume_names)
      call_void(engine, volume_remove_req{v, true});
    caf::anon_send_exit(volumes, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(networks, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
    volumes = nullptr;
    networks = nullptr;
    engine = nullptr;
    self.reset();
    sys.reset();
    work.reset();
    io.stop();
    io_thread.join();
  }

  template <class T, class Handle, class Req>
  caf::expected<T> call(const Handle& h, Req req) {
    caf::expected<T> out{caf::make_error(caf::sec::request_timeout)};
    (*self)
      ->request(h, 120s, std::move(req))
      .receive([&](T& v) { out = std::move(v); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  template <class Handle, class Req>
  caf::error call_void(const Handle& h, Req req) {
    caf::error out;
    (*self)
      ->request(h, 120s, std::move(req))
      .receive([] {}, [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  std::string render(const caf::error& e) {
    return sys->render(e);
  }

  volume_ensured ensure(int64_t app, const target_volume& v) {
    volume_names.push_back(volume_logic::volume_name(app, v.name));
    auto r = call<volume_ensured>(volumes, volume_ensure{app, uuid_a, v});
    REQUIRE_MESSAGE(r, render(r.error()));
    return *r;
  }

  network_ensured ensure(const target_network& n) {
    network_names.push_back(volume_logic::network_name(uuid_a, n.name));
    auto r = call<network_ensured>(networks, network_ensure{uuid_a, app_a, n});
    REQUIRE_MESSAGE(r, render(r.error()));
    return *r;
  }

  bool volume_exists(const std::string& name) {
    auto r = call<volume_info>(engine, volume_inspect_req{name});
    if (!r)
      REQUIRE_MESSAGE(r.error() == engine_errc::not_found, render(r.error()));
    return static_cast<bool>(r);
  }

  // Makes sure the test image is on the engine (containers need it).
  std::string test_image() {
    auto image = required_env("BOSUN_TEST_IMAGE");
    auto found = call<image_inspect>(engine, image_inspect_req{image});
    if (!found) {
      REQUIRE_MESSAGE(found.error() == engine_errc::not_found,
                      render(found.error()));
      auto err
        = call_void(engine, image_pull_req{image_pull{image, {}, {}}, {}});
      REQUIRE_MESSAGE(!err, render(err));
    }
    return image;
  }
};

target_volume vol(std::string name) {
  target_volume v;
  v.name = std::move(name);
  return v;
}

target_network net(std::string name) {
  target_network n;
  n.name = std::move(name);
  return n;
}

} // namespace

TEST_SUITE("volumes actor (real dockerd)") {
  TEST_CASE("ensure creates a volume once, with balena's labels") {
    volumes_fixture f;
    auto v = vol("data");
    v.labels["com.example.owner"] = "tests";
    auto first = f.ensure(f.app_a, v);
    CHECK(first.created);
    CHECK(first.name == std::to_string(f.app_a) + "_data");
    auto second = f.ensure(f.app_a, v);
    CHECK_FALSE(second.created);
    CHECK(second.name == first.name);
    auto info = f.call<volume_info>(f.engine, volume_inspect_req{first.name});
    REQUIRE_MESSAGE(info, f.render(info.error()));
    CHECK(info->driver == "local");
    CHECK(info->labels
          == string_map{{"com.example.owner", "tests"},
                        {"io.balena.app-uuid", f.uuid_a},
                        {"io.balena.supervised", "true"}});
    auto listed = f.call<volume_list>(f.volumes, volume_list_app{f.app_a});
    REQUIRE_MESSAGE(listed, f.render(listed.error()));
    REQUIRE(listed->volumes.size() == 1);
    CHECK(listed->volumes[0].name == first.name);
  }

  TEST_CASE("a volume with another config is a typed error, and kept") {
    volumes_fixture f;
    auto v = vol("conf");
    f.ensure(f.app_a, v);
    auto other = v;
    other.driver_opts = {{"type", "tmpfs"}, {"device", "tmpfs"}};
    auto r = f.call<volume_ensured>(f.volumes,
                                    volume_ensure{f.app_a, f.uuid_a, other});
    REQUIRE_FALSE(r);
    CHECK(r.error() == volumes_errc::config_differs);
    CHECK(volumes_error_message(r.error())
          == "volume " + std::to_string(f.app_a)
               + "_conf exists with different config (driver options differ)");
    CHECK(f.volume_exists(std::to_string(f.app_a) + "_conf"));
  }

  TEST_CASE("purge removes the app's volumes only") {
    volumes_fixture f;
    f.ensure(f.app_a, vol("one"));
    f.ensure(f.app_a, vol("two"));
    f.ensure(f.app_b, vol("one"));
    auto a = std::to_string(f.app_a);
    auto b = std::to_string(f.app_b);
    auto r = f.call<volume_removal>(f.volumes, volume_purge{f.app_a});
    REQUIRE_MESSAGE(r, f.render(r.error()));
    CHECK(r->removed.size() == 2);
    CHECK(contains(r->removed, a + "_one"));
    CHECK(contains(r->removed, a + "_two"));
    CHECK_FALSE(f.volume_exists(a + "_one"));
    CHECK_FALSE(f.volume_exists(a + "_two"));
    CHECK(f.volume_exists(b + "_one"));
  }

  TEST_CASE("purge and remove fail while a container uses the volume") {
    volumes_fixture f;
    auto name = f.ensure(f.app_a, vol("busy")).name;
    container_create c;
    c.name = "bosun-it-vol-" + std::to_string(::getpid());
    c.config.image = f.test_image();
    c.config.cmd = string_list{"/bin/busybox", "true"};
    c.host.binds = {name + ":/data"};
    c.host.restart_policy.name = "no";
    auto id = f.call<std::string>(f.engine, container_create_req{c});
    REQUIRE_MESSAGE(id, f.render(id.error()));
    f.containers.push_back(*id);
    auto r = f.call<volume_removal>(f.volumes, volume_purge{f.app_a});
    REQUIRE_FALSE(r);
    CHECK(r.error() == volumes_errc::in_use);
    CHECK(volumes_error_message(r.error()).find(name) != std::string::npos);
    auto e = f.call_void(f.volumes, volume_remove{f.app_a, "busy"});
    CHECK(e == volumes_errc::in_use);
    CHECK(f.volume_exists(name));
    // Once the container is gone, the volume goes.
    REQUIRE(!f.call_void(f.engine, container_remove_req{*id, true, false}));
    f.containers.clear();
    CHECK(!f.call_void(f.volumes, volume_remove{f.app_a, "busy"}));
    CHECK_FALSE(f.volume_exists(name));
    // Removing what is not there is fine.
    CHECK(!f.call_void(f.volumes, volume_remove{f.app_a, "busy"}));
  }

  TEST_CASE("cleanup removes only unreferenced app volumes") {
    volumes_fixture f;
    auto keep = f.ensure(f.app_a, vol("keep")).name;
    auto drop = f.ensure(f.app_a, vol("drop")).name;
    auto other = f.ensure(f.app_b, vol("drop")).name;
    // The engine is shared with other tests: everything not ours counts as
    // referenced, so only our unreferenced volumes can go.
    auto all = f.call<volume_list>(f.engine, volume_list_req{});
    REQUIRE(all);
    volume_cleanup req;
    for (auto& v : all->volumes)
      if (v.name != drop && v.name != other)
        req.referenced.push_back(v.name);
    auto r = f.call<volume_removal>(f.volumes, req);
    REQUIRE_MESSAGE(r, f.render(r.error()));
    CHECK(contains(r->removed, drop));
    CHECK(contains(r->removed, other));
    CHECK_FALSE(contains(r->removed, keep));
    CHECK(f.volume_exists(keep));
    CHECK_FALSE(f.volume_exists(drop));
    CHECK_FALSE(f.volume_exists(other));
  }
}

TEST_SUITE("networks actor (real dockerd)") {
  TEST_CASE("ensure creates a network with its subnet and labels, once") {
    volumes_fixture f;
    auto n = net("backend");
    auto third = std::to_string(::getpid() % 250);
    n.ipam.config.push_back(
      ipam_pool{"10.213." + third + ".0/24", "10.213." + third + ".1", "", {}});
    n.labels["com.example.owner"] = "tests";
    auto first = f.ensure(n);
    CHECK(first.created);
    CHECK(first.name == f.uuid_a + "_backend");
    auto info = f.call<network_info>(f.engine, network_inspect_req{first.id});
    REQUIRE_MESSAGE(info, f.render(info.error()));
    CHECK(info->driver == "bridge");
    REQUIRE(info->ipam.config.size() == 1);
    CHECK(info->ipam.config[0].subnet == n.ipam.config[0].subnet);
    CHECK(info->ipam.config[0].gateway == n.ipam.config[0].gateway);
    CHECK(info->labels
          == string_map{{"com.example.owner", "tests"},
                        {"io.balena.app-id", std::to_string(f.app_a)},
                        {"io.balena.private.ipam.config", "true"},
                        {"io.balena.supervised", "true"}});
    CHECK(volume_logic::network_matches(*info, n));
    auto second = f.ensure(n);
    CHECK_FALSE(second.created);
    CHECK(second.id == first.id);
    // Another subnet is another config.
    auto other = n;
    other.ipam.config[0] = ipam_pool{"10.214." + third + ".0/24", "", "", {}};
    auto r = f.call<network_ensured>(f.networks,
                                     network_ensure{f.uuid_a, f.app_a, other});
    REQUIRE_FALSE(r);
    CHECK(r.error() == volumes_errc::config_differs);
    CHECK(volumes_error_message(r.error())
          == "network " + first.name
               + " exists with different config (ipam config differs)");
  }

  TEST_CASE("a network the engine chose the subnet of compares equal") {
    volumes_fixture f;
    auto n = net("default");
    auto first = f.ensure(n);
    CHECK(first.created);
    auto second = f.ensure(n);
    CHECK_FALSE(second.created);
    CHECK(second.id == first.id);
    auto only = net("hostonly");
    only.config_only = true;
    CHECK(f.ensure(only).created);
    CHECK_FALSE(f.ensure(only).created);
  }

  TEST_CASE("lists the app's networks and removes one by name") {
    volumes_fixture f;
    auto made = f.ensure(net("front"));
    auto listed
      = f.call<network_infos>(f.networks, network_list_app{f.uuid_a, f.app_a});
    REQUIRE_MESSAGE(listed, f.render(listed.error()));
    REQUIRE(listed->size() == 1);
    CHECK((*listed)[0].id == made.id);
    CHECK(!f.call_void(f.networks, network_remove{f.uuid_a, "front"}));
    auto gone = f.call<network_info>(f.engine, network_inspect_req{made.id});
    CHECK(gone.error() == engine_errc::not_found);
    // Removing what is not there is fine.
    CHECK(!f.call_void(f.networks, network_remove{f.uuid_a, "front"}));
    listed
      = f.call<network_infos>(f.networks, network_list_app{f.uuid_a, f.app_a});
    REQUIRE(listed);
    CHECK(listed->empty());
  }
}

} // namespace bosun
