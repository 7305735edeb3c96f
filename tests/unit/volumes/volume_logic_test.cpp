// The volumes and networks actors' pure helpers: names, create bodies, and
// the comparison of an engine object with its target.
#include "actors/volumes/volume_logic.hpp"
#include "api/docker/codec.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <sstream>

using namespace bosun;
namespace logic = bosun::volume_logic;

namespace {

const std::string uuid = "d149c5d1551b4286a930d57284a02511";

// What the engine reports for a volume created from `c` (as dockerd 20.10
// answers: options and labels as given, driver filled in).
volume_info as_created(const volume_create& c) {
  volume_info v;
  v.name = c.name;
  v.driver = c.driver.empty() ? "local" : c.driver;
  v.options = c.driver_opts;
  v.labels = c.labels;
  v.scope = "local";
  v.mountpoint = "/var/lib/docker/volumes/" + c.name + "/_data";
  return v;
}

// What the engine reports for a network created from `c`: the defaults it
// fills in, a chosen subnet when none was asked for, driver "null" for a
// ConfigOnly network (all seen on dockerd 20.10).
network_info as_created(const network_create& c) {
  network_info n;
  n.id = "0123";
  n.name = c.name;
  n.scope = "local";
  n.driver = c.config_only ? "null" : c.driver.empty() ? "bridge" : c.driver;
  n.enable_ipv6 = c.enable_ipv6;
  n.internal = c.internal;
  n.config_only = c.config_only;
  n.options = c.options;
  n.labels = c.labels;
  if (c.ipam) {
    n.ipam = *c.ipam;
    if (n.ipam.driver.empty())
      n.ipam.driver = "default";
  } else {
    n.ipam.driver = "default";
  }
  if (n.ipam.config.empty() && !c.config_only)
    n.ipam.config.push_back(
      network_ipam_pool{"172.18.0.0/16", "172.18.0.1", "", {}});
  return n;
}

target_network net(std::string name) {
  target_network n;
  n.name = std::move(name);
  return n;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  REQUIRE_MESSAGE(in.good(), "missing test data ", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

TEST_SUITE("volume_logic: names") {
  TEST_CASE("volumes are <appId>_<name>, networks <appUuid>_<name>") {
    CHECK(logic::volume_name(123, "data") == "123_data");
    CHECK(logic::network_name(uuid, "default") == uuid + "_default");
    CHECK(logic::network_name("1", "backend") == "1_backend"); // local mode
  }

  TEST_CASE("finds the app id in <digits>_<name> volume names only") {
    CHECK(logic::app_of_volume("123_data") == 123);
    CHECK(logic::app_of_volume("1_my_data") == 1);
    CHECK_FALSE(logic::app_of_volume("resin-data"));
    CHECK_FALSE(logic::app_of_volume("x1_data"));
    CHECK_FALSE(logic::app_of_volume("12_"));
    CHECK_FALSE(logic::app_of_volume("_data"));
    CHECK_FALSE(logic::app_of_volume("99999999999999999999_data"));
    CHECK_FALSE(logic::app_of_volume(
      "3f8d0ae5a3c1a0c8d3b5f4e0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0"));
  }

  TEST_CASE("a volume is in a scope of apps when its app is one of them") {
    CHECK(logic::in_scope("12_data", {3, 12}));
    CHECK_FALSE(logic::in_scope("12_data", {3}));
    CHECK_FALSE(logic::in_scope("12_data", {}));
    CHECK_FALSE(logic::in_scope("resin-data", {3, 12}));
  }
}

TEST_SUITE("volume_logic: create bodies") {
  TEST_CASE("a volume gets balena's name, driver and labels") {
    target_volume v;
    v.name = "data";
    v.driver_opts = {{"type", "tmpfs"}, {"device", "tmpfs"}};
    v.labels = {{"com.example.k", "v"}};
    auto c = logic::make_volume_create(123, uuid, v);
    CHECK(c.name == "123_data");
    CHECK(c.driver == "local");
    CHECK(c.driver_opts == v.driver_opts);
    CHECK(c.labels
          == string_map{{"com.example.k", "v"},
                        {"io.balena.app-uuid", uuid},
                        {"io.balena.supervised", "true"}});
    // The JSON the engine gets.
    auto body = docker::encode(c);
    CHECK(body.find(R"("Name":"123_data")") != std::string::npos);
    CHECK(body.find(R"("Driver":"local")") != std::string::npos);
    CHECK(body.find(R"("io.balena.supervised":"true")") != std::string::npos);
  }

  TEST_CASE("an empty driver is local") {
    target_volume v;
    v.name = "data";
    v.driver = "";
    CHECK(logic::make_volume_create(1, "1", v).driver == "local");
  }

  TEST_CASE("a network gets balena's body and labels") {
    auto n = net("backend");
    n.driver_opts = {{"com.docker.network.bridge.name", "br-x"}};
    n.ipam.config.push_back(ipam_pool{"10.201.0.0/24", "10.201.0.1", "", {}});
    n.ipam.options = {{"foo", "bar"}};
    n.enable_ipv6 = false;
    n.internal = true;
    n.labels = {{"com.example.k", "v"}};
    auto c = logic::make_network_create(uuid, 123, n);
    CHECK(c.name == uuid + "_backend");
    CHECK(c.driver == "bridge");
    CHECK(c.check_duplicate);
    CHECK(c.options == n.driver_opts);
    REQUIRE(c.ipam);
    CHECK(c.ipam->driver == "default");
    REQUIRE(c.ipam->config.size() == 1);
    CHECK(c.ipam->config[0].subnet == "10.201.0.0/24");
    CHECK(c.ipam->config[0].gateway == "10.201.0.1");
    CHECK(c.ipam->options == n.ipam.options);
    CHECK(c.internal);
    CHECK_FALSE(c.config_only);
    CHECK(c.labels
          == string_map{{"com.example.k", "v"},
                        {"io.balena.app-id", "123"},
                        {"io.balena.private.ipam.config", "true"},
                        {"io.balena.supervised", "true"}});
    auto body = docker::encode(c);
    CHECK(body.find(R"("CheckDuplicate":true)") != std::string::npos);
    CHECK(body.find(R"("Subnet":"10.201.0.0/24")") != std::string::npos);
    CHECK(body.find(R"("Internal":true)") != std::string::npos);
  }

  TEST_CASE("no ipam config: no ipam label; config_only is kept") {
    auto n = net("default");
    n.config_only = true;
    auto c = logic::make_network_create(uuid, 7, n);
    CHECK(c.labels.count("io.balena.private.ipam.config") == 0);
    CHECK(c.config_only);
    REQUIRE(c.ipam);
    CHECK(c.ipam->config.empty());
  }
}

TEST_SUITE("volume_logic: matches") {
  TEST_CASE("a volume created from its target matches it") {
    target_volume v;
    v.name = "data";
    v.driver_opts = {{"type", "tmpfs"}};
    v.labels = {{"k", "v"}};
    auto have = as_created(logic::make_volume_create(1, uuid, v));
    CHECK(logic::volume_matches(have, v));
  }

  TEST_CASE("the recorded engine volume matches a target without options") {
    auto decoded = docker::decode_volume(
      read_file(std::string{BOSUN_TEST_DATA} + "/docker/volume.json"));
    REQUIRE(decoded);
    target_volume v;
    v.name = "data";
    // Whatever user labels the recording has, the target copies them.
    for (auto& [k, val] : decoded.value.labels)
      if (k.rfind("io.balena.", 0) != 0)
        v.labels[k] = val;
    v.driver_opts = decoded.value.options;
    CHECK(logic::volume_matches(decoded.value, v));
  }

  TEST_CASE("a volume differs on driver, options and user labels only") {
    target_volume v;
    v.name = "data";
    auto have = as_created(logic::make_volume_create(1, uuid, v));
    auto other = v;
    other.driver = "nfs";
    CHECK(logic::volume_difference(have, other) == "driver local != nfs");
    other = v;
    other.driver_opts = {{"o", "size=10m"}};
    CHECK(logic::volume_difference(have, other) == "driver options differ");
    other = v;
    other.labels = {{"k", "v"}};
    CHECK(logic::volume_difference(have, other) == "labels differ");
    // bosun's own labels are bookkeeping: a volume made without app-uuid
    // (an older agent) is not recreated and its data kept.
    have.labels.erase("io.balena.app-uuid");
    CHECK(logic::volume_matches(have, v));
  }

  TEST_CASE("a network created from its target matches it") {
    auto n = net("backend");
    CHECK(logic::network_matches(
      as_created(logic::make_network_create(uuid, 1, n)), n));
    n.ipam.config.push_back(ipam_pool{"10.201.0.0/24", "", "", {}});
    n.internal = true;
    CHECK(logic::network_matches(
      as_created(logic::make_network_create(uuid, 1, n)), n));
    auto only = net("default");
    only.config_only = true;
    CHECK(logic::network_matches(
      as_created(logic::make_network_create(uuid, 1, only)), only));
  }

  TEST_CASE("the engine's gateway for a pool without one is not a change") {
    auto n = net("backend");
    n.ipam.config.push_back(ipam_pool{"10.201.0.0/24", "", "", {}});
    auto have = as_created(logic::make_network_create(uuid, 1, n));
    have.ipam.config[0].gateway = "10.201.0.1";
    CHECK(logic::network_matches(have, n));
    n.ipam.config[0].gateway = "10.201.0.254";
    CHECK(logic::network_difference(have, n) == "ipam config differs");
  }

  TEST_CASE("the recorded engine network matches a target without ipam") {
    auto decoded = docker::decode_network(
      read_file(std::string{BOSUN_TEST_DATA} + "/docker/network_inspect.json"));
    REQUIRE(decoded);
    auto n = net("x");
    n.driver = decoded.value.driver;
    n.driver_opts = decoded.value.options;
    n.ipam.options = decoded.value.ipam.options;
    n.internal = decoded.value.internal;
    n.enable_ipv6 = decoded.value.enable_ipv6;
    for (auto& [k, v] : decoded.value.labels)
      if (k.rfind("io.balena.", 0) != 0)
        n.labels[k] = v;
    // No io.balena.private.ipam.config: the pool counts as engine-chosen.
    CHECK(logic::network_matches(decoded.value, n));
    // With the marker, the pool (range, aux addresses too) must be asked for.
    decoded.value.labels["io.balena.private.ipam.config"] = "true";
    CHECK_FALSE(logic::network_matches(decoded.value, n));
    for (auto& p : decoded.value.ipam.config)
      n.ipam.config.push_back(
        ipam_pool{p.subnet, p.gateway, p.ip_range, p.aux_addresses});
    CHECK(logic::network_matches(decoded.value, n));
    n.ipam.config[0].aux_addresses.clear();
    CHECK_FALSE(logic::network_matches(decoded.value, n));
  }

  TEST_CASE("a network differs on each configured field") {
    auto n = net("backend");
    n.ipam.config.push_back(ipam_pool{"10.201.0.0/24", "10.201.0.1", "", {}});
    auto have = as_created(logic::make_network_create(uuid, 1, n));
    auto other = n;
    other.driver = "macvlan";
    CHECK(logic::network_difference(have, other) == "driver bridge != macvlan");
    other = n;
    other.ipam.config[0].subnet = "10.202.0.0/24";
    CHECK(logic::network_difference(have, other) == "ipam config differs");
    other = n;
    other.ipam.config.clear();
    CHECK(logic::network_difference(have, other) == "ipam config differs");
    other = n;
    other.ipam.driver = "dhcp";
    CHECK(logic::network_difference(have, other)
          == "ipam driver default != dhcp");
    other = n;
    other.internal = true;
    CHECK(logic::network_difference(have, other) == "internal differs");
    other = n;
    other.enable_ipv6 = true;
    CHECK(logic::network_difference(have, other) == "enable_ipv6 differs");
    other = n;
    other.config_only = true;
    CHECK(logic::network_difference(have, other) == "config_only differs");
    other = n;
    other.driver_opts = {{"a", "b"}};
    CHECK(logic::network_difference(have, other) == "driver options differ");
    other = n;
    other.labels = {{"a", "b"}};
    CHECK(logic::network_difference(have, other) == "labels differ");
  }

  TEST_CASE("an engine-chosen subnet differs from an asked one") {
    // Created without ipam.config (no marker label): the engine picked
    // 172.18.0.0/16. A target that now asks for a subnet must recreate it.
    auto n = net("backend");
    auto have = as_created(logic::make_network_create(uuid, 1, n));
    CHECK(logic::network_matches(have, n));
    n.ipam.config.push_back(ipam_pool{"172.18.0.0/16", "172.18.0.1", "", {}});
    CHECK(logic::network_difference(have, n) == "ipam config differs");
  }
}

TEST_SUITE("volume_logic: app networks") {
  TEST_CASE("an app's networks are supervised and carry its uuid or id") {
    network_info n;
    n.name = uuid + "_default";
    CHECK_FALSE(logic::is_app_network(n, uuid, 123)); // unlabelled
    n.labels["io.balena.supervised"] = "true";
    CHECK(logic::is_app_network(n, uuid, 123));
    CHECK_FALSE(logic::is_app_network(n, "other", 123));
    network_info old;
    old.name = "123_default";
    old.labels["io.balena.supervised"] = "true";
    CHECK_FALSE(logic::is_app_network(old, uuid, 123)); // no app-id label
    old.labels["io.balena.app-id"] = "123";
    CHECK(logic::is_app_network(old, uuid, 123));
    CHECK_FALSE(logic::is_app_network(old, uuid, 12));
  }
}
