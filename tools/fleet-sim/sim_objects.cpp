// The simulated engine's images, volumes and networks (sim_world.hpp).
#include "actors/images/image_logic.hpp"
#include "tools/fleet-sim/sim_rules.hpp"
#include "tools/fleet-sim/sim_world.hpp"

#include <algorithm>

namespace bosun::sim {

namespace {

using namespace rules;

std::string short_image(const std::string& id) {
  return (starts_with(id, "sha256:") ? id.substr(7) : id).substr(0, 12);
}

// "repo:tag" / "repo@sha256:..." -> "repo"
std::string repo_of(const std::string& ref) {
  auto at = ref.find('@');
  auto r = ref.substr(0, at);
  auto slash = r.rfind('/');
  auto colon = r.rfind(':');
  if (colon != std::string::npos
      && (slash == std::string::npos || colon > slash))
    r.resize(colon);
  return r;
}

bool truthy(const string_list& v) {
  return !v.empty() && (v.front() == "true" || v.front() == "1");
}

} // namespace

// -------------------------------------------------------------- images --

image_rec* world::find_image(const std::string& ref) {
  return const_cast<image_rec*>(std::as_const(*this).find_image(ref));
}

const image_rec* world::find_image(const std::string& ref) const {
  if (ref.empty())
    return nullptr;
  if (auto i = images_.find(ref); i != images_.end())
    return &i->second;
  auto norm = image_logic::normalise_name(ref);
  for (const auto& [_, img] : images_) {
    if (std::find(img.tags.begin(), img.tags.end(), norm) != img.tags.end()
        || std::find(img.digests.begin(), img.digests.end(), norm)
             != img.digests.end())
      return &img;
  }
  // A short id (at least 12 hex digits), with or without "sha256:".
  auto hex = starts_with(ref, "sha256:") ? ref.substr(7) : ref;
  if (hex.size() >= 12)
    for (const auto& [id, img] : images_)
      if (starts_with(id.substr(7), hex))
        return &img;
  return nullptr;
}

bool world::has_image(const std::string& ref) const {
  return find_image(ref) != nullptr;
}

const image_rec& world::add_image(const std::string& ref, int64_t size,
                                  const container_config& config) {
  auto norm = image_logic::normalise_name(ref);
  bool by_digest = norm.find('@') != std::string::npos;
  // The same name is the same image on every simulated device.
  auto id = "sha256:" + hex64(fnv1a(norm));
  if (!by_digest)
    for (auto& [other_id, img] : images_) // the tag moves to the new image
      if (other_id != id)
        img.tags.erase(std::remove(img.tags.begin(), img.tags.end(), norm),
                       img.tags.end());
  auto& img = images_[id];
  if (img.id.empty()) {
    img.id = id;
    img.size = size;
    img.created_ns = now_ns;
    img.config = config;
    img.digests.push_back(
      by_digest ? norm
                : repo_of(norm) + "@sha256:" + hex64(fnv1a("digest " + norm)));
  }
  if (!by_digest
      && std::find(img.tags.begin(), img.tags.end(), norm) == img.tags.end())
    img.tags.push_back(norm);
  emit("image", "pull", norm, {{"name", repo_of(norm)}});
  return img;
}

caf::expected<image_inspect> world::image(const std::string& ref) const {
  const auto* img = find_image(ref);
  if (img == nullptr)
    return fail(engine_errc::not_found, "No such image: " + ref);
  image_inspect out;
  out.id = img->id;
  out.repo_tags = img->tags;
  out.repo_digests = img->digests;
  out.created = rfc3339_nano(img->created_ns);
  out.docker_version = "20.10.24+sim";
  out.architecture = "amd64";
  out.os = "linux";
  out.size = img->size;
  out.virtual_size = img->size;
  out.config = img->config;
  return out;
}

image_list world::images(const engine_filters& filters) const {
  image_list out;
  for (const auto& [id, img] : images_) {
    bool dangling = img.tags.empty();
    if (auto* d = filter(filters, "dangling");
        d != nullptr && truthy(*d) != dangling)
      continue;
    if (auto* r = filter(filters, "reference"); r != nullptr) {
      bool hit = false;
      for (const auto& want : *r) {
        auto norm = image_logic::normalise_name(want);
        for (const auto& t : img.tags)
          hit = hit || t == norm || repo_of(t) == want;
      }
      if (!hit)
        continue;
    }
    if (auto* l = filter(filters, "label");
        l != nullptr && !labels_match(img.config.labels, *l))
      continue;
    image_summary s;
    s.id = id;
    s.repo_tags = dangling ? string_list{"<none>:<none>"} : img.tags;
    s.repo_digests = dangling ? string_list{"<none>@<none>"} : img.digests;
    s.created = img.created_ns / 1000000000;
    s.size = s.virtual_size = img.size;
    s.labels = img.config.labels;
    s.containers = -1;
    out.push_back(std::move(s));
  }
  return out;
}

caf::error world::tag(const std::string& ref, const image_tag& t) {
  auto* img = find_image(ref);
  if (img == nullptr)
    return fail(engine_errc::not_found, "No such image: " + ref);
  auto norm = image_logic::normalise_name(
    t.repo + ":" + (t.tag.empty() ? std::string{"latest"} : t.tag));
  for (auto& [id, other] : images_)
    other.tags.erase(std::remove(other.tags.begin(), other.tags.end(), norm),
                     other.tags.end());
  img->tags.push_back(norm);
  emit("image", "tag", img->id, {{"name", norm}});
  return {};
}

caf::expected<image_delete_result> world::remove_image(const std::string& ref,
                                                       bool force) {
  auto* img = find_image(ref);
  if (img == nullptr)
    return fail(engine_errc::not_found, "No such image: " + ref);
  bool by_id = starts_with(img->id, ref) || starts_with(img->id.substr(7), ref);
  auto norm = image_logic::normalise_name(ref);
  const container_rec* user = nullptr;
  const container_rec* running_user = nullptr;
  for (const auto& [_, c] : containers_)
    if (c.image_id == img->id) {
      user = user != nullptr ? user : &c;
      if (c.running())
        running_user = &c;
    }
  image_delete_result out;
  auto untag = [&](const std::string& t) {
    img->tags.erase(std::remove(img->tags.begin(), img->tags.end(), t),
                    img->tags.end());
    out.push_back({t, {}});
    emit("image", "untag", img->id, {{"name", t}});
  };
  if (!by_id && img->tags.size() > 1) {
    untag(norm); // other tags keep the image
    return out;
  }
  if (by_id && img->tags.size() > 1 && !force)
    return fail(engine_errc::conflict,
                "conflict: unable to delete " + short_image(img->id)
                  + " (must be forced) - image is referenced in multiple "
                    "repositories");
  if (running_user != nullptr && (by_id || !force))
    return fail(engine_errc::conflict,
                by_id ? "conflict: unable to delete " + short_image(img->id)
                          + " (cannot be forced) - image is being used by "
                            "running container "
                          + running_user->id.substr(0, 12)
                      : "conflict: unable to remove repository reference \""
                          + ref + "\" (must force) - container "
                          + running_user->id.substr(0, 12)
                          + " is using its referenced image "
                          + short_image(img->id));
  if (user != nullptr && !force)
    return fail(
      engine_errc::conflict,
      by_id ? "conflict: unable to delete " + short_image(img->id)
                + " (must be forced) - image is being used by "
                  "stopped container "
                + user->id.substr(0, 12)
            : "conflict: unable to remove repository reference \"" + ref
                + "\" (must force) - container " + user->id.substr(0, 12)
                + " is using its referenced image " + short_image(img->id));
  for (auto t : string_list(img->tags))
    untag(t);
  if (running_user != nullptr)
    return out; // forced by name: untagged, still in use
  for (const auto& d : img->digests)
    out.push_back({d, {}});
  out.push_back({{}, img->id});
  emit("image", "delete", img->id, {{"name", img->id}});
  images_.erase(img->id);
  return out;
}

// ------------------------------------------------------------- volumes --

caf::expected<volume_info> world::create_volume(const volume_create& spec) {
  auto name = spec.name.empty() ? new_id() : spec.name;
  if (!valid_name(name))
    return fail(engine_errc::bad_request,
                "create " + name + ": \"" + name
                  + "\" includes invalid characters for a local volume name, "
                    "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                    "intended to pass a host directory, use absolute path");
  auto driver = spec.driver.empty() ? std::string{"local"} : spec.driver;
  if (auto i = volumes_.find(name); i != volumes_.end()) {
    if (i->second.driver != driver)
      return fail(engine_errc::conflict,
                  "create " + name + ": volume name " + name
                    + " already in use with driver " + i->second.driver);
    return i->second; // dockerd hands back the existing volume
  }
  volume_info v;
  v.name = name;
  v.driver = driver;
  v.mountpoint = "/var/lib/docker/volumes/" + name + "/_data";
  v.created_at = rfc3339_nano(now_ns);
  v.labels = spec.labels;
  v.options = spec.driver_opts;
  v.scope = "local";
  volumes_[name] = v;
  emit("volume", "create", name, {{"driver", driver}});
  return v;
}

caf::expected<volume_info> world::volume(const std::string& name) const {
  auto i = volumes_.find(name);
  if (i == volumes_.end())
    return fail(engine_errc::not_found, "get " + name + ": no such volume");
  return i->second;
}

bool world::volume_in_use(const std::string& name, string_list* users) const {
  bool used = false;
  for (const auto& [id, c] : containers_) {
    auto check = [&](const std::string& v) {
      if (v == name) {
        used = true;
        if (users != nullptr)
          users->push_back(id);
      }
    };
    for (const auto& b : c.spec.host.binds)
      if (!b.empty() && b[0] != '/')
        check(b.substr(0, b.find(':')));
    for (const auto& m : c.spec.host.mounts)
      if (m.type == "volume")
        check(m.source);
  }
  return used;
}

volume_list world::volumes(const engine_filters& filters) const {
  volume_list out;
  for (const auto& [name, v] : volumes_) {
    if (auto* n = filter(filters, "name");
        n != nullptr
        && std::none_of(n->begin(), n->end(), [&](const std::string& w) {
             return name.find(w) != std::string::npos;
           }))
      continue;
    if (auto* l = filter(filters, "label");
        l != nullptr && !labels_match(v.labels, *l))
      continue;
    if (auto* d = filter(filters, "dangling");
        d != nullptr && truthy(*d) == volume_in_use(name, nullptr))
      continue;
    out.volumes.push_back(v);
  }
  return out;
}

caf::error world::remove_volume(const std::string& name, bool force) {
  auto i = volumes_.find(name);
  if (i == volumes_.end())
    return force
             ? caf::error{}
             : fail(engine_errc::not_found, "get " + name + ": no such volume");
  string_list users;
  if (volume_in_use(name, &users)) {
    std::string ids;
    for (const auto& u : users)
      ids += (ids.empty() ? "" : " ") + u;
    return fail(engine_errc::conflict,
                "remove " + name + ": volume is in use - [" + ids + "]");
  }
  emit("volume", "destroy", name, {{"driver", i->second.driver}});
  volumes_.erase(i);
  return {};
}

// ------------------------------------------------------------ networks --

network_rec* world::find_network(const std::string& ref) {
  return const_cast<network_rec*>(std::as_const(*this).find_network(ref));
}

const network_rec* world::find_network(const std::string& ref) const {
  if (ref.empty())
    return nullptr;
  if (auto i = networks_.find(ref); i != networks_.end())
    return &i->second;
  for (const auto& [_, n] : networks_)
    if (n.info.name == ref)
      return &n;
  for (const auto& [id, n] : networks_)
    if (ref.size() >= 6 && starts_with(id, ref))
      return &n;
  return nullptr;
}

caf::expected<std::string> world::create_network(const network_create& spec) {
  if (spec.name.empty())
    return fail(engine_errc::bad_request, "network name must be specified");
  if (auto* n = find_network(spec.name); n != nullptr && n->predefined)
    return forbidden("operation is not permitted on predefined " + spec.name
                     + " network ");
  if (spec.check_duplicate)
    for (const auto& [_, n] : networks_)
      if (n.info.name == spec.name)
        return fail(engine_errc::conflict,
                    "network with name " + spec.name + " already exists");
  network_rec n;
  auto& i = n.info;
  i.id = new_id();
  i.name = spec.name;
  i.created = rfc3339_nano(now_ns);
  i.scope = "local";
  i.driver = spec.driver.empty() ? "bridge" : spec.driver;
  i.internal = spec.internal;
  i.attachable = spec.attachable;
  i.enable_ipv6 = spec.enable_ipv6;
  i.config_only = spec.config_only;
  if (spec.ipam)
    i.ipam = *spec.ipam;
  if (i.ipam.driver.empty())
    i.ipam.driver = "default";
  if (i.ipam.config.empty()) { // the engine picks a subnet
    auto base = "172." + std::to_string(next_subnet_++) + ".0.";
    i.ipam.config.push_back({base + "0/16", base + "1", {}, {}});
  }
  i.options = spec.options;
  i.labels = spec.labels;
  auto id = i.id;
  emit("network", "create", id, {{"name", i.name}, {"type", i.driver}});
  networks_[id] = std::move(n);
  return id;
}

caf::expected<network_info> world::network(const std::string& ref) const {
  const auto* n = find_network(ref);
  if (n == nullptr)
    return fail(engine_errc::not_found, "network " + ref + " not found");
  auto out = n->info;
  for (const auto& [id, c] : containers_) {
    if (!c.running())
      continue;
    auto ep = c.networks.find(n->info.name);
    if (ep == c.networks.end())
      continue;
    network_container nc;
    nc.name = c.name;
    nc.endpoint_id = ep->second.endpoint_id;
    nc.mac_address = ep->second.mac_address;
    if (!ep->second.ip_address.empty())
      nc.ipv4_address = ep->second.ip_address + "/"
                        + std::to_string(ep->second.ip_prefix_len);
    out.containers[id] = nc;
  }
  return out;
}

network_infos world::networks(const engine_filters& filters) const {
  network_infos out;
  for (const auto& [id, n] : networks_) {
    const auto& i = n.info;
    auto any = [](const string_list& ws, auto pred) {
      return std::any_of(ws.begin(), ws.end(), pred);
    };
    if (auto* f = filter(filters, "name");
        f != nullptr && !any(*f, [&](const std::string& w) {
          return i.name.find(w) != std::string::npos;
        }))
      continue;
    if (auto* f = filter(filters, "id");
        f != nullptr
        && !any(*f, [&](const std::string& w) { return starts_with(id, w); }))
      continue;
    if (auto* f = filter(filters, "driver");
        f != nullptr
        && !any(*f, [&](const std::string& w) { return i.driver == w; }))
      continue;
    if (auto* f = filter(filters, "label");
        f != nullptr && !labels_match(i.labels, *f))
      continue;
    out.push_back(i);
  }
  return out;
}

caf::error world::connect(const std::string& net, const network_connect& req) {
  auto* n = find_network(net);
  if (n == nullptr)
    return fail(engine_errc::not_found, "network " + net + " not found");
  auto* c = find(req.container);
  if (c == nullptr)
    return fail(engine_errc::not_found, "No such container: " + req.container);
  if (c->networks.count(n->info.name) != 0)
    return forbidden("endpoint with name " + c->name
                     + " already exists in network " + n->info.name);
  if (auto err = attach(*c, n->info.name, req.endpoint_config))
    return err;
  emit(
    "network", "connect", n->info.id,
    {{"container", c->id}, {"name", n->info.name}, {"type", n->info.driver}});
  return {};
}

caf::error world::disconnect(const std::string& net,
                             const network_disconnect& req) {
  auto* n = find_network(net);
  if (n == nullptr)
    return fail(engine_errc::not_found, "network " + net + " not found");
  auto* c = find(req.container);
  if (c == nullptr)
    return fail(engine_errc::not_found, "No such container: " + req.container);
  if (c->networks.erase(n->info.name) == 0)
    return forbidden("container " + c->id + " is not connected to network "
                     + n->info.name);
  emit(
    "network", "disconnect", n->info.id,
    {{"container", c->id}, {"name", n->info.name}, {"type", n->info.driver}});
  return {};
}

caf::error world::remove_network(const std::string& ref) {
  auto* n = find_network(ref);
  if (n == nullptr)
    return fail(engine_errc::not_found, "network " + ref + " not found");
  if (n->predefined)
    return forbidden(n->info.name
                     + " is a pre-defined network and cannot be removed");
  for (const auto& [_, c] : containers_)
    if (c.running() && c.networks.count(n->info.name) != 0)
      return forbidden("error while removing network: network " + n->info.name
                       + " id " + n->info.id + " has active endpoints");
  // Stopped containers lose their endpoint in it.
  for (auto& [_, c] : containers_)
    c.networks.erase(n->info.name);
  emit("network", "destroy", n->info.id,
       {{"name", n->info.name}, {"type", n->info.driver}});
  networks_.erase(n->info.id);
  return {};
}

} // namespace bosun::sim
