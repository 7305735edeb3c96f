// The simulated engine's model on its own: Docker's state machine, names,
// errors and events, without actors or time.
#include "actors/apps/container_spec.hpp"
#include "tools/fleet-sim/sim_world.hpp"

#include <doctest/doctest.h>

namespace bosun::simtest {
namespace {

using namespace bosun::sim;

std::pair<engine_errc, std::string> what(const caf::error& e) {
  REQUIRE(e);
  return {static_cast<engine_errc>(e.code()), engine_error_message(e)};
}

container_create spec_of(const std::string& name,
                         const std::string& image = "reg.local/app:1") {
  container_create c;
  c.name = name;
  c.config.image = image;
  c.config.labels["io.balena.supervised"] = "true";
  return c;
}

struct fresh {
  world w{7};
  fresh() {
    container_config img;
    img.env = {"PATH=/bin"};
    img.cmd = string_list{"sh"};
    w.add_image("reg.local/app:1", 1000, img);
    w.events.clear();
  }

  std::vector<std::string> actions() {
    std::vector<std::string> out;
    for (const auto& e : w.events)
      out.push_back(e.type + " " + e.action);
    w.events.clear();
    return out;
  }
};

} // namespace

TEST_SUITE("sim world: containers") {
  // fleet-sim times convergence by it (the moment a device's containers
  // last changed), not by its probes, which wait behind busy workers.
  TEST_CASE_FIXTURE(fresh, "the last container change is recorded; other "
                           "objects' changes leave it") {
    CHECK(w.last_container_change_ns() == 0);
    auto id = w.create(spec_of("web"));
    REQUIRE(id);
    auto created = w.last_container_change_ns();
    CHECK(created > 0);
    REQUIRE(!w.start(*id));
    auto started = w.last_container_change_ns();
    CHECK(started >= created);
    volume_create v;
    v.name = "data";
    REQUIRE(w.create_volume(v));
    container_config img;
    w.add_image("reg.local/other:1", 10, img);
    CHECK(w.last_container_change_ns() == started);
    REQUIRE(!w.stop(*id));
    CHECK(w.last_container_change_ns() >= started);
    CHECK(w.last_container_change_ns() > created);
  }

  TEST_CASE_FIXTURE(fresh, "a container goes created, running, exited with "
                           "the events dockerd emits") {
    auto id = w.create(spec_of("web"));
    REQUIRE(id);
    CHECK(id->size() == 64);
    CHECK(w.inspect(*id)->state.status == "created");
    CHECK(actions() == std::vector<std::string>{"container create"});
    REQUIRE(!w.start(*id));
    auto i = w.inspect("web");
    CHECK(i->state.status == "running");
    CHECK(i->state.running);
    CHECK(i->state.started_at != "0001-01-01T00:00:00Z");
    CHECK(actions()
          == std::vector<std::string>{"network connect", "container start"});
    REQUIRE(!w.stop(*id, 143));
    i = w.inspect(*id);
    CHECK(i->state.status == "exited");
    CHECK(i->state.exit_code == 143);
    CHECK(actions()
          == std::vector<std::string>{"container kill", "container die",
                                      "network disconnect", "container stop"});
  }

  TEST_CASE_FIXTURE(fresh, "container events carry the labels, name, image "
                           "and exit code as attributes") {
    auto id = *w.create(spec_of("web"));
    w.start(id);
    w.exited(id, 3);
    auto die = *std::find_if(w.events.begin(), w.events.end(),
                             [](auto& e) { return e.action == "die"; });
    CHECK(die.action == "die");
    CHECK(die.actor_id == id);
    CHECK(die.attributes.at("exitCode") == "3");
    CHECK(die.attributes.at("name") == "web");
    CHECK(die.attributes.at("image") == "reg.local/app:1");
    CHECK(die.attributes.at("io.balena.supervised") == "true");
  }

  TEST_CASE_FIXTURE(fresh, "start and stop twice are 304s with the engine "
                           "actor's messages") {
    auto id = *w.create(spec_of("web"));
    REQUIRE(!w.start("web"));
    CHECK(what(w.start("web"))
          == std::pair{engine_errc::not_modified,
                       std::string{"container already started: web"}});
    REQUIRE(!w.stop("web"));
    CHECK(what(w.stop("web"))
          == std::pair{engine_errc::not_modified,
                       std::string{"container already stopped: web"}});
    CHECK(what(w.kill(id, "SIGKILL")).first == engine_errc::conflict);
  }

  TEST_CASE_FIXTURE(fresh, "names: one container per name, Docker's charset, "
                           "404 for unknown ones") {
    auto id = *w.create(spec_of("web"));
    auto again = w.create(spec_of("web"));
    REQUIRE(!again);
    CHECK(what(again.error())
          == std::pair{engine_errc::conflict,
                       "Conflict. The container name \"/web\" is already in "
                       "use by container \""
                         + id
                         + "\". You have to remove (or rename) that container "
                           "to be able to reuse that name."});
    auto bad = w.create(spec_of("no spaces"));
    CHECK(what(bad.error()).first == engine_errc::bad_request);
    auto other = *w.create(spec_of("db"));
    CHECK(what(w.rename(other, "web")).first == engine_errc::conflict);
    REQUIRE(!w.rename(other, "db2"));
    CHECK(w.inspect("db2")->id == other);
    CHECK(w.events.back().attributes.at("oldName") == "/db");
    CHECK(what(w.start("nope"))
          == std::pair{engine_errc::not_found,
                       std::string{"No such container: nope"}});
    CHECK(what(w.inspect("nope").error()).first == engine_errc::not_found);
    // A unique id prefix names the container, as in dockerd.
    CHECK(w.inspect(id.substr(0, 12))->id == id);
  }

  TEST_CASE_FIXTURE(fresh, "creating from a missing image is a 404") {
    auto r = w.create(spec_of("web", "reg.local/other"));
    CHECK(what(r.error())
          == std::pair{engine_errc::not_found,
                       std::string{"No such image: reg.local/other:latest"}});
  }

  TEST_CASE_FIXTURE(fresh, "a running container is removed only with force, "
                           "which kills it first") {
    auto id = *w.create(spec_of("web"));
    w.start(id);
    actions();
    auto r = w.remove(id, false, false);
    CHECK(what(r).first == engine_errc::conflict);
    CHECK(engine_error_message(r).find("You cannot remove a running container")
          == 0);
    REQUIRE(!w.remove(id, true, false));
    CHECK(actions()
          == std::vector<std::string>{"container kill", "container die",
                                      "network disconnect",
                                      "container destroy"});
    CHECK(w.containers().empty());
  }

  TEST_CASE_FIXTURE(fresh, "lists filter by label and status, newest first") {
    auto a = *w.create(spec_of("aa"));
    w.now_ns = 5;
    auto b = *w.create(spec_of("bb"));
    auto other = spec_of("cc");
    other.config.labels.clear();
    w.create(other);
    w.start(b);
    engine_filters f;
    f["label"] = string_list{"io.balena.supervised"};
    auto sup = w.list(true, f);
    REQUIRE(sup.size() == 2);
    CHECK(sup[0].id == b);
    CHECK(sup[1].id == a);
    CHECK(sup[1].state == "created");
    CHECK(w.list(false, {}).size() == 1);
  }

  TEST_CASE("a container created from a service's spec compares equal to "
            "it: an unchanged target is never recreated") {
    world w{1};
    container_config img;
    img.env = {"PATH=/usr/bin:/bin"};
    img.cmd = string_list{"/bin/sh"};
    img.working_dir = "/app";
    w.add_image("reg.local/web:1", 1000, img);
    target_app app;
    app.app_id = 1;
    app.uuid = "appuuid";
    app.name = "app";
    app.commit = "abc";
    app.release_id = 7;
    target_service svc;
    svc.name = "web";
    svc.service_id = 3;
    svc.image_id = 4;
    svc.image = "reg.local/web:1";
    svc.config.environment = {{"A", "1"}};
    app.services.push_back(svc);
    apps::spec_context ctx;
    ctx.device_uuid = "dev";
    auto image = w.image("reg.local/web:1");
    REQUIRE(image);
    auto spec = apps::make_container_spec(app, svc, ctx, &*image);
    REQUIRE(spec.ok());
    network_create net;
    net.name = spec.main_network;
    if (!net.name.empty())
      REQUIRE(w.create_network(net));
    auto id = w.create(spec.create);
    REQUIRE_MESSAGE(id, to_string(id.error()));
    for (const auto& [name, es] : spec.extra_networks) {
      network_create extra;
      extra.name = name;
      w.create_network(extra);
      REQUIRE(!w.connect(name, {*id, es}));
    }
    auto cmp = apps::compare(*w.inspect(*id), spec);
    std::string diffs;
    for (const auto& d : cmp.differences)
      diffs += d + "; ";
    CHECK_MESSAGE(cmp.equal(), diffs);
  }
}

TEST_SUITE("sim world: images, volumes, networks") {
  TEST_CASE_FIXTURE(fresh, "an image a container uses is not removed; one of "
                           "two tags is just untagged") {
    auto id = *w.create(spec_of("web"));
    auto r = w.remove_image("reg.local/app:1", false);
    CHECK(what(r.error()).first == engine_errc::conflict);
    CHECK(engine_error_message(r.error()).find(
            "conflict: unable to remove repository reference")
          == 0);
    REQUIRE(!w.tag("reg.local/app:1", {"reg.local/app", "2"}));
    auto untag = w.remove_image("reg.local/app:2", false);
    REQUIRE(untag);
    CHECK(untag->size() == 1);
    CHECK(w.has_image("reg.local/app:1"));
    CHECK(!w.has_image("reg.local/app:2"));
    w.remove(id, false, false);
    auto gone = w.remove_image("reg.local/app:1", false);
    REQUIRE(gone);
    CHECK(gone->back().deleted.rfind("sha256:", 0) == 0);
    CHECK(!w.has_image("reg.local/app:1"));
    CHECK(what(w.remove_image("reg.local/app:1", false).error()).first
          == engine_errc::not_found);
  }

  TEST_CASE_FIXTURE(fresh, "the same image name has the same id on every "
                           "simulated engine") {
    world other{99};
    other.add_image("reg.local/app:1", 1000, {});
    CHECK(other.image("reg.local/app:1")->id == w.image("reg.local/app:1")->id);
  }

  TEST_CASE_FIXTURE(fresh, "a named volume is made with its container and "
                           "kept while one uses it") {
    auto spec = spec_of("web");
    spec.host.binds = {"1_data:/data"};
    auto id = *w.create(spec);
    REQUIRE(w.volume("1_data"));
    auto r = w.remove_volume("1_data", false);
    CHECK(what(r)
          == std::pair{engine_errc::conflict,
                       "remove 1_data: volume is in use - [" + id + "]"});
    w.remove(id, false, false);
    REQUIRE(!w.remove_volume("1_data", false));
    CHECK(what(w.volume("1_data").error())
          == std::pair{engine_errc::not_found,
                       std::string{"get 1_data: no such volume"}});
    CHECK(what(w.create_volume({"/abs", "", {}, {}}).error()).first
          == engine_errc::bad_request);
  }

  TEST_CASE_FIXTURE(fresh, "networks: unique names, aliases, no removal with "
                           "active endpoints or of predefined ones") {
    network_create n;
    n.name = "u_default";
    auto nid = w.create_network(n);
    REQUIRE(nid);
    CHECK(what(w.create_network(n).error()).first == engine_errc::conflict);
    auto spec = spec_of("web");
    spec.host.network_mode = "u_default";
    spec.networking.endpoints_config["u_default"].aliases = {"web"};
    auto id = *w.create(spec);
    auto ep = w.inspect(id)->network.networks.at("u_default");
    CHECK(ep.aliases == string_list{"web", id.substr(0, 12)});
    CHECK(ep.ip_address.rfind("172.18.0.", 0) == 0);
    w.start(id);
    CHECK(w.network("u_default")->containers.count(id) == 1);
    auto busy = w.remove_network("u_default");
    CHECK(what(busy).first == engine_errc::bad_request);
    CHECK(engine_error_message(busy).find("has active endpoints")
          != std::string::npos);
    CHECK(what(w.remove_network("bridge")).first == engine_errc::bad_request);
    w.stop(id);
    REQUIRE(!w.remove_network(*nid));
    CHECK(what(w.network("u_default").error())
          == std::pair{engine_errc::not_found,
                       std::string{"network u_default not found"}});
  }
}

} // namespace bosun::simtest
