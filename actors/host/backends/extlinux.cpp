// extlinux.conf (Jetson devices on balenaOS before 2.47; reference/host.md
// §6.3 Extlinux): HOST_EXTLINUX_isolcpus ⇄ `isolcpus=` in the default
// entry's APPEND, HOST_EXTLINUX_fdt ⇄ its FDT.
#include "actors/host/backends/backend.hpp"
#include "actors/host/backends/text.hpp"

#include <cstdlib>
#include <utility>

namespace bosun::boot_config {

namespace {

constexpr const char* path = "extlinux/extlinux.conf";

// Directives in file order; a repeated one keeps its place, last value wins
// (a JavaScript object).
using directives = std::vector<std::pair<std::string, std::string>>;

std::string* find(directives& d, const std::string& k) {
  for (auto& [key, value] : d)
    if (key == k)
      return &value;
  return nullptr;
}

void set(directives& d, const std::string& k, std::string v) {
  if (auto* at = find(d, k))
    *at = std::move(v);
  else
    d.emplace_back(k, std::move(v));
}

struct extlinux_file {
  directives globals;
  std::vector<std::pair<std::string, directives>> labels;
  directives* label(const std::string& name) {
    for (auto& [n, d] : labels)
      if (n == name)
        return &d;
    return nullptr;
  }
};

extlinux_file parse_file(const std::string& text,
                         std::vector<std::string>& warnings) {
  extlinux_file file;
  directives* current = nullptr;
  for (const auto& line : text::lines_eating_comments(text)) {
    // /^\s*(\w+)\s?(.*)$/
    size_t i = 0;
    while (i < line.size() && text::is_space(line[i]))
      ++i;
    size_t start = i;
    while (i < line.size() && text::is_word(line[i]))
      ++i;
    if (i == start) {
      warnings.push_back("Could not read extlinux entry: " + line);
      continue;
    }
    auto directive = text::upper(line.substr(start, i - start));
    if (i < line.size() && text::is_space(line[i]))
      ++i;
    auto value = line.substr(i);
    if (directive == "MENU") {
      auto parts = text::split(value, " ");
      directive = "MENU " + parts[0];
      parts.erase(parts.begin());
      value = text::join(parts, " ");
    }
    if (directive == "LABEL") {
      if (auto* existing = file.label(value)) {
        existing->clear();
        current = existing;
      } else {
        file.labels.emplace_back(value, directives{});
        current = &file.labels.back().second;
      }
    } else {
      set(current != nullptr ? *current : file.globals, directive, value);
    }
  }
  return file;
}

std::string to_string(const extlinux_file& file) {
  std::string out;
  for (const auto& [d, v] : file.globals)
    out += d + " " + v + "\n";
  for (const auto& [name, ds] : file.labels) {
    out += "LABEL " + name + "\n";
    for (const auto& [d, v] : ds)
      out += d + " " + v + "\n";
  }
  return out;
}

// The default entry, or why there is none.
directives* default_entry(extlinux_file& file, std::string& error) {
  auto* name = find(file.globals, "DEFAULT");
  if (name == nullptr) {
    error = "Could not find default entry for extlinux.conf file";
    return nullptr;
  }
  auto* entry = file.label(*name);
  if (entry == nullptr)
    error
      = "Cannot find label entry (label: " + *name + ") for extlinux.conf file";
  return entry;
}

// "1.2.3" < "2.47.0"; anything unreadable is not older.
bool older_than_2_47(const std::string& version) {
  auto parts = text::split(version, ".");
  if (parts.size() < 2)
    return false;
  char* end = nullptr;
  long major = std::strtol(parts[0].c_str(), &end, 10);
  if (end == parts[0].c_str())
    return false;
  long minor = std::strtol(parts[1].c_str(), &end, 10);
  if (end == parts[1].c_str())
    return false;
  return major < 2 || (major == 2 && minor < 47);
}

class extlinux final : public kernel_args_backend {
public:
  const char* name() const override {
    return "extlinux";
  }
  std::vector<std::string> files() const override {
    return {path};
  }
  bool matches(const device_facts& dev, const file_map&) const override {
    return text::starts_with(dev.device_type, "jetson-") && dev.meta_release
           && older_than_2_47(*dev.meta_release);
  }

  read_outcome read(const file_map& f) const override {
    read_outcome out;
    const auto* file = contents(f, path);
    if (file == nullptr) {
      out.error = "Could not find extlinux file. Device is possibly bricked";
      return out;
    }
    auto parsed = parse_file(*file, out.warnings);
    auto* entry = default_entry(parsed, out.error);
    if (entry == nullptr)
      return out;
    auto* append = find(*entry, "APPEND");
    if (append == nullptr) {
      out.error = "Could not find APPEND directive in default extlinux.conf "
                  "boot entry";
      return out;
    }
    for (const auto& token : text::split(*append, " ")) {
      auto parts = text::split(token, "=");
      if (parts[0].empty())
        continue;
      if (parts.size() > 2) {
        out.error = "Unable to parse invalid value: " + token;
        return out;
      }
      if (is_supported(parts[0]))
        out.options.emplace(parts[0], parts.size() > 1 ? parts[1] : "");
    }
    if (auto* fdt = find(*entry, "FDT"); fdt != nullptr && !fdt->empty())
      out.options["fdt"] = *fdt;
    return out;
  }

  write_outcome write(const boot_options& target,
                      const file_map& f) const override {
    write_outcome out;
    const auto* file = contents(f, path);
    if (file == nullptr) {
      out.error = "Could not find extlinux file. Device is possibly bricked";
      return out;
    }
    auto parsed = parse_file(*file, out.notes);
    auto* entry = default_entry(parsed, out.error);
    if (entry == nullptr)
      return out;
    if (auto fdt = target.find("fdt"); fdt != target.end()) {
      auto v = text_of(fdt->second);
      if (!v.empty())
        set(*entry, "FDT", v);
    }
    // APPEND without the managed tokens, then the target's.
    std::vector<std::string> tokens;
    auto* append = find(*entry, "APPEND");
    for (auto& token : text::split(append != nullptr ? *append : "", " "))
      if (text::split(token, "=")[0] != "isolcpus")
        tokens.push_back(token);
    for (const auto& [key, value] : target) {
      if (key != "isolcpus")
        continue;
      auto v = text_of(value);
      if (key.find('=') != std::string::npos
          || v.find('=') != std::string::npos) {
        out.error = "One of the values being set contains an invalid "
                    "character: [ value: "
                    + v + ", key: " + key + " ]";
        return out;
      }
      tokens.push_back(v.empty() ? key : key + "=" + v);
    }
    set(*entry, "APPEND", text::trim(text::join(tokens, " ")));
    out.files[path] = to_string(parsed);
    return out;
  }
};

} // namespace

std::unique_ptr<backend> make_extlinux() {
  return std::make_unique<extlinux>();
}

} // namespace bosun::boot_config
