// Request targets and bodies, and create-body round trips.
#include "api/docker/codec.hpp"
#include "data.hpp"

#include <algorithm>
#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::docker;
using bosun::docker::test::load;

namespace {

std::string base64url_decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '-')
      return 62;
    if (c == '_')
      return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0)
      break;
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(acc >> bits & 0xFF);
    }
  }
  return out;
}

container_create body_of(const container_inspect& c) {
  container_create out;
  out.config = c.config;
  out.host = c.host;
  return out;
}

} // namespace

TEST_SUITE("docker codec: targets") {
  TEST_CASE("escapes names and query values") {
    CHECK(url_escape("abc-._~XYZ09") == "abc-._~XYZ09");
    CHECK(url_escape("a b/c?d&e=f%") == "a%20b%2Fc%3Fd%26e%3Df%25");
    CHECK(url_escape("\xc3\xa9") == "%C3%A9");
    CHECK(create_container_target("main_1_2_abc")
          == "/v1.41/containers/create?name=main_1_2_abc");
    CHECK(create_container_target("a b")
          == "/v1.41/containers/create?name=a%20b");
    CHECK(create_container_target("") == "/v1.41/containers/create");
    CHECK(inspect_container_target("../x") == "/v1.41/containers/..%2Fx/json");
  }

  TEST_CASE("builds container targets") {
    CHECK(list_containers_target(true, {{"label", {"io.balena.supervised"}}})
          == "/v1.41/containers/json?all=1&filters="
             "%7B%22label%22%3A%5B%22io.balena.supervised%22%5D%7D");
    CHECK(list_containers_target(false) == "/v1.41/containers/json");
    CHECK(start_container_target("abc") == "/v1.41/containers/abc/start");
    CHECK(stop_container_target("abc", 10)
          == "/v1.41/containers/abc/stop?t=10");
    CHECK(stop_container_target("abc") == "/v1.41/containers/abc/stop");
    CHECK(restart_container_target("abc", 0)
          == "/v1.41/containers/abc/restart?t=0");
    CHECK(kill_container_target("abc", "SIGKILL")
          == "/v1.41/containers/abc/kill?signal=SIGKILL");
    CHECK(remove_container_target("abc", true, true)
          == "/v1.41/containers/abc?force=1&v=1");
    CHECK(remove_container_target("abc") == "/v1.41/containers/abc");
    CHECK(rename_container_target("abc", "old_main")
          == "/v1.41/containers/abc/rename?name=old_main");
    CHECK(update_container_target("abc") == "/v1.41/containers/abc/update");
    CHECK(wait_container_target("abc", "not-running")
          == "/v1.41/containers/abc/wait?condition=not-running");
    container_logs_options logs;
    CHECK(logs_target("abc", logs)
          == "/v1.41/containers/abc/logs?stdout=1&stderr=1");
    logs.follow = true;
    logs.timestamps = true;
    logs.include_stderr = false;
    logs.since = 1700000000;
    logs.tail = 100;
    CHECK(logs_target("abc", logs)
          == "/v1.41/containers/abc/logs?stdout=1&stderr=0&follow=1"
             "&timestamps=1&since=1700000000&tail=100");
  }

  TEST_CASE("builds image, volume, network and event targets") {
    CHECK(inspect_image_target("127.0.0.1:5001/busybox:1")
          == "/v1.41/images/127.0.0.1:5001/busybox:1/json");
    CHECK(inspect_image_target("sha256:abc")
          == "/v1.41/images/sha256:abc/json");
    CHECK(inspect_image_target("a b?") == "/v1.41/images/a%20b%3F/json");
    CHECK(pull_image_target({"127.0.0.1:5001/busybox", "1", {}})
          == "/v1.41/images/create?fromImage=127.0.0.1%3A5001%2Fbusybox&tag=1");
    CHECK(pull_image_target({"repo@sha256:ab", "", {}})
          == "/v1.41/images/create?fromImage=repo%40sha256%3Aab");
    CHECK(tag_image_target("sha256:abc", {"registry/app", "v2"})
          == "/v1.41/images/sha256:abc/tag?repo=registry%2Fapp&tag=v2");
    CHECK(remove_image_target("repo:1", true, true)
          == "/v1.41/images/repo:1?force=1&noprune=1");
    CHECK(list_images_target() == "/v1.41/images/json");
    CHECK(list_volumes_target({{"label", {"a=b"}}})
          == "/v1.41/volumes?filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
    CHECK(create_volume_target() == "/v1.41/volumes/create");
    CHECK(inspect_volume_target("1_data") == "/v1.41/volumes/1_data");
    CHECK(remove_volume_target("1_data", true)
          == "/v1.41/volumes/1_data?force=1");
    CHECK(list_networks_target() == "/v1.41/networks");
    CHECK(create_network_target() == "/v1.41/networks/create");
    CHECK(inspect_network_target("n") == "/v1.41/networks/n");
    CHECK(remove_network_target("n") == "/v1.41/networks/n");
    CHECK(connect_network_target("n") == "/v1.41/networks/n/connect");
    CHECK(disconnect_network_target("n") == "/v1.41/networks/n/disconnect");
    CHECK(ping_target() == "/v1.41/_ping");
    CHECK(version_target() == "/v1.41/version");
    CHECK(info_target() == "/v1.41/info");
    events_query q;
    CHECK(events_target(q) == "/v1.41/events");
    q.since = 1700000000;
    q.filters = {{"type", {"container", "image"}}};
    CHECK(events_target(q)
          == "/v1.41/events?since=1700000000&filters=%7B%22type%22%3A%5B%22"
             "container%22%2C%22image%22%5D%7D");
    CHECK(encode_filters(
            {{"label", {"io.balena.supervised"}}, {"dangling", {"true"}}})
          == R"({"dangling":["true"],"label":["io.balena.supervised"]})");
  }

  TEST_CASE("encodes base64url and the registry auth header") {
    CHECK(base64url("") == "");
    CHECK(base64url("f") == "Zg==");
    CHECK(base64url("fo") == "Zm8=");
    CHECK(base64url("foo") == "Zm9v");
    CHECK(base64url("foob") == "Zm9vYg==");
    CHECK(base64url("fooba") == "Zm9vYmE=");
    CHECK(base64url("foobar") == "Zm9vYmFy");
    CHECK(base64url("\xfb\xff") == "-_8=");
    registry_auth auth{"u\"ser", "p@ss", "registry.example:5000", ""};
    auto header = registry_auth_header(auth);
    CHECK(header.find_first_of("+/") == std::string::npos);
    CHECK(
      base64url_decode(header)
      == R"({"username":"u\"ser","password":"p@ss","serveraddress":"registry.example:5000"})");
    auth.identity_token = "tok";
    CHECK(base64url_decode(registry_auth_header(auth))
            .find(R"("identitytoken":"tok")")
          != std::string::npos);
  }
}

