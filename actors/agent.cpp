#include "actors/agent.hpp"

#include "actors/api_keys/api_keys.hpp"
#include "actors/apps/app_manager.hpp"
#include "actors/cloud/cloud_child.hpp"
#include "actors/engine/engine.hpp"
#include "actors/host/device_config.hpp"
#include "actors/host/host.hpp"
#include "actors/images/images.hpp"
#include "actors/logs/logs.hpp"
#include "actors/root/root.hpp"
#include "actors/tags/tags.hpp"
#include "actors/telemetry/telemetry.hpp"
#include "actors/volumes/networks.hpp"
#include "actors/volumes/volumes.hpp"
#include "persistence/db.hpp"

#include <filesystem>
#include <functional>
#include <random>

namespace bosun {

namespace {

using draw_fn = std::function<uint64_t()>;

// std::random_device, or a generator seeded with `seed`.
draw_fn random_source(std::optional<uint64_t> seed) {
  if (!seed) {
    auto rd = std::make_shared<std::random_device>();
    return [rd] { return static_cast<uint64_t>((*rd)()); };
  }
  auto rng = std::make_shared<std::mt19937_64>(*seed);
  return [rng] { return (*rng)(); };
}

std::string random_hex(std::size_t n, const draw_fn& draw) {
  std::string out;
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i)
    out += digits[draw() % 16];
  return out;
}

// The value stored under `key`, or `fallback` (when not empty), or a fresh
// random one; stored so that it survives restarts.
std::variant<std::string, caf::error> settle(store& db, const std::string& key,
                                             const std::string& fallback,
                                             const draw_fn& draw) {
  auto stored = db.get_config(key);
  if (!stored)
    return stored.error();
  if (*stored && (fallback.empty() || **stored == fallback))
    return **stored;
  auto value = fallback.empty() ? random_hex(32, draw) : fallback;
  if (auto ok = db.put_config(key, value); !ok)
    return ok.error();
  return value;
}

// balena's architecture names for uname's machine.
std::string device_arch(const std::string& m) {
  if (m.empty() || m == "x86_64")
    return "amd64";
  if (m == "aarch64" || m == "arm64")
    return "aarch64";
  if (m.rfind("armv7", 0) == 0)
    return "armv7hf";
  if (m == "i686" || m == "i386")
    return "i386";
  return m;
}

// Update lock dirs as the engine names them (bind sources): in the data dir,
// or in balenaOS's supervisor container the host's /tmp/balena-supervisor,
// as balena's (bosun reaches it through cfg.host_root).
std::string engine_lock_base(const config& cfg) {
  return cfg.host_root.empty() ? cfg.data_dir : "/tmp/balena-supervisor";
}

apps::spec_context device_facts(const config& cfg, const agent& a,
                                const host_provider& host) {
  apps::spec_context ctx;
  ctx.device_uuid = a.uuid;
  ctx.device_arch = device_arch(host.machine());
  ctx.device_type
    = cfg.device_type.empty() ? "generic-" + ctx.device_arch : cfg.device_type;
  // The container's own os-release, as before (not the host root's).
  ctx.host_os_version = host.os_release("", "PRETTY_NAME").value_or("");
  ctx.hostname = host.hostname();
  if (!cfg.hostname.empty())
    ctx.hostname = cfg.hostname;
  ctx.api_endpoint = cfg.api_endpoint;
  ctx.device_api_key = cfg.device_api_key;
  ctx.listen_port = cfg.listen_port;
  // Never the global key: each service gets its own app-scoped key
  // (app_manager asks api_keys for them).
  if (cfg.engine.rfind("unix://", 0) == 0)
    ctx.engine_socket = cfg.engine.substr(7);
  ctx.lock_dir_base = engine_lock_base(cfg);
  ctx.host_path_exists = [root = cfg.host_root](const std::string& p) {
    std::error_code ec;
    return std::filesystem::exists(root + p, ec);
  };
  return ctx;
}

} // namespace

