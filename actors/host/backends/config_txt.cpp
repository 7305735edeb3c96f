// config.txt (Raspberry Pi and relatives; reference/host.md §6.3 ConfigTxt):
// HOST_CONFIG_<key> ⇄ `key=value` lines. The whole file is rewritten from
// the target: comments and keys the target lacks are lost, as in balena.
#include "actors/host/backends/backend.hpp"
#include "actors/host/backends/text.hpp"
#include "api/cloud/boot_codec.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace bosun::boot_config {

namespace {

constexpr const char* prefix = "HOST_CONFIG_";
constexpr const char* path = "config.txt";

constexpr std::array<const char*, 5> array_keys{
  "dtparam", "dtoverlay", "device_tree_param", "device_tree_overlay", "gpio"};
// Managed by the power/fan backend (config.json), not config.txt.
constexpr std::array<const char*, 2> unsupported_keys{"power_mode",
                                                      "fan_profile"};
// config.txt keys the Supervisor may not change.
constexpr std::array<const char*, 11> forbidden_keys{"disable_commandline_tags",
                                                     "cmdline",
                                                     "kernel",
                                                     "kernel_address",
                                                     "kernel_old",
                                                     "ramfsfile",
                                                     "ramfsaddr",
                                                     "initramfs",
                                                     "device_tree_address",
                                                     "init_emmc_clock",
                                                     "avoid_safe_mode"};
constexpr std::array<const char*, 8> device_types{
  "fincm3",        "rt-rpi-300",      "243390-rpi3",  "nebra-hnt",
  "revpi-connect", "revpi-connect-s", "revpi-core-3", "revpi-connect-4"};
// The params balena's default config.txt sets: they belong to the base
// overlay wherever they appear.
constexpr std::array<const char*, 8> base_params{"audio",
                                                 "spi",
                                                 "i2c",
                                                 "i2c_arm",
                                                 "i2c_vc",
                                                 "i2c_baudrate",
                                                 "i2c_arm_baudrate",
                                                 "i2c_vc_baudrate"};

template <size_t N>
bool in(const std::array<const char*, N>& list, const std::string& s) {
  return std::any_of(list.begin(), list.end(),
                     [&s](const char* x) { return s == x; });
}

bool is_array_key(const std::string& k) {
  return in(array_keys, k);
}

bool is_base_param(const std::string& param) {
  auto eq = param.find('=');
  // /^([^=]+)=(.*)$/: a leading '=' leaves the whole text as the key.
  auto key = eq == std::string::npos || eq == 0 ? param : param.substr(0, eq);
  return in(base_params, key);
}

std::vector<std::string>& list_of(boot_options& o, const std::string& key) {
  auto it = o.find(key);
  if (it == o.end()
      || !std::holds_alternative<std::vector<std::string>>(it->second))
    it = o.insert_or_assign(key, std::vector<std::string>{}).first;
  return std::get<std::vector<std::string>>(it->second);
}

class config_txt final : public backend {
public:
  const char* name() const override {
    return "config.txt";
  }
  std::vector<std::string> files() const override {
    return {path};
  }
  bool matches(const device_facts& dev, const file_map&) const override {
    return in(device_types, dev.device_type)
           || text::starts_with(dev.device_type, "raspberry");
  }
  bool is_boot_config_var(const std::string& var) const override {
    return text::starts_with(var, prefix)
           && !in(unsupported_keys, var.substr(std::string(prefix).size()));
  }
  std::string key_of(const std::string& var) const override {
    // /(?:HOST_CONFIG_)(.+)/ replaced by its group: the prefix goes wherever
    // it is, as long as something follows.
    auto at = var.find(prefix);
    if (at == std::string::npos
        || at + std::string(prefix).size() >= var.size())
      return var;
    return var.substr(0, at) + var.substr(at + std::string(prefix).size());
  }
  std::string var_of(const std::string& key) const override {
    return prefix + key;
  }
  std::optional<boot_value> value_of(const std::string& key,
                                     const std::string& value) const override {
    if (!is_array_key(key))
      return boot_value{value};
    auto trimmed = text::trim(value);
    if (!text::starts_with(trimmed, "\""))
      return boot_value{std::vector<std::string>{trimmed}};
    auto list = cloud::decode_var_list(trimmed);
    if (!list)
      return std::nullopt;
    return boot_value{std::move(*list)};
  }
  bool is_supported(const std::string& key) const override {
    return !in(forbidden_keys, key) && !in(unsupported_keys, key);
  }
  void ensure_required(const std::string& device_type,
                       boot_options& opts) const override {
    if (device_type != "fincm3")
      return;
    auto it = opts.find("dtoverlay");
    if (it != opts.end())
      if (auto* s = std::get_if<std::string>(&it->second))
        it->second = std::vector<std::string>{*s};
    auto& overlays = list_of(opts, "dtoverlay");
    if (std::find(overlays.begin(), overlays.end(), "balena-fin")
        == overlays.end())
      overlays.emplace_back("balena-fin");
    overlays.erase(std::remove(overlays.begin(), overlays.end(), ""),
                   overlays.end());
  }

