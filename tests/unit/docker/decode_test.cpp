// Decoding responses recorded from a real dockerd 20.10 (API 1.41).
#include "api/docker/codec.hpp"
#include "data.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::docker;
using bosun::docker::test::load;

TEST_SUITE("docker codec: recorded responses") {
  TEST_CASE("decodes /version") {
    auto v = decode_version(load("version.json"));
    REQUIRE_MESSAGE(v, v.err.value_or(""));
    CHECK(v->version == "20.10.24+dfsg1");
    CHECK(v->api_version == "1.41");
    CHECK(v->min_api_version == "1.12");
    CHECK(v->os == "linux");
    CHECK(v->arch == "amd64");
    CHECK(v->kernel_version == "6.18.44-fc-v657");
    CHECK(v->go_version == "go1.19.8");
  }

  TEST_CASE("decodes /info") {
    auto i = decode_info(load("info.json"));
    REQUIRE_MESSAGE(i, i.err.value_or(""));
    CHECK(i->id
          == "G7JJ:R7WP:OZDS:VGBO:4RH5:A3MY:EGDK:STE4:QOSF:OSQK:EIL2:VABS");
    CHECK(i->name == "vm");
    CHECK(i->images == 1);
    CHECK(i->containers == 0);
    CHECK(i->driver == "vfs");
    CHECK(i->ncpu == 2);
    CHECK(i->mem_total == 25276510208);
    CHECK(i->server_version == "20.10.24+dfsg1");
    CHECK(i->cgroup_version == "1");
    CHECK(i->os_type == "linux");
    CHECK(i->warnings.empty()); // null
  }

  TEST_CASE("decodes a running container's inspect, every create field") {
    auto r = decode_container_inspect(load("container_inspect_running.json"));
    REQUIRE_MESSAGE(r, r.err.value_or(""));
    auto& c = *r;
    CHECK(
      c.id
      == "9aa91a5519807cacedbd2fcbc603a8bd55b39775750f46e028890d60a4847204");
    CHECK(c.name == "/main_1_2_abc");
    CHECK(c.created == "2026-11-23T11:15:07.474392442Z");
    CHECK(
      c.image
      == "sha256:"
         "a494b9f5dce0af60c9bb7ac7a24dc6d1cb01d640c37acdb59619c4e1d8819aa5");
    CHECK(c.path == "/bin/sh");
    CHECK(c.args == string_list{"-c", "echo hello; sleep 1000"});
    CHECK(c.restart_count == 0);
    CHECK(c.driver == "vfs");

    CHECK(c.state.status == "running");
    CHECK(c.state.running);
    CHECK_FALSE(c.state.oom_killed);
    CHECK(c.state.pid == 9160);
    CHECK(c.state.started_at == "2026-11-23T11:15:07.900373912Z");
    CHECK(c.state.finished_at == "0001-01-01T00:00:00Z");
    REQUIRE(c.state.health);
    CHECK(c.state.health->status == "healthy");
    REQUIRE(c.state.health->log.size() == 1);
    CHECK(c.state.health->log[0].end == "2026-11-23T11:15:09.95713859Z");

    auto& cfg = c.config;
    CHECK(cfg.hostname == "mainhost");
    CHECK(cfg.domainname == "example.local");
    CHECK(cfg.user == "root");
    CHECK(cfg.tty);
    CHECK(cfg.exposed_ports == string_list{"5353/udp", "80/tcp", "8080/tcp"});
    CHECK(cfg.env
          == string_list{"BALENA=1", "BALENA_APP_ID=1", "FOO=from-service",
                         "PATH=/bin"});
    REQUIRE(cfg.cmd);
    CHECK(*cfg.cmd == string_list{"/bin/sh", "-c", "echo hello; sleep 1000"});
    REQUIRE(cfg.entrypoint); // [] is not null: it resets the image's
    CHECK(cfg.entrypoint->empty());
    REQUIRE(cfg.healthcheck);
    CHECK(cfg.healthcheck->test == string_list{"CMD-SHELL", "test -e /tmp"});
    CHECK(cfg.healthcheck->interval == 2000000000);
    CHECK(cfg.healthcheck->timeout == 1000000000);
    CHECK(cfg.healthcheck->start_period == 3000000000);
    CHECK(cfg.healthcheck->retries == 4);
    CHECK(cfg.image == "local/busybox:1");
    CHECK(cfg.volumes == string_list{"/anon", "/data"});
    CHECK(cfg.working_dir == "/tmp");
    CHECK(cfg.labels.at("io.balena.service-name") == "main");
    CHECK(cfg.labels.at("org.example.base") == "busybox"); // image's
    CHECK(cfg.labels.at("user.label") == "x y");
    CHECK(cfg.mac_address == "02:42:ac:1f:07:0a");
    CHECK(cfg.stop_signal == "SIGTERM");
    CHECK(cfg.stop_timeout == 15);

    auto& h = c.host;
    CHECK(h.binds
          == string_list{"1_data:/data", "/srv/bosun-rec:/tmp/balena:ro"});
    REQUIRE(h.mounts.size() == 3);
    CHECK(h.mounts[0].type == "volume");
    CHECK(h.mounts[0].source == "1_cache");
    CHECK(h.mounts[0].target == "/cache");
    REQUIRE(h.mounts[0].volume_options);
    CHECK(h.mounts[0].volume_options->no_copy);
    CHECK(h.mounts[0].volume_options->labels.at("k") == "v");
    CHECK(h.mounts[1].type == "tmpfs");
    REQUIRE(h.mounts[1].tmpfs_options);
    CHECK(h.mounts[1].tmpfs_options->size_bytes == 1048576);
    CHECK(h.mounts[1].tmpfs_options->mode == 1023);
    CHECK(h.mounts[2].read_only);
    REQUIRE(h.mounts[2].bind_options);
    CHECK(h.mounts[2].bind_options->propagation == "rprivate");
    CHECK(h.tmpfs.at("/run") == "size=1m");
    REQUIRE(h.port_bindings.size() == 2);
    CHECK(h.port_bindings.at("80/tcp").at(0).host_ip == "127.0.0.1");
    CHECK(h.port_bindings.at("80/tcp").at(0).host_port == "18080");
    CHECK(h.port_bindings.at("5353/udp").at(0).host_ip.empty());
    CHECK(h.network_mode == "rec_net");
    CHECK(h.restart_policy.name == "no");
    CHECK(h.cap_add == string_list{"NET_ADMIN", "SYS_TIME"});
    CHECK(h.cap_drop == string_list{"MKNOD"});
    REQUIRE(h.devices.size() == 1);
    CHECK(h.devices[0].path_on_host == "/dev/null");
    CHECK(h.devices[0].path_in_container == "/dev/mynull");
    CHECK(h.devices[0].cgroup_permissions == "rwm");
    CHECK(h.device_requests.empty());
    CHECK(h.dns == string_list{"1.1.1.1", "8.8.8.8"});
    CHECK(h.dns_search == string_list{"example.local"});
    CHECK(h.dns_options == string_list{"ndots:2"});
    CHECK(h.extra_hosts == string_list{"myhost:10.0.0.5"});
    CHECK(h.group_add == string_list{"audio"});
    CHECK(h.ipc_mode == "shareable");
    CHECK(h.cgroupns_mode == "host");
    CHECK(h.shm_size == 67108864);
    CHECK(h.sysctls.at("net.ipv4.ip_unprivileged_port_start") == "0");
    REQUIRE(h.ulimits.size() == 1);
    CHECK(h.ulimits[0].name == "nofile");
    CHECK(h.ulimits[0].soft == 1024);
    CHECK(h.ulimits[0].hard == 2048);
    CHECK(h.security_opt == string_list{"no-new-privileges"});
    REQUIRE(h.log_config);
    CHECK(h.log_config->type == "json-file");
    CHECK(h.log_config->config.at("max-size") == "1m");
    CHECK(h.memory == 134217728);
    CHECK(h.memory_reservation == 67108864);
    CHECK(h.memory_swap == 268435456);
    CHECK_FALSE(h.memory_swappiness); // null
    CHECK(h.nano_cpus == 500000000);
    CHECK(h.cpu_shares == 256);
    CHECK(h.cpuset_cpus == "0");
    CHECK(h.oom_score_adj == 100);
    CHECK(h.pids_limit == 200);
    CHECK(h.init == true);
    CHECK(h.runtime == "runc");

    REQUIRE(c.network.networks.size() == 2);
    auto& net = c.network.networks.at("rec_net");
    REQUIRE(net.ipam_config);
    CHECK(net.ipam_config->ipv4_address == "172.31.7.10");
    CHECK(net.aliases
          == string_list{"main", "web", "9aa91a551980", "mainhost"});
    CHECK(
      net.network_id
      == "2f9ca3069096b16e0f0d62c6f56161ea7f3399fc01fa521af6cec84f1b38a879");
    CHECK(net.ip_address == "172.31.7.10");
    CHECK(net.ip_prefix_len == 24);
    CHECK(net.gateway == "172.31.7.1");
    CHECK(net.mac_address == "02:42:ac:1f:07:0a");
    CHECK_FALSE(c.network.networks.at("rec_other").ipam_config); // null
    CHECK(c.network.ports.at("8080/tcp").empty()); // exposed, not published
    CHECK(c.network.ports.at("5353/udp").size() == 2);

    REQUIRE(c.mounts.size() == 6);
    CHECK(c.mounts[2].type == "volume");
    CHECK(c.mounts[2].name == "1_data");
    CHECK(c.mounts[2].destination == "/data");
    CHECK(c.mounts[2].rw);
    CHECK_FALSE(c.mounts[3].rw);
  }

  TEST_CASE("decodes an exited and a created container") {
    auto e = decode_container_inspect(load("container_inspect_exited.json"));
    REQUIRE_MESSAGE(e, e.err.value_or(""));
    CHECK(e->state.status == "exited");
    CHECK(e->state.exit_code == 3);
    CHECK_FALSE(e->state.running);
    CHECK_FALSE(e->state.health);
    CHECK(e->state.finished_at == "2026-11-23T11:15:11.246282118Z");
    CHECK_FALSE(e->config.entrypoint); // null: the image's
    CHECK(e->host.network_mode == "none");

    auto c = decode_container_inspect(load("container_inspect_created.json"));
    REQUIRE_MESSAGE(c, c.err.value_or(""));
    CHECK(c->state.status == "created");
    CHECK(c->state.started_at == "0001-01-01T00:00:00Z");
    REQUIRE(c->host.device_requests.size() == 1);
    auto& gpu = c->host.device_requests[0];
    CHECK(gpu.driver.empty());
    CHECK(gpu.count == 1);
    CHECK(gpu.capabilities == std::vector<string_list>{{"gpu"}});
    CHECK_FALSE(c->config.healthcheck);
    CHECK(c->config.env == string_list{"PATH=/bin", "FOO=bar"});
  }

  TEST_CASE("decodes the container list") {
    auto l = decode_container_list(load("container_list.json"));
    REQUIRE_MESSAGE(l, l.err.value_or(""));
    REQUIRE(l->size() == 4);
    auto& gpu = l->at(0);
    CHECK(gpu.names == string_list{"/gpu"});
    CHECK(gpu.state == "created");
    CHECK(gpu.image == "local/busybox:1");
    CHECK(gpu.created == 1795432511);
    CHECK(gpu.networks.count("none") == 1);
    auto& main = l->at(3);
    CHECK(main.names == string_list{"/main_1_2_abc"});
    CHECK(main.state == "running");
    CHECK(main.status == "Up 3 seconds (healthy)");
    CHECK(main.labels.at("io.balena.supervised") == "true");
    CHECK(main.networks.size() == 2);
    CHECK(main.networks.at("rec_net").ip_address == "172.31.7.10");
    CHECK(main.mounts.size() == 6);
  }

  TEST_CASE("decodes create, update and wait responses") {
    auto c
      = decode_container_create_result(load("container_create_response.json"));
    REQUIRE_MESSAGE(c, c.err.value_or(""));
    CHECK(
      c->id
      == "9aa91a5519807cacedbd2fcbc603a8bd55b39775750f46e028890d60a4847204");
    CHECK(c->warnings.empty());

    auto u
      = decode_container_update_result(load("container_update_response.json"));
    REQUIRE_MESSAGE(u, u.err.value_or(""));
    CHECK(u->warnings.empty());

    auto w = decode_wait_result(load("wait_response.json"));
    REQUIRE_MESSAGE(w, w.err.value_or(""));
    CHECK(w->status_code == 3);
    CHECK(w->error.empty());

    auto we = decode_wait_result(
      R"({"StatusCode":-1,"Error":{"Message":"container gone"}})");
    REQUIRE(we);
    CHECK(we->status_code == -1);
    CHECK(we->error == "container gone");
  }

  TEST_CASE("decodes images") {
    auto l = decode_image_list(load("image_list.json"));
    REQUIRE_MESSAGE(l, l.err.value_or(""));
    REQUIRE(l->size() == 1);
    CHECK(l->at(0).repo_tags == string_list{"local/busybox:1"});
    CHECK(l->at(0).repo_digests.empty()); // null
    CHECK(l->at(0).containers == -1);
    CHECK(l->at(0).size == 1982308);
    CHECK(l->at(0).labels.at("org.example.base") == "busybox");

    auto i = decode_image_inspect(load("image_inspect.json"));
    REQUIRE_MESSAGE(i, i.err.value_or(""));
    CHECK(
      i->id
      == "sha256:"
         "a494b9f5dce0af60c9bb7ac7a24dc6d1cb01d640c37acdb59619c4e1d8819aa5");
    CHECK(i->created == "2026-11-23T11:14:58.193603995Z");
    CHECK(i->architecture == "amd64");
    CHECK(i->os == "linux");
    // The image defaults, in the same struct a container's Config uses.
    CHECK(i->config.user == "root");
    CHECK(i->config.env == string_list{"PATH=/bin", "FOO=bar"});
    REQUIRE(i->config.cmd);
    CHECK(*i->config.cmd == string_list{"/bin/sh"});
    CHECK_FALSE(i->config.entrypoint);
    CHECK(i->config.working_dir == "/tmp");
    CHECK(i->config.exposed_ports == string_list{"8080/tcp"});
    CHECK(i->config.volumes == string_list{"/data"});
    CHECK(i->config.labels.at("org.example.base") == "busybox");

    auto d = decode_image_delete_result(load("image_delete_response.json"));
    REQUIRE_MESSAGE(d, d.err.value_or(""));
    REQUIRE(d->size() == 2);
    CHECK(d->at(0).untagged == "127.0.0.1:5001/busybox:1");
    CHECK(d->at(0).deleted.empty());
  }

  TEST_CASE("decodes volumes") {
    auto v = decode_volume(load("volume.json"));
    REQUIRE_MESSAGE(v, v.err.value_or(""));
    CHECK(v->name == "1_data");
    CHECK(v->driver == "local");
    CHECK(v->mountpoint == "/tmp/dkc/root/volumes/1_data/_data");
    CHECK(v->created_at == "2026-11-23T11:15:07Z");
    CHECK(v->labels.at("io.balena.app-uuid") == "abc");
    CHECK(v->options.empty());
    CHECK(v->scope == "local");

    auto l = decode_volume_list(load("volume_list.json"));
    REQUIRE_MESSAGE(l, l.err.value_or(""));
    CHECK(l->volumes.size() == 10);
    CHECK(l->warnings.empty());
    bool found = false;
    for (auto& vol : l->volumes)
      if (vol.name == "1_cache") {
        found = true;
        CHECK(vol.options.at("type") == "tmpfs");
        CHECK(vol.labels.empty()); // null
      }
    CHECK(found);
  }

  TEST_CASE("decodes networks") {
    auto n = decode_network(load("network_inspect.json"));
    REQUIRE_MESSAGE(n, n.err.value_or(""));
    CHECK(n->name == "rec_net");
    CHECK(n->driver == "bridge");
    CHECK(n->attachable);
    CHECK_FALSE(n->internal);
    CHECK(n->ipam.driver == "default");
    REQUIRE(n->ipam.config.size() == 1);
    CHECK(n->ipam.config[0].subnet == "172.31.7.0/24");
    CHECK(n->ipam.config[0].gateway == "172.31.7.1");
    CHECK(n->ipam.config[0].ip_range == "172.31.7.128/25");
    CHECK(n->ipam.config[0].aux_addresses.at("router") == "172.31.7.2");
    CHECK(n->options.at("com.docker.network.bridge.name") == "recbr0");
    CHECK(n->labels.at("io.balena.app-id") == "1");
    REQUIRE(n->containers.size() == 1);
    auto& member = n->containers.begin()->second;
    CHECK(member.name == "main_1_2_abc");
    CHECK(member.ipv4_address == "172.31.7.10/24");

    auto l = decode_network_list(load("network_list.json"));
    REQUIRE_MESSAGE(l, l.err.value_or(""));
    REQUIRE(l->size() == 4);
    CHECK(l->at(0).name == "none");
    CHECK(l->at(1).driver == "host");

    auto c = decode_network_create_result(load("network_create_response.json"));
    REQUIRE_MESSAGE(c, c.err.value_or(""));
    CHECK(
      c->id
      == "2f9ca3069096b16e0f0d62c6f56161ea7f3399fc01fa521af6cec84f1b38a879");
    CHECK(c->warning.empty());
  }

  TEST_CASE("decodes error bodies") {
    CHECK(error_message(load("error_not_found.json"))
          == "No such container: nonexistent");
    CHECK(error_message(load("error_bad_request.json")) == "unexpected EOF");
    CHECK(error_message(load("pull_error_missing.json"))
          == "manifest for 127.0.0.1:5001/busybox:missing not found: manifest "
             "unknown: manifest unknown");
    CHECK(error_message("  page not found\n") == "page not found");
    CHECK(error_message("") == "empty error response");
    CHECK(error_message(R"({"message": 5})") == R"({"message": 5})");
    CHECK(error_message(std::string(5000, 'x')).size() == 1027);
  }
}