std::variant<agent, std::string>
start_agent(caf::actor_system& sys, const config& cfg, agent_deps deps) {
  auto opened = open_db(cfg.db_file(), deps.db_journal);
  if (!opened)
    return db_error_message(opened.error());
  agent out;
  if (!deps.host)
    deps.host = real_host_provider();
  // Not the seed itself: cloud_sync's generators are seeded from it.
  auto draw = random_source(
    deps.seed ? std::optional<uint64_t>{*deps.seed ^ 0x9e3779b97f4a7c15ULL}
              : std::nullopt);
  // config.json's uuid wins; otherwise the one generated on first start.
  auto uuid = settle(*opened, "uuid", cfg.uuid, draw);
  if (auto* e = std::get_if<caf::error>(&uuid))
    return "cannot store the device uuid: " + db_error_message(*e);
  out.uuid = std::get<std::string>(uuid);
  if (deps.log_prefix)
    deps.log = deps.log->with_prefix(out.uuid.substr(0, 7));
  auto key = settle_global_key(*opened);
  if (auto* e = std::get_if<caf::error>(&key))
    return "cannot store the API key: " + db_error_message(*e);
  out.api_key = std::get<std::string>(key);
  // A device that starts unmanaged reports its config again when it is
  // provisioned (host.md §7).
  if (!cfg.managed())
    if (auto ok = opened->put_config("initialConfigReported", ""); !ok)
      return "cannot store initialConfigReported: "
             + db_error_message(ok.error());
  // A managed device that is not registered yet gets its device API key
  // now, so that its containers and cloud_sync (which registers it and
  // writes it to config.json) agree on it.
  auto device_cfg = cfg;
  device_cfg.uuid = out.uuid;
  if (cfg.managed() && !cfg.provisioned() && cfg.device_api_key.empty())
    device_cfg.device_api_key = random_hex(32, draw);

  auto make_engine = deps.engine;
  if (!make_engine) {
    std::string why;
    auto ep = http::parse_endpoint(cfg.engine, &why);
    if (!ep)
      return "--engine " + cfg.engine + ": " + why;
    make_engine = [&io = deps.io, ep = *ep](caf::actor_system& s) {
      return spawn_engine(s, io, ep);
    };
  }

  root_options opts;
  opts.log = deps.log;
  // The first db instance takes the store opened above; a restarted one
  // opens the file again.
  auto first = std::make_shared<std::optional<store>>(std::move(*opened));
  auto path = cfg.db_file();
  auto log = deps.log;
  const bool detached = deps.blocking_detached;
  opts.children.push_back(
    core_child(&core_actors::db,
               [first, path, log, detached, journal = deps.db_journal](
                 caf::actor_system& s, const core_actors&) -> db_actor {
                 if (*first) {
                   auto db = std::move(**first);
                   first->reset();
                   return spawn_db(s, std::move(db), detached);
                 }
                 auto db = open_db(path, journal);
                 if (!db) {
                   log->error("db", "{}", db_error_message(db.error()));
                   return {};
                 }
                 return spawn_db(s, std::move(*db), detached);
               }));
  opts.children.push_back(core_child(
    &core_actors::api_keys, [log](caf::actor_system& s, const core_actors& c) {
      return spawn_api_keys(s, c.db, log);
    }));
  opts.children.push_back(core_child(
    &core_actors::tags, [log](caf::actor_system& s, const core_actors& c) {
      return spawn_tags(s, c.db, log);
    }));
  auto& io = deps.io;
  opts.children.push_back(
    core_child(&core_actors::engine,
               [make_engine](caf::actor_system& s, const core_actors&) {
                 return make_engine(s);
               }));
  opts.children.push_back(core_child(
    &core_actors::images, [](caf::actor_system& s, const core_actors& c) {
      return spawn_images(s, c.engine);
    }));
  opts.children.push_back(core_child(
    &core_actors::volumes, [](caf::actor_system& s, const core_actors& c) {
      return spawn_volumes(s, c.engine);
    }));
  opts.children.push_back(core_child(
    &core_actors::networks, [](caf::actor_system& s, const core_actors& c) {
      return spawn_networks(s, c.engine);
    }));
  logs_options lo;
  lo.shipping.enabled
    = !cfg.local_mode && cfg.provisioned() && !cfg.device_api_key.empty();
  lo.shipping.endpoint
    = cfg.logs_endpoint.empty() ? cfg.api_endpoint : cfg.logs_endpoint;
  lo.shipping.uuid = out.uuid;
  lo.shipping.api_key = cfg.device_api_key;
  lo.uploads = asio_log_uploads(io, deps.proxy_env);
  if (cfg.persistent_logging)
    lo.file_dir = cfg.data_dir + "/logs";
  lo.file_max_bytes = cfg.persistent_log_size;
  lo.log = deps.log;
  lo.now_ms = deps.wall_clock_ms;
  lo.history_detached = detached;
  // The log stream closes after a minute without lines (as the balena
  // Supervisor's KEEPALIVE_TIMEOUT); fleet-sim's minute is shorter.
  lo.shipper.idle_close = scaled_by(lo.shipper.idle_close, deps.time_scale);
  opts.children.push_back(core_child(
    &core_actors::logs, [lo](caf::actor_system& s, const core_actors& c) {
      return spawn_logs(s, c.engine, c.db, lo);
    }));
  app_manager_options am;
  am.local_mode = cfg.local_mode;
  am.lock_dir_base = cfg.host_root.empty()
                       ? cfg.data_dir
                       : cfg.host_root + engine_lock_base(cfg);
  am.engine_lock_dir_base = engine_lock_base(cfg);
  am.spec = device_facts(device_cfg, out, *deps.host);
  am.log = deps.log;
  opts.children.push_back(
    core_child(&core_actors::app_manager,
               [am](caf::actor_system& s, const core_actors& c) {
                 app_manager_deps d;
                 d.engine = c.engine;
                 d.db = c.db;
                 d.images = c.images;
                 d.volumes = c.volumes;
                 d.networks = c.networks;
                 d.api_keys = c.api_keys;
                 d.logs = c.logs;
                 return spawn_app_manager(s, d, am);
               }));
  host_options ho;
  ho.dbus_address = cfg.dbus_address;
  ho.state_mount = cfg.state_mount;
  ho.boot_mount = cfg.boot_mount;
  ho.host_root = cfg.host_root;
  ho.lock_base = am.lock_dir_base;
  ho.led_file = cfg.led_file;
  ho.vpn_status = cfg.vpn_status_path;
  ho.config_path = cfg.config_path;
  ho.config_file_found = cfg.config_file_found;
  ho.uuid = out.uuid;
  ho.journalctl = cfg.journalctl;
  ho.log = deps.log;
  ho.facts = deps.host;
  ho.no_bus = deps.no_bus;
  ho.detached = detached;
  opts.children.push_back(core_child(
    &core_actors::host, [ho](caf::actor_system& s, const core_actors& c) {
      host_deps d;
      d.logs = c.logs;
      d.app_manager = c.app_manager;
      return spawn_host(s, ho, d);
    }));
  device_config_options dc;
  dc.boot_dir = cfg.boot_mount;
  // balena's host /tmp/balena-supervisor/reboot-after-apply (the OS keeps
  // /tmp/balena-supervisor across the supervisor's restarts, not reboots);
  // bosun's data dir when it sees the host's file system itself.
  dc.breadcrumb
    = (cfg.host_root.empty() ? cfg.data_dir
                             : cfg.host_root + "/tmp/balena-supervisor")
      + "/reboot-after-apply";
  dc.device_type = am.spec.device_type;
  dc.meta_release = deps.host->os_release(cfg.host_root, "META_BALENA_VERSION");
  dc.unmanaged = !cfg.managed();
  if (cfg.config_file_found)
    dc.config_json = cfg.config_path;
  for (const auto& v : device_config_vars(cfg))
    dc.initial[v.name] = v.value;
  dc.log = deps.log;
  dc.facts = deps.host;
  // device_config runs on the scheduler; its worker (the boot partition's
  // reads and writes) on a thread of its own unless blocking_detached is
  // false (fleet-sim).
  opts.children.push_back(core_child(
    &core_actors::device_config,
    [dc, detached](caf::actor_system& s, const core_actors& c) {
      return spawn_device_config(s, {c.db, c.logs, c.host}, dc, detached);
    }));
  if (cfg.managed()) {
    cloud_child_args ca;
    ca.cfg = device_cfg;
    ca.api_secret = out.api_key;
    ca.os_version = am.spec.host_os_version;
    ca.device_type = am.spec.device_type;
    ca.log = deps.log;
    ca.seed = deps.seed;
    ca.time_scale = deps.time_scale;
    ca.wall_clock_ms = deps.wall_clock_ms;
    ca.host = deps.host;
    ca.proxy_env = deps.proxy_env;
    ca.transport = deps.cloud_transport;
    opts.children.push_back(cloud_sync_child(io, std::move(ca)));
  }
  // Last: it needs no sibling, and its failure restarts nobody else.
  opts.children.push_back(core_child(
    &core_actors::telemetry,
    [wall = deps.wall_clock_ms](caf::actor_system& s, const core_actors&) {
      telemetry_options to;
      to.wall_clock_ms = wall;
      return spawn_telemetry(s, to);
    }));
  out.root = spawn_root(sys, std::move(opts));
  return out;
}

} // namespace bosun
