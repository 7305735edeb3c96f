// The engine view's bookkeeping (actors/apps/engine_view.hpp): what a
// refresh reads after which event, without any actor.
#include "actors/apps/engine_view.hpp"

#include <doctest/doctest.h>

using namespace bosun;

namespace {

const std::set<std::string> images{"registry.local/web:1"};

engine_event event(const std::string& type, const std::string& action,
                   const std::string& id, string_map attributes = {}) {
  engine_event ev;
  ev.type = type;
  ev.action = action;
  ev.actor_id = id;
  ev.attributes = std::move(attributes);
  classify_event(ev);
  return ev;
}

container_inspect supervised(const std::string& id) {
  container_inspect c;
  c.id = id;
  c.config.labels["io.balena.supervised"] = "true";
  return c;
}

// A view read in full once, holding container c1 and the web image.
engine_view read_once() {
  engine_view v;
  auto r = v.next_reads(images);
  REQUIRE(r.full);
  engine_snapshot s;
  s.containers.push_back(supervised("c1"));
  image_inspect ii;
  ii.id = "sha256:web";
  s.images["registry.local/web:1"] = ii;
  v.replace(std::move(s));
  return v;
}

} // namespace

TEST_CASE("classify_event types Docker's strings") {
  auto h = event("container", "health_status: unhealthy", "c1");
  CHECK(h.kind == engine_object::container);
  CHECK(h.verb == engine_verb::health_status);
  CHECK(h.health == "unhealthy");
  CHECK(event("image", "delete", "sha256:x").verb == engine_verb::destroy);
  CHECK(event("network", "connect", "n1").verb == engine_verb::connect);
  CHECK(event("daemon", "reload", "d").kind == engine_object::other);
  CHECK(event("container", "exec_start: sh", "c1").verb == engine_verb::other);
}

TEST_CASE("the first refresh reads everything; then nothing is read again") {
  engine_view v;
  CHECK_FALSE(v.valid());
  auto v2 = read_once();
  CHECK(v2.valid());
  CHECK(v2.full_reads() == 1);
  CHECK(v2.next_reads(images).empty());
  CHECK(v2.partial_reads() == 0);
}

TEST_CASE("a container event reads just that container") {
  auto v = read_once();
  v.on_event(event("container", "die", "c1"));
  auto r = v.next_reads(images);
  CHECK_FALSE(r.full);
  CHECK(r.containers == std::set<std::string>{"c1"});
  CHECK_FALSE(r.networks);
  CHECK_FALSE(r.volumes);
  CHECK(r.images.empty());
  CHECK(v.partial_reads() == 1);
  // A container bosun does not supervise is none of its business.
  v.on_event(event("container", "start", "other"));
  CHECK(v.next_reads(images).empty());
  // A new supervised one is (its labels are in the event).
  v.on_event(
    event("container", "create", "c2", {{"io.balena.supervised", "true"}}));
  CHECK(v.next_reads(images).containers == std::set<std::string>{"c2"});
}

TEST_CASE("a destroyed container leaves the view without a read") {
  auto v = read_once();
  v.on_event(
    event("container", "destroy", "c1", {{"io.balena.supervised", "true"}}));
  CHECK(v.snapshot().containers.empty());
  CHECK(v.next_reads(images).empty());
}

TEST_CASE("exec and attach events change nothing a pass plans from") {
  auto v = read_once();
  v.on_event(event("container", "exec_start: /bin/true", "c1"));
  v.on_event(event("container", "exec_die", "c1"));
  v.on_event(event("container", "attach", "c1"));
  CHECK(v.next_reads(images).empty());
}

TEST_CASE("networks and volumes are listed again when they changed") {
  auto v = read_once();
  v.on_event(event("network", "create", "n1", {{"name", "1_default"}}));
  v.on_event(event("volume", "create", "1_data"));
  v.on_event(event("volume", "mount", "1_data")); // changes no list
  auto r = v.next_reads(images);
  CHECK(r.networks);
  CHECK(r.volumes);
  CHECK(r.containers.empty());
  // A connect changes the container it names, when it is ours.
  v.on_event(event("network", "connect", "n1", {{"container", "c1"}}));
  v.on_event(event("network", "connect", "n1", {{"container", "nobody"}}));
  r = v.next_reads(images);
  CHECK(r.containers == std::set<std::string>{"c1"});
  CHECK_FALSE(r.networks);
}

TEST_CASE("images: a new target image is read once, then on its events") {
  auto v = read_once();
  std::set<std::string> two{"registry.local/web:1", "registry.local/db:1"};
  auto r = v.next_reads(two);
  CHECK(r.images == std::set<std::string>{"registry.local/db:1"});
  v.put_image("registry.local/db:1", std::nullopt); // not on the engine
  CHECK(v.next_reads(two).empty());                 // known to be absent
  // Pulled under a name the engine normalised: the absent one is read.
  v.on_event(event("image", "pull", "docker.io/registry.local/db:1"));
  CHECK(v.next_reads(two).images
        == std::set<std::string>{"registry.local/db:1"});
  // Deleted by id: the reference with that id is read again.
  v.on_event(event("image", "delete", "sha256:web"));
  CHECK(v.next_reads(two).images
        == std::set<std::string>{"registry.local/web:1"});
  // An image the target no longer names is dropped from the view.
  v.next_reads({"registry.local/db:1"});
  CHECK(v.snapshot().images.count("registry.local/web:1") == 0);
}

TEST_CASE("a change while a read is in flight is read again next time") {
  auto v = read_once();
  v.on_event(event("container", "start", "c1"));
  auto r = v.next_reads(images); // the read of c1 starts
  REQUIRE(r.containers.count("c1") == 1);
  v.on_event(event("container", "die", "c1")); // meanwhile c1 dies
  v.put_container(supervised("c1"));           // the (older) answer
  CHECK(v.next_reads(images).containers == std::set<std::string>{"c1"});
}

TEST_CASE("invalidate: the next refresh is a full read, counted") {
  auto v = read_once();
  v.on_event(event("container", "die", "c1"));
  v.invalidate();
  auto r = v.next_reads(images);
  CHECK(r.full);
  CHECK(r.containers.empty());
  CHECK(v.full_reads() == 2);
  // A full read that failed (replace never came) is tried again.
  CHECK(v.next_reads(images).full);
  v.replace({});
  CHECK(v.next_reads(images).images
        == std::set<std::string>{"registry.local/web:1"});
}

TEST_CASE("an inspect that shows no supervised label drops the container") {
  auto v = read_once();
  container_inspect c;
  c.id = "c1";
  v.put_container(c);
  CHECK(v.snapshot().containers.empty());
}
