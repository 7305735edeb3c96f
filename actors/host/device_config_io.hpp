#pragma once

// device_config's worker: the actor that makes every blocking call of the
// device configuration (reads and writes of the boot partition's files,
// the reboot breadcrumb, config.json), so that device_config's handlers
// never wait (as host_io does for the host actor). On a device it is
// detached (a thread of its own: a slow boot partition holds up nothing
// else); in fleet-sim it is an ordinary actor on the scheduler, its files
// on tmpfs.
//
// It decides nothing: device_config says what to read and, from what was
// read, what to write, in which order; the worker does it and says what
// happened, step by step. Writes are atomic (temp file, fsync, rename:
// actors/cloud/config_writer.hpp), so a reader never sees half a file.
#include "actors/host/device_config_plan.hpp"
#include "actors/host/host_provider.hpp"
#include "messages/message.hpp"

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <memory>
#include <string>
#include <vector>

namespace bosun {

struct device_config_paths {
  std::string boot_dir;   // the boot partition's mount
  std::string breadcrumb; // reboot-after-apply
  // The host's uptime (is the breadcrumb newer than the boot?); never null
  // (spawn_device_config_io fills it).
  std::shared_ptr<const host_provider> facts;
};

// Reads these files (relative to the boot dir); a missing or unreadable
// one is std::nullopt.
struct boot_read {
  std::vector<std::string> files;
};
struct boot_contents {
  boot_config::file_map files;
};

// A write job: its steps (actors/host/device_config_plan.hpp), in order.
struct boot_write {
  std::vector<boot_write_step> steps;
};
// One outcome per step run: the steps after one that ended the job are
// missing.
struct boot_written {
  std::vector<boot_step_outcome> steps;
};

// Whether a reboot is still due: the breadcrumb is newer than the boot
// (reference/host.md §1).
struct reboot_due_check {};

using device_config_io_actor
  = caf::typed_actor<caf::replies_to<boot_read>::with<boot_contents>,
                     caf::replies_to<boot_write>::with<boot_written>,
                     caf::replies_to<reboot_due_check>::with<bool>>;

// `detached`: on a thread of its own (a device); false: on the scheduler
// (fleet-sim: its calls then block a worker while they run, which on tmpfs
// is short). Null `paths.facts`: real_host_provider().
device_config_io_actor spawn_device_config_io(caf::actor_system& sys,
                                              device_config_paths paths,
                                              bool detached = true);

} // namespace bosun

BOSUN_MESSAGE(bosun::boot_read)
BOSUN_MESSAGE(bosun::boot_contents)
BOSUN_MESSAGE(bosun::boot_write)
BOSUN_MESSAGE(bosun::boot_written)
BOSUN_MESSAGE(bosun::reboot_due_check)
