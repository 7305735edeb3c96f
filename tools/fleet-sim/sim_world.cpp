// Over 600 lines: the in-memory model of one engine (containers' state
// machine, names, images, volumes, networks, dockerd's errors and events)
// reads best in one place; its rules shared with tests are in sim_rules.hpp.
#include "tools/fleet-sim/sim_world.hpp"

#include "actors/images/image_logic.hpp"
#include "tools/fleet-sim/sim_rules.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace bosun::sim {

namespace {

using namespace rules;

caf::error no_such_container(const std::string& ref) {
  return fail(engine_errc::not_found, "No such container: " + ref);
}

std::string strip_slash(const std::string& n) {
  return !n.empty() && n[0] == '/' ? n.substr(1) : n;
}

std::string name_conflict(const std::string& name, const std::string& id) {
  return "Conflict. The container name \"/" + name
         + "\" is already in use by container \"" + id
         + "\". You have to remove (or rename) that container to be able to "
           "reuse that name.";
}

std::string invalid_container_name(const std::string& name) {
  return "Invalid container name (" + name
         + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed";
}

// "SIGTERM", "TERM", "15" -> 15; 0 when unknown.
int signal_number(const std::string& s) {
  static const std::map<std::string, int> names{
    {"HUP", 1},   {"INT", 2},   {"QUIT", 3},  {"KILL", 9},
    {"USR1", 10}, {"USR2", 12}, {"TERM", 15},
  };
  if (s.empty())
    return 9;
  if (std::all_of(s.begin(), s.end(),
                  [](char c) { return c >= '0' && c <= '9'; }))
    return std::stoi(s);
  auto n = starts_with(s, "SIG") ? s.substr(3) : s;
  auto i = names.find(n);
  return i == names.end() ? 0 : i->second;
}

bool is_predefined_mode(const std::string& mode) {
  return mode.empty() || mode == "default" || mode == "bridge" || mode == "host"
         || mode == "none" || starts_with(mode, "container:")
         || starts_with(mode, "service:");
}

bool any_substring(const std::string& s, const string_list& wanted) {
  return std::any_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
    return s.find(w) != std::string::npos;
  });
}

// The volume names a container's binds and mounts name.
string_list named_volumes(const container_create& spec) {
  string_list out;
  for (const auto& b : spec.host.binds) {
    auto colon = b.find(':');
    if (colon != std::string::npos && colon > 0 && b[0] != '/')
      out.push_back(b.substr(0, colon));
  }
  for (const auto& m : spec.host.mounts)
    if (m.type == "volume" && !m.source.empty())
      out.push_back(m.source);
  return out;
}

// Docker fills empty fields of the container's Config from the image's.
void merge_image_config(container_config& c, const container_config& img) {
  string_map env;
  for (const auto& e : c.env)
    env.emplace(e.substr(0, e.find('=')), e);
  for (const auto& e : img.env)
    if (env.count(e.substr(0, e.find('='))) == 0)
      c.env.push_back(e);
  for (const auto& [k, v] : img.labels)
    c.labels.emplace(k, v);
  if (!c.entrypoint && !c.cmd)
    c.cmd = img.cmd;
  if (!c.entrypoint)
    c.entrypoint = img.entrypoint;
  if (!c.healthcheck && img.healthcheck)
    c.healthcheck = img.healthcheck;
  if (c.working_dir.empty())
    c.working_dir = img.working_dir;
  if (c.user.empty())
    c.user = img.user;
  if (c.stop_signal.empty())
    c.stop_signal = img.stop_signal;
  for (const auto& p : img.exposed_ports)
    if (std::find(c.exposed_ports.begin(), c.exposed_ports.end(), p)
        == c.exposed_ports.end())
      c.exposed_ports.push_back(p);
  for (const auto& v : img.volumes)
    if (std::find(c.volumes.begin(), c.volumes.end(), v) == c.volumes.end())
      c.volumes.push_back(v);
}

bool has_healthcheck(const container_config& c) {
  return c.healthcheck && !c.healthcheck->test.empty()
         && c.healthcheck->test[0] != "NONE";
}

