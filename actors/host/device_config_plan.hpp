#pragma once

// device_config's decisions for one apply (reference/host.md §6.1), pure:
// no I/O, no CAF. From the boot files as read, the table keys as applied
// and the effective target, it says which writes the worker does, in which
// order, and what the apply reports around them. device_config has the
// files read (its worker, device_config_io), plans with this, has the
// writes done and finishes with their outcomes.
#include "actors/host/backends/backend.hpp"
#include "actors/host/backends/config_plan.hpp"
#include "api/cloud/device_api.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace bosun {

// The steps of a write job, done in order by device_config_io.
// Touches the reboot breadcrumb (created, its mtime now); cannot fail.
struct breadcrumb_touch {};
// Rewrites config.json (actors/cloud/config_writer.hpp).
struct config_json_rewrite {
  std::string path;
  cloud::config_json_edit edit;
};
// Writes files under the boot dir (parents created), each atomically, in
// order; the first failure ends the step, and with `ends_job` the job.
struct boot_files_write {
  std::map<std::string, std::string> files;
  bool ends_job = true;
};
using boot_write_step
  = std::variant<breadcrumb_touch, config_json_rewrite, boot_files_write>;
struct boot_step_outcome {
  std::vector<std::string> written; // files written, relative to the boot dir
  std::optional<std::string> error; // why the step failed
};

namespace boot_config {

// Every backend's files: what a read asks for (whether a backend matches
// may depend on them: extra_uEnv's on its file existing).
std::vector<std::string> all_files(const backend_list& all);

// A backend's files out of `known` (missing: std::nullopt).
file_map files_for(const file_map& known, const backend& b);

// The backends this device has (re-detected on each read, as balena does).
std::vector<const backend*> matching(const backend_list& all,
                                     const device_facts& dev,
                                     const file_map& known);

// The backends' values, as vars (getCurrent's backend part), with the
// console lines of the reads; stops at the first unreadable backend.
struct backend_values {
  env_map vars;
  std::string error;
  std::vector<std::string> warnings;
};
backend_values read_backends(const std::vector<const backend*>& list,
                             const file_map& known);

// One backend's part of an apply: the boot config it writes and how.
struct backend_step {
  std::string json; // the options, for the log lines
  std::vector<std::string> notes;
  std::string error; // the backend cannot write them: nothing written
  size_t step = 0;   // its files' step in `steps` (without an error)
};

struct apply_plan {
  // The table keys (steps 1-2).
  key_changes keys;
  // A key change needs a reboot: the breadcrumb is touched before the
  // keys are stored (a job of its own), as it always was.
  bool keys_breadcrumb = false;
  std::optional<size_t> config_json_step; // persistentLogging
  // The boot backends (step 4, §6.3): when any matching backend differs
  // from the target, every one is rewritten.
  std::vector<std::string> read_warnings;
  std::string boot_error; // unreadable files or a refused change
  env_map boot_changed;   // the backends' keys that change ("" = removed)
  bool boot_change = false;
  bool boot_reboot = false;
  std::vector<backend_step> boot; // up to the first that cannot write
  // The writes after the keys are stored: config.json, the boot
  // breadcrumb, each backend's files.
  std::vector<boot_write_step> steps;
};

// `target`: effective_target() of the formatted config; `config_json`:
// config.json's path, "" when there is none.
apply_plan plan_apply(const backend_list& all, const device_facts& dev,
                      const file_map& files, const env_map& applied,
                      const env_map& target, const std::string& config_json);

} // namespace boot_config

} // namespace bosun
