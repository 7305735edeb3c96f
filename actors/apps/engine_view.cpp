#include "actors/apps/engine_view.hpp"

#include <algorithm>

namespace bosun {

namespace {

const char* const supervised_label = "io.balena.supervised";

bool is_supervised(const container_inspect& c) {
  return c.config.labels.count(supervised_label) != 0;
}

// Container actions that change nothing a pass plans from.
bool idle_action(const std::string& a) {
  return a.rfind("exec_", 0) == 0 || a == "attach" || a == "detach"
         || a == "resize" || a == "top" || a == "export" || a == "copy"
         || a == "archive-path" || a == "extract-to-dir" || a == "commit";
}

} // namespace

view_reads engine_view::next_reads(const std::set<std::string>& target_images) {
  view_reads r;
  // Images the target no longer names are not kept current.
  for (auto it = snap_.images.begin(); it != snap_.images.end();)
    it = target_images.count(it->first) == 0 ? snap_.images.erase(it)
                                             : std::next(it);
  for (auto it = absent_images_.begin(); it != absent_images_.end();)
    it = target_images.count(*it) == 0 ? absent_images_.erase(it)
                                       : std::next(it);
  if (!valid_) {
    r.full = true;
    ++full_reads_;
  } else {
    r.containers = std::move(dirty_containers_);
    r.networks = dirty_networks_;
    r.volumes = dirty_volumes_;
    for (auto& ref : target_images)
      if (dirty_images_.count(ref) != 0
          || (snap_.images.count(ref) == 0 && absent_images_.count(ref) == 0))
        r.images.insert(ref);
    if (!r.empty())
      ++partial_reads_;
  }
  dirty_containers_.clear();
  dirty_networks_ = false;
  dirty_volumes_ = false;
  dirty_images_.clear();
  return r;
}

void engine_view::replace(engine_snapshot fresh, std::set<std::string> absent) {
  snap_ = std::move(fresh);
  absent_images_ = std::move(absent);
  valid_ = true;
}

void engine_view::put_container(container_inspect c) {
  if (!is_supervised(c))
    return container_gone(c.id);
  auto it
    = std::find_if(snap_.containers.begin(), snap_.containers.end(),
                   [&](const container_inspect& x) { return x.id == c.id; });
  if (it != snap_.containers.end())
    *it = std::move(c);
  else
    snap_.containers.push_back(std::move(c));
}

void engine_view::put_networks(std::vector<network_info> ns) {
  snap_.networks = std::move(ns);
}

void engine_view::put_volumes(std::vector<volume_info> vs) {
  snap_.volumes = std::move(vs);
}

void engine_view::put_image(const std::string& ref,
                            std::optional<image_inspect> ii) {
  if (ii) {
    absent_images_.erase(ref);
    snap_.images[ref] = std::move(*ii);
  } else {
    snap_.images.erase(ref);
    absent_images_.insert(ref);
  }
}

void engine_view::container_changed(const std::string& id) {
  if (!id.empty())
    dirty_containers_.insert(id);
}

void engine_view::container_gone(const std::string& id) {
  auto& cs = snap_.containers;
  cs.erase(
    std::remove_if(cs.begin(), cs.end(),
                   [&](const container_inspect& c) { return c.id == id; }),
    cs.end());
  dirty_containers_.erase(id);
}

void engine_view::networks_changed() {
  dirty_networks_ = true;
}

void engine_view::volumes_changed() {
  dirty_volumes_ = true;
}

void engine_view::image_changed(const std::string& ref) {
  dirty_images_.insert(ref);
}

void engine_view::invalidate() {
  valid_ = false;
}

void engine_view::on_event(const engine_event& ev) {
  auto attr = [&](const char* k) -> std::string {
    auto it = ev.attributes.find(k);
    return it == ev.attributes.end() ? std::string{} : it->second;
  };
  auto known = [&](const std::string& id) {
    return std::any_of(snap_.containers.begin(), snap_.containers.end(),
                       [&](const container_inspect& c) { return c.id == id; })
           || dirty_containers_.count(id) != 0;
  };
  switch (ev.kind) {
    case engine_object::container:
      if (ev.attributes.count(supervised_label) == 0 && !known(ev.actor_id))
        return;
      if (ev.verb == engine_verb::destroy)
        return container_gone(ev.actor_id);
      if (!idle_action(ev.action))
        container_changed(ev.actor_id);
      return;
    case engine_object::network:
      if (ev.verb == engine_verb::connect
          || ev.verb == engine_verb::disconnect) {
        if (known(attr("container")))
          container_changed(attr("container"));
        return;
      }
      networks_changed();
      return;
    case engine_object::volume:
      if (ev.verb == engine_verb::create || ev.verb == engine_verb::destroy)
        volumes_changed();
      return;
    case engine_object::image: {
      // Pulls and tags name the reference; deletes and untags the id.
      bool matched = false;
      for (auto& [ref, ii] : snap_.images)
        if (ref == ev.actor_id || ref == attr("name") || ii.id == ev.actor_id) {
          dirty_images_.insert(ref);
          matched = true;
        }
      for (auto& ref : absent_images_)
        if (ref == ev.actor_id || ref == attr("name")) {
          dirty_images_.insert(ref);
          matched = true;
        }
      // A reference the engine normalised (docker.io/library/…): an image
      // that was absent may have arrived.
      if (!matched && ev.verb != engine_verb::destroy)
        dirty_images_.insert(absent_images_.begin(), absent_images_.end());
      return;
    }
    case engine_object::other:
      return;
  }
}

} // namespace bosun