std::string human(int64_t ns) {
  auto s = ns / 1000000000;
  if (s < 1)
    return "Less than a second";
  if (s < 60)
    return std::to_string(s) + " seconds";
  if (s < 3600)
    return std::to_string(s / 60) + " minutes";
  return std::to_string(s / 3600) + " hours";
}

// "172.18.0.0/16" -> "172.18.0."
std::string subnet_base(const std::string& subnet) {
  auto slash = subnet.find('/');
  auto addr = subnet.substr(0, slash);
  auto dot = addr.rfind('.');
  return dot == std::string::npos ? "10.0.0." : addr.substr(0, dot + 1);
}

} // namespace

// ------------------------------------------------------------- helpers --

uint64_t fnv1a(const std::string& s, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex64(uint64_t x) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (int part = 0; part < 4; ++part) {
    // splitmix64 steps: four well-mixed words from one seed.
    x += 0x9e3779b97f4a7c15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    for (int i = 0; i < 16; ++i)
      out += digits[(z >> (60 - 4 * i)) & 0xf];
  }
  return out;
}

std::string rfc3339_nano(int64_t unix_ns) {
  std::time_t secs = static_cast<std::time_t>(unix_ns / 1000000000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec,
                static_cast<long long>(unix_ns % 1000000000));
  return buf;
}

// --------------------------------------------------------------- world --

world::world(uint64_t seed, std::string hostname)
    : seed_(seed), hostname_(std::move(hostname)) {
  auto add = [this](const std::string& name, const std::string& driver,
                    const std::string& subnet) {
    network_rec n;
    n.predefined = true;
    n.info.id = new_id();
    n.info.name = name;
    n.info.driver = driver;
    n.info.scope = "local";
    n.info.created = timestamp(0);
    n.info.ipam.driver = "default";
    if (!subnet.empty())
      n.info.ipam.config.push_back({subnet, subnet_base(subnet) + "1", {}, {}});
    networks_[n.info.id] = n;
  };
  add("bridge", "bridge", "172.17.0.0/16");
  add("host", "host", "");
  add("none", "null", "");
}

std::string world::new_id() {
  return hex64(seed_ * 0x100000001b3ull + ++counter_);
}

std::string world::timestamp(int64_t ns) const {
  return rfc3339_nano(ns);
}

void world::emit(const std::string& type, const std::string& action,
                 const std::string& actor, string_map attrs) {
  engine_event ev;
  ev.type = type;
  ev.action = action;
  ev.actor_id = actor;
  ev.attributes = std::move(attrs);
  ev.scope = "local";
  ev.time = now_ns / 1000000000;
  ev.time_nano = now_ns;
  classify_event(ev);
  events.push_back(std::move(ev));
}

void world::emit(const container_rec& c, const std::string& action,
                 string_map extra) {
  auto attrs = c.spec.config.labels;
  attrs["image"] = c.spec.config.image;
  attrs["name"] = c.name;
  for (auto& [k, v] : extra)
    attrs[k] = v;
  emit("container", action, c.id, std::move(attrs));
  last_container_change_ns_.store(
    std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now().time_since_epoch())
      .count(),
    std::memory_order_relaxed);
}

// -------------------------------------------------------- containers --

container_rec* world::find(const std::string& ref) {
  return const_cast<container_rec*>(std::as_const(*this).find(ref));
}

const container_rec* world::find(const std::string& ref) const {
  if (ref.empty())
    return nullptr;
  if (auto i = containers_.find(ref); i != containers_.end())
    return &i->second;
  auto name = strip_slash(ref);
  for (const auto& [_, c] : containers_)
    if (c.name == name)
      return &c;
  const container_rec* hit = nullptr;
  for (const auto& [id, c] : containers_)
    if (starts_with(id, ref)) {
      if (hit != nullptr)
        return nullptr; // ambiguous: as good as unknown here
      hit = &c;
    }
  return hit;
}