  read_outcome read(const file_map& f) const override {
    read_outcome out;
    auto it = f.find(path);
    if (it == f.end() || !it->second)
      return out; // no config.txt: nothing set
    auto& conf = out.options;
    // Overlays in file order, each with its params; "" is the base one.
    std::vector<std::pair<std::string, std::vector<std::string>>> queue{
      {"", {}}};
    for (const auto& line : text::lines(*it->second)) {
      auto trimmed = text::trim_start(line);
      if (trimmed.empty() || trimmed[0] == '#')
        continue;
      auto eq = line.find('=');
      if (eq != std::string::npos && eq > 0) {
        auto key = line.substr(0, eq);
        auto value = line.substr(eq + 1);
        if (!is_array_key(key)) {
          conf[key] = value;
        } else if (key == "dtparam") {
          for (auto& p : text::split(value, ","))
            (is_base_param(p) ? queue.front() : queue.back())
              .second.push_back(p);
        } else if (key == "dtoverlay") {
          auto parts = text::split(value, ",");
          queue.emplace_back(
            parts[0], std::vector<std::string>(parts.begin() + 1, parts.end()));
        } else {
          list_of(conf, key).push_back(value);
        }
        continue;
      }
      if (text::starts_with(line, "initramfs ") && line.size() > 10) {
        conf["initramfs"] = line.substr(10);
        continue;
      }
      out.warnings.push_back("Could not parse config.txt entry: " + line
                             + ". Ignoring.");
    }
    // The base overlay's params (those before any dtoverlay, and any base
    // param) are the global dtparams; `dtoverlay=` with no name is a base
    // overlay too.
    std::vector<std::string> global = std::move(queue.front().second);
    for (size_t i = 1; i < queue.size(); ++i)
      if (queue[i].first.empty())
        global.insert(global.end(), queue[i].second.begin(),
                      queue[i].second.end());
    if (!global.empty()) {
      auto& dt = list_of(conf, "dtparam");
      dt.insert(dt.end(), global.begin(), global.end());
    }
    for (size_t i = 1; i < queue.size(); ++i) {
      if (queue[i].first.empty())
        continue;
      std::vector<std::string> parts{queue[i].first};
      parts.insert(parts.end(), queue[i].second.begin(), queue[i].second.end());
      list_of(conf, "dtoverlay").push_back(text::join(parts, ","));
    }
    return out;
  }

  write_outcome write(const boot_options& target,
                      const file_map&) const override {
    std::vector<std::string> lines;
    for (const auto& [key, value] : target) {
      if (key == "dtoverlay")
        continue;
      if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
        for (const auto& v : *list)
          lines.push_back(key + "=" + v);
      } else if (key == "initramfs") {
        lines.push_back(key + " " + std::get<std::string>(value));
      } else {
        lines.push_back(key + "=" + std::get<std::string>(value));
      }
    }
    // Each overlay last, split from its params (config.txt has a line
    // length limit), so that none overrides the base overlay.
    if (auto it = target.find("dtoverlay"); it != target.end()) {
      std::vector<std::string> overlays;
      if (const auto* list = std::get_if<std::vector<std::string>>(&it->second))
        overlays = *list;
      else
        overlays.push_back(std::get<std::string>(it->second));
      for (const auto& entry : overlays) {
        auto parts = text::split(entry, ",");
        lines.push_back("dtoverlay=" + parts[0]);
        for (size_t i = 1; i < parts.size(); ++i)
          lines.push_back("dtparam=" + parts[i]);
      }
    }
    write_outcome out;
    out.files[path] = text::join(lines, "\n") + "\n";
    return out;
  }
};

} // namespace

std::unique_ptr<backend> make_config_txt() {
  return std::make_unique<config_txt>();
}

} // namespace bosun::boot_config
