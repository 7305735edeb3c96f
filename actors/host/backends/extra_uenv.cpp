// extra_uEnv.txt (Jetson Nano/TX2/Orin, some i.MX8; reference/host.md §6.3
// ExtraUEnv): HOST_EXTLINUX_fdt ⇄ `custom_fdt_file=`, HOST_EXTLINUX_isolcpus
// ⇄ `isolcpus=` in `extra_os_cmdline=`. Other entries are kept in place.
#include "actors/host/backends/backend.hpp"
#include "actors/host/backends/text.hpp"

#include <utility>

namespace bosun::boot_config {

namespace {

constexpr const char* path = "extra_uEnv.txt";

// /^\s*(\w+)=(.*)$/
std::optional<std::pair<std::string, std::string>>
option(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && text::is_space(s[i]))
    ++i;
  size_t start = i;
  while (i < s.size() && text::is_word(s[i]))
    ++i;
  if (i == start || i >= s.size() || s[i] != '=')
    return std::nullopt;
  return std::make_pair(s.substr(start, i - start), s.substr(i + 1));
}

// Entries in file order; a repeated key keeps its first place and its last
// value (a JavaScript Map).
using entry_list = std::vector<std::pair<std::string, std::string>>;

void set(entry_list& l, const std::string& k, const std::string& v) {
  for (auto& [key, value] : l)
    if (key == k) {
      value = v;
      return;
    }
  l.emplace_back(k, v);
}

class extra_uenv final : public kernel_args_backend {
public:
  const char* name() const override {
    return "extra_uEnv";
  }
  std::vector<std::string> files() const override {
    return {path};
  }
  bool matches(const device_facts& dev, const file_map& f) const override {
    const auto& t = dev.device_type;
    auto has = [&t](const char* s) { return t.find(s) != std::string::npos; };
    bool type = text::ends_with(t, "-nano") || text::ends_with(t, "-nano-emmc")
                || text::ends_with(t, "-nano-2gb-devkit")
                || text::ends_with(t, "-tx2") || has("-tx2-nx")
                || has("-agx-orin-") || has("-orin-nx-") || has("-orin-nano-")
                || has("imx8mm-var-som") || t == "iot-gate-imx8plus"
                || t == "iot-gate-imx8plus-d1d8" || has("imx8m-var-dart")
                || has("imx8mm-var-dart");
    return type && contents(f, path) != nullptr;
  }

  read_outcome read(const file_map& f) const override {
    read_outcome out;
    const auto* file = contents(f, path);
    if (file == nullptr) {
      out.error = "Could not find extra_uEnv file. Device is possibly bricked";
      return out;
    }
    if (file->empty())
      return out;
    // The first value of each option wins.
    auto add = [&out](const std::string& k, const std::string& v) {
      out.options.emplace(k, v);
    };
    for (const auto& line : text::lines_eating_comments(*file)) {
      auto kv = option(line);
      if (!kv) {
        out.warnings.push_back("Could not read extra_uEnv entry: " + line);
        continue;
      }
      if (kv->first == "custom_fdt_file") {
        add("fdt", kv->second);
      } else if (kv->first == "extra_os_cmdline") {
        for (const auto& o : text::split(kv->second, " ")) {
          if (o.empty())
            continue;
          if (auto p = option(o))
            add(p->first, p->second);
          else
            add(o, "");
        }
      }
    }
    for (auto o = out.options.begin(); o != out.options.end();)
      o = is_supported(o->first) ? std::next(o) : out.options.erase(o);
    return out;
  }

  write_outcome write(const boot_options& target,
                      const file_map& f) const override {
    write_outcome out;
    entry_list merged;
    if (const auto* file = contents(f, path))
      for (const auto& line : text::lines_eating_comments(*file))
        if (auto kv = option(line))
          set(merged, kv->first, kv->second);
    std::optional<std::string> fdt, cmdline;
    for (const auto& [key, value] : target) {
      auto v = text_of(value);
      if (key == "fdt") {
        fdt = v;
      } else if (key == "isolcpus") {
        cmdline = (cmdline && !cmdline->empty() ? *cmdline + " " : "") + key
                  + (v.empty() ? "" : "=" + v);
      } else {
        out.notes.push_back("Not setting unsupported value: { " + key + ": " + v
                            + " }");
      }
    }
    auto manage
      = [&merged](const char* key, const std::optional<std::string>& v) {
          if (v)
            return set(merged, key, *v);
          for (auto it = merged.begin(); it != merged.end(); ++it)
            if (it->first == key) {
              merged.erase(it);
              return;
            }
        };
    manage("custom_fdt_file", fdt);
    manage("extra_os_cmdline", cmdline);
    std::string file;
    for (const auto& [k, v] : merged)
      file += k + "=" + v + "\n";
    out.files[path] = std::move(file);
    return out;
  }
};

} // namespace

std::unique_ptr<backend> make_extra_uenv() {
  return std::make_unique<extra_uenv>();
}

} // namespace bosun::boot_config