caf::expected<std::string> world::create(const container_create& spec) {
  auto name = strip_slash(spec.name);
  if (!name.empty() && !valid_name(name))
    return fail(engine_errc::bad_request, invalid_container_name(name));
  if (!name.empty())
    for (const auto& [id, c] : containers_)
      if (c.name == name)
        return fail(engine_errc::conflict, name_conflict(name, id));
  const auto* img = find_image(spec.config.image);
  if (img == nullptr)
    return fail(engine_errc::not_found,
                "No such image: "
                  + image_logic::normalise_name(spec.config.image));
  const auto& mode = spec.host.network_mode;
  if (!is_predefined_mode(mode) && find_network(mode) == nullptr)
    return fail(engine_errc::not_found, "network " + mode + " not found");
  for (const auto& [net, _] : spec.networking.endpoints_config)
    if (find_network(net) == nullptr)
      return fail(engine_errc::not_found, "network " + net + " not found");
  for (const auto& v : named_volumes(spec))
    if (volumes_.count(v) == 0) {
      volume_create vc;
      vc.name = v;
      if (auto made = create_volume(vc); !made)
        return made.error();
    }

  container_rec c;
  c.id = new_id();
  c.name = name.empty() ? "sim_" + c.id.substr(0, 8) : name;
  c.spec = spec;
  c.spec.name = c.name;
  merge_image_config(c.spec.config, img->config);
  c.image_id = img->id;
  c.created_ns = now_ns;
  if (c.spec.config.hostname.empty())
    c.spec.config.hostname = c.id.substr(0, 12);
  auto& stored = containers_[c.id] = std::move(c);
  // Endpoints: the named networks, else the network mode's.
  caf::error err;
  for (const auto& [net, es] : spec.networking.endpoints_config)
    if (!err)
      err = attach(stored, net, es);
  if (!err && spec.networking.endpoints_config.empty()
      && (mode.empty() || mode == "default" || mode == "bridge"
          || !is_predefined_mode(mode)))
    err
      = attach(stored, mode.empty() || mode == "default" ? "bridge" : mode, {});
  if (err) {
    containers_.erase(stored.id);
    return err;
  }
  emit(stored, "create");
  return stored.id;
}

caf::error world::attach(container_rec& c, const std::string& net,
                         const endpoint_settings& es) {
  auto* n = find_network(net);
  if (n == nullptr)
    return fail(engine_errc::not_found, "network " + net + " not found");
  auto ep = es;
  ep.network_id = n->info.id;
  ep.endpoint_id = new_id();
  if (n->info.name != "bridge" && !n->predefined)
    ep.aliases.push_back(c.id.substr(0, 12));
  if (!n->info.ipam.config.empty()) {
    const auto& pool = n->info.ipam.config.front();
    auto base = subnet_base(pool.subnet);
    ep.gateway = pool.gateway.empty() ? base + "1" : pool.gateway;
    if (es.ipam_config && !es.ipam_config->ipv4_address.empty())
      ep.ip_address = es.ipam_config->ipv4_address;
    else
      ep.ip_address = base + std::to_string(2 + (n->next_host++ - 2) % 250);
    auto slash = pool.subnet.find('/');
    ep.ip_prefix_len = slash == std::string::npos
                         ? 24
                         : std::stoll(pool.subnet.substr(slash + 1));
    ep.mac_address = "02:42:" + ep.endpoint_id.substr(0, 2) + ":"
                     + ep.endpoint_id.substr(2, 2) + ":"
                     + ep.endpoint_id.substr(4, 2) + ":"
                     + ep.endpoint_id.substr(6, 2);
  }
  c.networks[n->info.name] = ep;
  return {};
}

