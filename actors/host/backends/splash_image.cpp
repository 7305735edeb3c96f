// The boot splash logo (every device type; reference/host.md §6.3
// SplashImage): HOST_SPLASH_image, a PNG as a data URI or bare base64,
// ⇄ splash/balena-logo.png (or resin-logo.png when only that exists). The
// first start keeps the OS's logo as splash/balena-logo-default.png, which
// an empty target restores.
#include "actors/host/backends/backend.hpp"
#include "actors/host/backends/text.hpp"

#include <array>
#include <cstdint>

namespace bosun::boot_config {

namespace {

constexpr const char* prefix = "HOST_SPLASH_";
constexpr const char* default_logo = "splash/balena-logo-default.png";
constexpr const char* balena_logo = "splash/balena-logo.png";
constexpr const char* resin_logo = "splash/resin-logo.png";

constexpr const char* alphabet
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(const std::string& in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0)
    out += alphabet[(acc << (6 - bits)) & 63];
  while (out.size() % 4 != 0)
    out += '=';
  return out;
}

// Node's Buffer.from(s, "base64"): characters outside the alphabet (and
// "-" "_" of base64url) are skipped; decoding stops at "=".
std::string unbase64(const std::string& in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=')
      break;
    if (v < 0)
      continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

bool is_png(const std::string& b) {
  static constexpr std::array<unsigned char, 8> sig{0x89, 0x50, 0x4e, 0x47,
                                                    0x0d, 0x0a, 0x1a, 0x0a};
  if (b.size() < sig.size())
    return false;
  for (size_t i = 0; i < sig.size(); ++i)
    if (static_cast<unsigned char>(b[i]) != sig[i])
      return false;
  return true;
}

bool exists(const file_map& f, const char* p) {
  auto it = f.find(p);
  return it != f.end() && it->second.has_value();
}

// The logo the OS shows: balena-logo.png, else resin-logo.png if only that
// exists.
const char* logo_path(const file_map& f) {
  return !exists(f, balena_logo) && exists(f, resin_logo) ? resin_logo
                                                          : balena_logo;
}

std::string strip(const std::string& var) {
  return text::starts_with(var, prefix) ? var.substr(std::string(prefix).size())
                                        : var;
}

class splash_image final : public backend {
public:
  const char* name() const override {
    return "splash image";
  }
  std::vector<std::string> files() const override {
    return {default_logo, balena_logo, resin_logo};
  }
  bool matches(const device_facts&, const file_map&) const override {
    return true;
  }
  bool is_boot_config_var(const std::string& var) const override {
    return text::lower(strip(var)) == "image";
  }
  std::string key_of(const std::string& var) const override {
    return text::lower(strip(var));
  }
  std::string var_of(const std::string& key) const override {
    return prefix + key;
  }
  std::optional<boot_value> value_of(const std::string&,
                                     const std::string& value) const override {
    // /^data:(.+);base64,(.*)$/ with its media type's parameters dropped.
    auto marker = value.rfind(";base64,");
    if (text::starts_with(value, "data:") && marker != std::string::npos
        && marker > 5 && value.find('\n') == std::string::npos) {
      auto media = value.substr(5, marker - 5);
      auto type = media.substr(0, media.find(';'));
      return boot_value{"data:" + type + ";base64," + value.substr(marker + 8)};
    }
    if (!text::trim(value).empty())
      return boot_value{"data:image/png;base64," + value};
    return boot_value{std::string()};
  }
  bool is_supported(const std::string& key) const override {
    return key == "image";
  }
  // An empty value is no value.
  void ensure_required(const std::string&, boot_options& opts) const override {
    auto it = opts.find("image");
    if (it != opts.end() && text::trim(text_of(it->second)).empty())
      opts.erase(it);
  }

  read_outcome read(const file_map& f) const override {
    read_outcome out;
    auto d = f.find(default_logo);
    auto l = f.find(logo_path(f));
    if (d == f.end() || !d->second || l == f.end() || !l->second) {
      out.warnings.push_back("Failed to read splash image");
      return out;
    }
    auto img = base64(*l->second);
    if (img != base64(*d->second))
      out.options["image"] = "data:image/png;base64," + img;
    return out;
  }

  write_outcome write(const boot_options& target,
                      const file_map& f) const override {
    write_outcome out;
    std::string value;
    if (auto it = target.find("image"); it != target.end())
      value = text_of(it->second);
    std::string bytes;
    if (value.empty()) {
      auto d = f.find(default_logo);
      if (d == f.end() || !d->second) {
        out.error = "Failed to read file " + std::string(default_logo);
        return out;
      }
      bytes = *d->second;
    } else {
      auto data = value;
      if (text::starts_with(value, "data:")) {
        auto parts = text::split(value, ",");
        data = parts.size() > 1 ? parts[1] : "";
      }
      bytes = unbase64(data);
    }
    if (!is_png(bytes)) {
      out.notes.push_back(
        "Expected splash image to be a base64 encoded PNG image. Skipping "
        "write.");
      return out;
    }
    out.files[logo_path(f)] = std::move(bytes);
    return out;
  }

  std::map<std::string, std::string>
  initialise(const file_map& f) const override {
    std::map<std::string, std::string> out;
    if (exists(f, default_logo))
      return out;
    auto l = f.find(logo_path(f));
    if (l != f.end() && l->second)
      out[default_logo] = *l->second;
    return out;
  }
};

} // namespace

std::unique_ptr<backend> make_splash_image() {
  return std::make_unique<splash_image>();
}

} // namespace bosun::boot_config
