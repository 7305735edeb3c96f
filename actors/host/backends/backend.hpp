#pragma once

// Boot-config backends (reference/host.md §6.3): each one owns a file (or a
// few) on the boot partition and maps the target's HOST_* config vars to
// and from it. Pure: a backend is given the current contents of its files
// and returns the options they hold, or the new contents to write. The
// device_config actor reads the files and writes the results atomically.
#include "messages/device_config.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bosun::boot_config {

// A backend's files, relative to the boot mount: contents, or std::nullopt
// when the file does not exist.
using file_map = std::map<std::string, std::optional<std::string>>;

// Config vars as the target holds them (prefixes stripped): name → value.
using env_map = std::map<std::string, std::string>;

struct device_facts {
  std::string device_type; // the slug, e.g. raspberrypi4-64
  // os-release META_BALENA_VERSION (extlinux is only writable before 2.47).
  std::optional<std::string> meta_release;
};

struct read_outcome {
  boot_options options;
  std::string error; // non-empty: the file cannot be read (balena's words)
  std::vector<std::string> warnings; // console lines (malformed entries)
};

struct write_outcome {
  std::map<std::string, std::string> files; // path → the new contents
  std::string error;                        // non-empty: nothing to write
  std::vector<std::string> notes;           // console lines
};

class backend {
public:
  virtual ~backend() = default;
  // "config.txt", "extlinux", ...: for log lines and telemetry.
  virtual const char* name() const = 0;
  // The files read() and write() need.
  virtual std::vector<std::string> files() const = 0;
  // Supports this device (some need their file to exist).
  virtual bool matches(const device_facts& dev, const file_map& f) const = 0;
  // The config var belongs to this backend (whatever the device type).
  virtual bool is_boot_config_var(const std::string& var) const = 0;
  // Var name → option key (balena's processConfigVarName) and back.
  virtual std::string key_of(const std::string& var) const = 0;
  virtual std::string var_of(const std::string& key) const = 0;
  // The var's text as an option; std::nullopt when it cannot be read (a
  // list that is not JSON).
  virtual std::optional<boot_value> value_of(const std::string& /*key*/,
                                             const std::string& text) const {
    return boot_value{text};
  }
  // The key may be changed (config.txt forbids a few).
  virtual bool is_supported(const std::string& key) const = 0;
  // Adds what the device type always needs (fincm3's balena-fin overlay).
  virtual void ensure_required(const std::string& /*device_type*/,
                               boot_options& /*opts*/) const {}
  virtual bool reboot_required(const boot_options& /*current*/,
                               const boot_options& /*target*/) const {
    return true;
  }
  virtual read_outcome read(const file_map& f) const = 0;
  virtual write_outcome write(const boot_options& target,
                              const file_map& f) const = 0;
  // Files to write once when the backend starts (the splash default).
  virtual std::map<std::string, std::string>
  initialise(const file_map& /*f*/) const {
    return {};
  }
};

// HOST_EXTLINUX_isolcpus and HOST_EXTLINUX_fdt: the kernel command line
// vars that extlinux.conf and extra_uEnv.txt both serve.
class kernel_args_backend : public backend {
public:
  bool is_boot_config_var(const std::string& var) const override;
  std::string key_of(const std::string& var) const override;
  std::string var_of(const std::string& key) const override;
  bool is_supported(const std::string& key) const override;
};

// The file's contents, or nullptr when it is missing or was not read.
const std::string* contents(const file_map& f, const std::string& path);

using backend_list = std::vector<std::unique_ptr<backend>>;

std::unique_ptr<backend> make_extlinux();
std::unique_ptr<backend> make_extra_uenv();
std::unique_ptr<backend> make_config_txt();
std::unique_ptr<backend> make_configfs();
std::unique_ptr<backend> make_splash_image();

// Every backend bosun has, in balena's order (a later one's current values
// win when two report the same var).
backend_list make_backends();

// The var belongs to some backend, whatever the device type.
bool is_any_boot_config_var(const backend_list& all, const std::string& var);

// balena's bootConfigToEnv: options → vars (lists as `"a","b"`).
env_map to_env(const backend& b, const boot_options& opts);

// balena's envToBootConfig: the backend's vars → options. `error` names a
// var whose value cannot be read.
struct options_outcome {
  boot_options options;
  std::string error;
};
options_outcome to_options(const backend& b, const env_map& env);

// A value's text for comparisons and log lines: the string, or the list
// as `"a","b"`.
std::string text_of(const boot_value& v);

} // namespace bosun::boot_config
