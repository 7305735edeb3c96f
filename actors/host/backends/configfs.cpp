// configfs.json (UP board; reference/host.md §6.3 ConfigFs): the SSDT
// overlays to load, HOST_CONFIGFS_ssdt ⇄ configfs.json's "ssdt" list.
// Loading the AML tables into the kernel's ACPI configfs at start
// (modprobe acpi_configfs, /sys/kernel/config/acpi/table) is host work this
// pure backend does not do.
#include "actors/host/backends/backend.hpp"
#include "actors/host/backends/text.hpp"
#include "api/cloud/boot_codec.hpp"

namespace bosun::boot_config {

namespace {

constexpr const char* prefix = "HOST_CONFIGFS_";
constexpr const char* path = "configfs.json";

std::string strip(const std::string& var) {
  return text::starts_with(var, prefix) ? var.substr(std::string(prefix).size())
                                        : var;
}

class configfs final : public backend {
public:
  const char* name() const override {
    return "configfs";
  }
  std::vector<std::string> files() const override {
    return {path};
  }
  bool matches(const device_facts& dev, const file_map&) const override {
    return dev.device_type == "up-board";
  }
  // balena keeps the whole var name as the option key, and a bare "ssdt"
  // counts as the var too.
  bool is_boot_config_var(const std::string& var) const override {
    return strip(var) == "ssdt";
  }
  std::string key_of(const std::string& var) const override {
    return var;
  }
  std::string var_of(const std::string& key) const override {
    return prefix + key;
  }
  std::optional<boot_value> value_of(const std::string& key,
                                     const std::string& value) const override {
    if (strip(key) != "ssdt")
      return boot_value{value};
    if (!text::starts_with(value, "\""))
      return boot_value{std::vector<std::string>{value}};
    std::vector<std::string> out;
    for (auto& v : text::split(value, ",")) {
      std::string unquoted;
      for (char c : v)
        if (c != '"')
          unquoted += c;
      out.push_back(text::trim(unquoted));
    }
    return boot_value{std::move(out)};
  }
  bool is_supported(const std::string& key) const override {
    return strip(key) == "ssdt";
  }

  read_outcome read(const file_map& f) const override {
    read_outcome out;
    auto it = f.find(path);
    auto ssdt = cloud::configfs_ssdt(it == f.end() ? std::nullopt : it->second);
    if (!ssdt.empty())
      out.options["ssdt"] = std::move(ssdt);
    return out;
  }

  write_outcome write(const boot_options& target,
                      const file_map& f) const override {
    write_outcome out;
    std::optional<std::vector<std::string>> ssdt;
    if (auto t = target.find(std::string(prefix) + "ssdt"); t != target.end()) {
      if (const auto* list = std::get_if<std::vector<std::string>>(&t->second))
        ssdt = *list;
      else if (const auto& s = std::get<std::string>(t->second); !s.empty())
        ssdt = std::vector<std::string>{s};
    }
    auto it = f.find(path);
    out.files[path] = cloud::configfs_with_ssdt(
      it == f.end() ? std::nullopt : it->second, ssdt);
    return out;
  }
};

} // namespace

std::unique_ptr<backend> make_configfs() {
  return std::make_unique<configfs>();
}

} // namespace bosun::boot_config
