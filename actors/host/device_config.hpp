#pragma once

// device_config: the target's `config` section (reference/host.md §6).
//
// Owns: the boot partition's config files (config.txt, extlinux.conf,
// extra_uEnv.txt, configfs.json, the splash logo; the backends in
// actors/host/backends say which one a device type has), the reboot
// breadcrumb, and the device-config state: the table keys as applied
// (SUPERVISOR_*, HOST_FIREWALL_MODE, HOST_DISCOVERABILITY) and the stored
// target.
// Answers: apply_device_config (from cloud_sync and POST
// /v2/local/target-state) with what changed and whether a reboot is needed;
// get (device_config_view) for GET /v2/local/target-state and the initial
// config report.
// Applies: boot files, written atomically (temp file, fsync, rename). The
// SUPERVISOR_* keys take effect in the actors that read them from the
// target (cloud_sync: poll interval, instant updates, hardware metrics, log
// control, API request timeout; app_manager: the lock override); here they
// are validated, logged and kept as current values.
// Never: talks D-Bus (discoverability and the reboot go through the host
// actor: reboot_after_apply() and apply_discoverability() are the single
// points to wire), touches JSON (api/cloud/boot_codec), blocks.
//
// Threads: device_config is an ordinary actor on the scheduler; its
// blocking file I/O (reads of the boot files, atomic writes, the
// breadcrumb, config.json) is done by its worker, device_config_io
// (actors/host/device_config_io.hpp), detached on a device. An apply is
// split into jobs for the worker and the decisions between them: the boot
// files are read (job), the plan is made from them (pure: the table keys
// that change, what each backend writes, whether a reboot is needed), the
// writes are done (a job; when a table key needs a reboot, its breadcrumb
// is a job of its own, before the keys are stored in the db, as it always
// came first), and the apply finishes with what they did (state, log
// lines in the order they always had, the reply, the reboot via the host
// actor, the retry). The worker's jobs have no timeout: one that timed out
// could still be done later, and what it did would be lost.
// Order: one job at a time. Applies, and gets that need the files read,
// wait in a queue in arrival order, so an apply after an apply plans from
// the first one's result. The stored target is taken when an apply
// arrives, so a get after an apply sees its target at once. A get that
// arrives while a job runs is answered at once, its current values from
// the boot files as the worker last read or wrote them (it does not wait
// for the disk); otherwise the files are read again for it, as balena
// does on each read.
#include "actors/host/device_config_io.hpp"
#include "actors/host/host_provider.hpp"
#include "actors/logger.hpp"
#include "messages/db.hpp"
#include "messages/device_config.hpp"
#include "messages/host.hpp"
#include "messages/logs.hpp"

#include <caf/actor_system.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace bosun {

struct device_config_options {
  std::string boot_dir = "/mnt/boot"; // the boot partition's mount
  // Touched when a change needs a reboot (host /tmp/balena-supervisor/
  // reboot-after-apply).
  std::string breadcrumb = "/tmp/balena-supervisor/reboot-after-apply";
  std::string device_type;                 // slug, e.g. raspberrypi4-64
  std::optional<std::string> meta_release; // os-release META_BALENA_VERSION
  bool unmanaged = false;
  // config.json, when there is one: SUPERVISOR_PERSISTENT_LOGGING is kept
  // there (persistentLogging), read at the next start.
  std::string config_json;
  // The table keys' current values at start (bosun's own configuration:
  // config::device_config_vars).
  std::map<std::string, std::string> initial;
  std::shared_ptr<const logger> log;
  // The host's uptime (is a reboot still due?); null: real_host_provider().
  std::shared_ptr<const host_provider> facts;
};

struct device_config_deps {
  // Optional: the stored target, applied at start, and the table keys as
  // applied (config keys "device_config.<VAR>"), so that a restart does not
  // apply (and reboot for) them again.
  db_actor db;
  logs_actor logs; // optional: the dashboard's system lines
  // optional: reboots a device whose new configuration needs one (under
  // the update locks, as POST /v1/reboot does)
  host_actor host;
};

// device_config itself runs on the scheduler. `detached`: its worker on a
// thread of its own (a device); false: the worker on the scheduler too
// (fleet-sim, agent_deps::blocking_detached: its file I/O, on tmpfs, then
// takes a CAF worker while it runs; device_config's handlers never do).
device_config_actor spawn_device_config(caf::actor_system& sys,
                                        device_config_deps deps,
                                        device_config_options opts,
                                        bool detached = true);

// With a given worker (tests: one that holds jobs). It lives and dies with
// device_config (linked), as the worker spawn_device_config makes does.
device_config_actor spawn_device_config(caf::actor_system& sys,
                                        device_config_deps deps,
                                        device_config_options opts,
                                        device_config_io_actor io);

} // namespace bosun