caf::error world::start(const std::string& ref) {
  auto* c = find(ref);
  if (c == nullptr)
    return no_such_container(ref);
  if (c->running())
    return fail(engine_errc::not_modified, "container already started: " + ref);
  c->status = "running";
  c->exit_code = 0;
  c->started_ns = now_ns;
  c->pid = static_cast<int64_t>(1000 + counter_ % 30000);
  ++c->run;
  c->failing_streak = 0;
  if (has_healthcheck(c->spec.config))
    c->health = "starting";
  else
    c->health.reset();
  for (const auto& [net, ep] : c->networks)
    if (auto* n = find_network(ep.network_id))
      emit("network", "connect", n->info.id,
           {{"container", c->id}, {"name", net}, {"type", n->info.driver}});
  for (const auto& v : named_volumes(c->spec))
    emit("volume", "mount", v, {{"container", c->id}, {"driver", "local"}});
  emit(*c, "start");
  return {};
}

void world::end_run(container_rec& c, int64_t exit_code) {
  c.status = "exited";
  c.exit_code = exit_code;
  c.finished_ns = now_ns;
  c.pid = 0;
  emit(c, "die", {{"exitCode", std::to_string(exit_code)}});
  for (const auto& [net, ep] : c.networks)
    if (auto* n = find_network(ep.network_id))
      emit("network", "disconnect", n->info.id,
           {{"container", c.id}, {"name", net}, {"type", n->info.driver}});
}

caf::error world::stop(const std::string& ref, int64_t exit_code) {
  auto* c = find(ref);
  if (c == nullptr)
    return no_such_container(ref);
  if (!c->running())
    return fail(engine_errc::not_modified, "container already stopped: " + ref);
  emit(*c, "kill", {{"signal", "15"}});
  end_run(*c, exit_code);
  emit(*c, "stop");
  return {};
}

caf::error world::kill(const std::string& ref, const std::string& signal) {
  auto* c = find(ref);
  if (c == nullptr)
    return no_such_container(ref);
  auto sig = signal_number(signal);
  if (sig <= 0)
    return fail(engine_errc::bad_request, "Invalid signal: " + signal);
  if (!c->running())
    return fail(engine_errc::conflict, "Cannot kill container: " + ref
                                         + ": Container " + c->id
                                         + " is not running");
  emit(*c, "kill", {{"signal", std::to_string(sig)}});
  // Simulated processes die of the terminating signals and ignore the rest.
  if (sig == 1 || sig == 2 || sig == 3 || sig == 9 || sig == 15)
    end_run(*c, 128 + sig);
  return {};
}

caf::error world::exited(const std::string& ref, int64_t exit_code) {
  auto* c = find(ref);
  if (c == nullptr)
    return no_such_container(ref);
  if (!c->running())
    return fail(engine_errc::conflict, "container " + ref + " is not running");
  end_run(*c, exit_code);
  return {};
}

caf::error world::restart(const std::string& ref) {
  auto* c = find(ref);
  if (c == nullptr)
    return no_such_container(ref);
  if (c->running()) {
    emit(*c, "kill", {{"signal", "15"}});
    end_run(*c, 143);
    emit(*c, "stop");
  }
  if (auto err = start(c->id))
    return err;
  emit(*c, "restart");
  return {};
}

caf::error world::remove(const std::string& ref, bool force, bool) {
  auto* c = find(ref);
  if (c == nullptr)
    return no_such_container(ref);
  if (c->running()) {
    if (!force)
      return fail(engine_errc::conflict,
                  "You cannot remove a running container " + c->id
                    + ". Stop the container before attempting removal or "
                      "force remove");
    emit(*c, "kill", {{"signal", "9"}});
    end_run(*c, 137);
  }
  emit(*c, "destroy");
  removed_[c->id] = {std::move(c->log), c->log_seq};
  containers_.erase(c->id);
  return {};
}

const world::removed_log* world::removed(const std::string& id) const {
  auto i = removed_.find(id);
  return i == removed_.end() ? nullptr : &i->second;
}

std::vector<std::string> world::removed_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, _] : removed_)
    out.push_back(id);
  return out;
}

void world::forget_removed(const std::string& id) {
  removed_.erase(id);
}