TEST_SUITE("docker codec: bodies") {
  TEST_CASE("leaves absent optionals out of a create body") {
    container_create c;
    c.config.image = "local/busybox:1";
    auto body = encode(c);
    for (auto* key :
         {"\"Cmd\"", "\"Entrypoint\"", "\"Healthcheck\"", "\"StopTimeout\"",
          "\"ShmSize\"", "\"LogConfig\"", "\"PidsLimit\"", "\"Init\"",
          "\"MemorySwappiness\"", "\"StorageOpt\""})
      CHECK_MESSAGE(body.find(key) == std::string::npos, key << " in " << body);
    CHECK(body.find(R"("DeviceRequests":[])") != std::string::npos);
    CHECK(body.find(R"("EndpointsConfig":{})") != std::string::npos);
    c.config.entrypoint = string_list{};
    c.config.cmd = string_list{"a"};
    c.host.init = false;
    c.config.healthcheck = health_config{{"NONE"}, {}, {}, {}, {}};
    body = encode(c);
    CHECK(body.find(R"("Entrypoint":[])") != std::string::npos);
    CHECK(body.find(R"("Cmd":["a"])") != std::string::npos);
    CHECK(body.find(R"("Init":false)") != std::string::npos);
    CHECK(body.find(R"("Healthcheck":{"Test":["NONE"]})") != std::string::npos);
  }

  TEST_CASE("a create body survives encode and decode unchanged") {
    auto sent = decode_container_create(load("create_body.json"));
    REQUIRE_MESSAGE(sent, sent.err.value_or(""));
    auto body = encode(*sent);
    auto back = decode_container_create(body);
    REQUIRE_MESSAGE(back, back.err.value_or(""));
    CHECK(encode(*back) == body);
    // Spot checks that the file's values made it through.
    CHECK(back->config.healthcheck->start_period == 3000000000);
    CHECK(back->config.entrypoint == string_list{});
    CHECK(back->host.mounts.at(1).tmpfs_options->mode == 1023);
    CHECK(back->host.mounts.at(0).volume_options->labels.at("k") == "v");
    CHECK(back->host.port_bindings.at("80/tcp").at(0).host_port == "18080");
    CHECK(back->host.pids_limit == 200);
    CHECK(back->host.init == true);
    auto& ep = back->networking.endpoints_config.at("rec_net");
    CHECK(ep.aliases == string_list{"main", "web"});
    CHECK(ep.ipam_config->ipv4_address == "172.31.7.10");
  }

  TEST_CASE("an inspected container's config encodes back to what was sent") {
    auto sent = decode_container_create(load("create_body.json"));
    REQUIRE(sent);
    auto got = decode_container_inspect(load("container_inspect_running.json"));
    REQUIRE_MESSAGE(got, got.err.value_or(""));
    auto from_inspect = body_of(*got);
    auto expected = *sent;
    expected.networking = {};
    // What the engine adds on its own: image defaults merged into Config,
    // and daemon defaults in HostConfig.
    expected.config.exposed_ports.push_back("8080/tcp");
    std::sort(expected.config.exposed_ports.begin(),
              expected.config.exposed_ports.end());
    expected.config.volumes.push_back("/data");
    expected.config.labels["org.example.base"] = "busybox";
    expected.host.runtime = "runc";
    expected.host.cgroupns_mode = "host";
    CHECK(encode(from_inspect) == encode(expected));
    // Field by field, with the value types' operator==.
    CHECK(got->host.mounts == sent->host.mounts);
    CHECK(got->host.port_bindings == sent->host.port_bindings);
    CHECK(got->host.devices == sent->host.devices);
    CHECK(got->host.device_requests == sent->host.device_requests);
    CHECK(got->host.ulimits == sent->host.ulimits);
    CHECK(got->host.log_config == sent->host.log_config);
    CHECK(got->host.restart_policy == sent->host.restart_policy);
    CHECK(got->config.healthcheck == sent->config.healthcheck);
    auto other = sent->host.mounts;
    other[0].volume_options->labels["k"] = "w";
    CHECK(got->host.mounts != other);
    other = sent->host.mounts;
    other[2].bind_options->propagation = "rshared";
    CHECK(got->host.mounts != other);
    // And the inspect-derived body is itself a valid create body.
    auto again = decode_container_create(encode(from_inspect));
    REQUIRE(again);
    CHECK(encode(*again) == encode(from_inspect));
  }

  TEST_CASE("encodes network, volume and update bodies") {
    network_create n;
    n.name = "abc_default";
    n.labels = {{"io.balena.supervised", "true"}};
    n.ipam = network_ipam{
      "", {{"10.1.0.0/16", "10.1.0.1", "", {{"r", "10.1.0.2"}}}}, {}};
    auto body = encode(n);
    CHECK(body
          == R"({"Name":"abc_default","Driver":"bridge","CheckDuplicate":true,)"
             R"("Internal":false,"Attachable":false,"EnableIPv6":false,)"
             R"("ConfigOnly":false,"IPAM":{"Driver":"default","Config":[)"
             R"({"Subnet":"10.1.0.0/16","Gateway":"10.1.0.1",)"
             R"("AuxiliaryAddresses":{"r":"10.1.0.2"}}],"Options":{}},)"
             R"("Options":{},"Labels":{"io.balena.supervised":"true"}})");
    auto back = decode_network_create(body);
    REQUIRE(back);
    CHECK(encode(*back) == body);
    CHECK(back->ipam->config.at(0).aux_addresses.at("r") == "10.1.0.2");

    volume_create v{
      "1_data", "", {{"o", "size=1m"}}, {{"io.balena.supervised", "true"}}};
    CHECK(
      encode(v)
      == R"({"Name":"1_data","Driver":"local","DriverOpts":{"o":"size=1m"},)"
         R"("Labels":{"io.balena.supervised":"true"}})");
    auto vb = decode_volume_create(encode(v));
    REQUIRE(vb);
    CHECK(vb->driver == "local");
    CHECK(vb->driver_opts.at("o") == "size=1m");

    container_update u;
    CHECK(encode(u) == "{}");
    u.memory = 1048576;
    u.restart_policy = restart_policy_config{"on-failure", 3};
    CHECK(encode(u)
          == R"({"Memory":1048576,"RestartPolicy":{"Name":"on-failure",)"
             R"("MaximumRetryCount":3}})");

    network_connect c;
    c.container = "abc";
    c.endpoint_config.aliases = {"main"};
    c.endpoint_config.ipam_config = endpoint_ipam_config{"10.1.0.5", "", {}};
    c.endpoint_config.ip_address = "ignored: state, not config";
    CHECK(encode(c)
          == R"({"Container":"abc","EndpointConfig":{"IPAMConfig":)"
             R"({"IPv4Address":"10.1.0.5"},"Links":[],"Aliases":["main"]}})");
    CHECK(encode(network_disconnect{"abc", true})
          == R"({"Container":"abc","Force":true})");
  }

  TEST_CASE("strings with quotes, control bytes and NULs encode as JSON") {
    container_create c;
    c.config.env = {std::string("A=\"x\"\n\t\\", 9), std::string("B=\0z", 4)};
    auto body = encode(c);
    auto back = decode_container_create(body);
    REQUIRE_MESSAGE(back, back.err.value_or(""));
    CHECK(back->config.env == c.config.env);
  }
}