caf::error world::rename(const std::string& ref, const std::string& name) {
  auto* c = find(ref);
  if (c == nullptr)
    return no_such_container(ref);
  auto to = strip_slash(name);
  if (!valid_name(to))
    return fail(engine_errc::bad_request, invalid_container_name(to));
  if (to == c->name)
    return fail(engine_errc::bad_request,
                "Renaming a container with the same name as its current name");
  for (const auto& [id, other] : containers_)
    if (other.name == to)
      return fail(engine_errc::conflict, name_conflict(to, id));
  auto old = c->name;
  c->name = to;
  c->spec.name = to;
  emit(*c, "rename", {{"oldName", "/" + old}});
  return {};
}

caf::expected<container_update_result>
world::update(const std::string& ref, const container_update& u) {
  auto* c = find(ref);
  if (c == nullptr)
    return no_such_container(ref);
  auto& h = c->spec.host;
  auto set = [](auto& field, const auto& v) {
    if (v)
      field = *v;
  };
  set(h.memory, u.memory);
  set(h.memory_reservation, u.memory_reservation);
  set(h.memory_swap, u.memory_swap);
  set(h.nano_cpus, u.nano_cpus);
  set(h.cpu_shares, u.cpu_shares);
  set(h.cpu_quota, u.cpu_quota);
  set(h.cpu_period, u.cpu_period);
  set(h.cpuset_cpus, u.cpuset_cpus);
  set(h.cpuset_mems, u.cpuset_mems);
  set(h.blkio_weight, u.blkio_weight);
  set(h.oom_kill_disable, u.oom_kill_disable);
  set(h.restart_policy, u.restart_policy);
  if (u.pids_limit)
    h.pids_limit = u.pids_limit;
  emit(*c, "update");
  return container_update_result{};
}

caf::expected<container_inspect> world::inspect(const std::string& ref) const {
  const auto* c = find(ref);
  if (c == nullptr)
    return no_such_container(ref);
  container_inspect out;
  out.id = c->id;
  out.name = "/" + c->name;
  out.created = timestamp(c->created_ns);
  out.image = c->image_id;
  out.config = c->spec.config;
  out.host = c->spec.host;
  out.restart_count = c->restart_count;
  out.driver = "overlay2";
  out.platform = "linux";
  auto cmd = c->spec.config.entrypoint.value_or(string_list{});
  for (const auto& a : c->spec.config.cmd.value_or(string_list{}))
    cmd.push_back(a);
  if (!cmd.empty()) {
    out.path = cmd.front();
    out.args.assign(cmd.begin() + 1, cmd.end());
  }
  auto& s = out.state;
  s.status = c->status;
  s.running = c->running();
  s.dead = c->status == "dead";
  s.pid = c->pid;
  s.exit_code = c->exit_code;
  s.started_at
    = c->started_ns ? timestamp(*c->started_ns) : "0001-01-01T00:00:00Z";
  s.finished_at
    = c->finished_ns ? timestamp(*c->finished_ns) : "0001-01-01T00:00:00Z";
  if (c->health)
    s.health = health_state{*c->health, c->failing_streak, {}};
  out.network.networks = c->networks;
  out.network.sandbox_id = c->running() ? hex64(fnv1a(c->id)) : "";
  for (const auto& b : c->spec.host.binds) {
    auto colon = b.find(':');
    if (colon == std::string::npos)
      continue;
    mount_point m;
    auto rest = b.substr(colon + 1);
    auto mode_at = rest.find(':');
    m.destination = rest.substr(0, mode_at);
    m.mode = mode_at == std::string::npos ? "" : rest.substr(mode_at + 1);
    m.rw = m.mode.find("ro") == std::string::npos;
    if (b[0] == '/') {
      m.type = "bind";
      m.source = b.substr(0, colon);
    } else {
      m.type = "volume";
      m.name = b.substr(0, colon);
      m.driver = "local";
      m.source = "/var/lib/docker/volumes/" + m.name + "/_data";
    }
    out.mounts.push_back(std::move(m));
  }
  for (const auto& mc : c->spec.host.mounts) {
    mount_point m;
    m.type = mc.type;
    m.destination = mc.target;
    m.rw = !mc.read_only;
    if (mc.type == "volume") {
      m.name = mc.source;
      m.driver = "local";
      m.source = "/var/lib/docker/volumes/" + m.name + "/_data";
    } else {
      m.source = mc.source;
    }
    out.mounts.push_back(std::move(m));
  }
  return out;
}

container_list world::list(bool all, const engine_filters& filters) const {
  std::vector<const container_rec*> hits;
  for (const auto& [id, c] : containers_) {
    if (!all && !c.running())
      continue;
    if (auto* l = filter(filters, "label");
        l != nullptr && !labels_match(c.spec.config.labels, *l))
      continue;
    if (auto* n = filter(filters, "name");
        n != nullptr && !any_substring(c.name, *n))
      continue;
    if (auto* i = filter(filters, "id");
        i != nullptr
        && std::none_of(i->begin(), i->end(), [&](const std::string& p) {
             return starts_with(id, p);
           }))
      continue;
    if (auto* st = filter(filters, "status");
        st != nullptr
        && std::find(st->begin(), st->end(), c.status) == st->end())
      continue;
    hits.push_back(&c);
  }
  // Newest first, as dockerd lists them.
  std::sort(hits.begin(), hits.end(), [](auto* a, auto* b) {
    return a->created_ns != b->created_ns ? a->created_ns > b->created_ns
                                          : a->id > b->id;
  });
  container_list out;
  for (const auto* c : hits) {
    container_summary s;
    s.id = c->id;
    s.names = {"/" + c->name};
    s.image = c->spec.config.image;
    s.image_id = c->image_id;
    auto cmd = c->spec.config.entrypoint.value_or(string_list{});
    for (const auto& a : c->spec.config.cmd.value_or(string_list{}))
      cmd.push_back(a);
    for (const auto& a : cmd)
      s.command += (s.command.empty() ? "" : " ") + a;
    s.created = c->created_ns / 1000000000;
    s.state = c->status;
    if (c->status == "created")
      s.status = "Created";
    else if (c->running())
      s.status = "Up " + human(now_ns - c->started_ns.value_or(now_ns))
                 + (c->health ? " (" + *c->health + ")" : "");
    else
      s.status = "Exited (" + std::to_string(c->exit_code) + ") "
                 + human(now_ns - c->finished_ns.value_or(now_ns)) + " ago";
    s.labels = c->spec.config.labels;
    s.networks = c->networks;
    out.push_back(std::move(s));
  }
  return out;
}

caf::error world::set_health(const std::string& ref, const std::string& h) {
  auto* c = find(ref);
  if (c == nullptr)
    return no_such_container(ref);
  if (!c->running())
    return fail(engine_errc::conflict, "container " + ref + " is not running");
  c->failing_streak = h == "unhealthy" ? c->failing_streak + 1 : 0;
  if (c->health == h)
    return {};
  c->health = h;
  emit(*c, "health_status: " + h);
  return {};
}

caf::error world::write_log(const std::string& ref, log_source src,
                            std::string text) {
  auto* c = find(ref);
  if (c == nullptr)
    return no_such_container(ref);
  c->log.push_back({++c->log_seq, now_ns, src, std::move(text)});
  while (c->log.size() > log_keep)
    c->log.pop_front();
  return {};
}

engine_info world::info() const {
  engine_info out;
  out.id = hex64(seed_).substr(0, 36);
  out.name = hostname_;
  for (const auto& [_, c] : containers_) {
    ++out.containers;
    if (c.running())
      ++out.containers_running;
    else
      ++out.containers_stopped;
  }
  out.images = static_cast<int64_t>(images_.size());
  out.driver = "overlay2";
  out.docker_root_dir = "/var/lib/docker";
  out.logging_driver = "json-file";
  out.cgroup_driver = "systemd";
  out.cgroup_version = "2";
  out.operating_system = "fleet-sim";
  out.os_type = "linux";
  out.architecture = "x86_64";
  out.server_version = "20.10.24+sim";
  out.ncpu = 4;
  out.mem_total = int64_t{4} << 30;
  return out;
}

} // namespace bosun::sim
