#include "actors/host/backends/backend.hpp"

#include "api/cloud/boot_codec.hpp"

namespace bosun::boot_config {

namespace {
constexpr std::string_view kernel_args_prefix = "HOST_EXTLINUX_";
} // namespace

bool kernel_args_backend::is_boot_config_var(const std::string& var) const {
  return var.compare(0, kernel_args_prefix.size(), kernel_args_prefix) == 0;
}

std::string kernel_args_backend::key_of(const std::string& var) const {
  return var.substr(kernel_args_prefix.size());
}

std::string kernel_args_backend::var_of(const std::string& key) const {
  return std::string(kernel_args_prefix) + key;
}

bool kernel_args_backend::is_supported(const std::string& key) const {
  return key == "isolcpus" || key == "fdt";
}

const std::string* contents(const file_map& f, const std::string& path) {
  auto it = f.find(path);
  return it == f.end() || !it->second ? nullptr : &*it->second;
}

backend_list make_backends() {
  backend_list out;
  out.push_back(make_extlinux());
  out.push_back(make_extra_uenv());
  out.push_back(make_config_txt());
  out.push_back(make_configfs());
  out.push_back(make_splash_image());
  return out;
}

bool is_any_boot_config_var(const backend_list& all, const std::string& var) {
  for (const auto& b : all)
    if (b->is_boot_config_var(var))
      return true;
  return false;
}

std::string text_of(const boot_value& v) {
  if (const auto* s = std::get_if<std::string>(&v))
    return *s;
  return cloud::encode_var_list(std::get<std::vector<std::string>>(v));
}

env_map to_env(const backend& b, const boot_options& opts) {
  env_map out;
  for (const auto& [key, value] : opts)
    out[b.var_of(key)] = text_of(value);
  return out;
}

options_outcome to_options(const backend& b, const env_map& env) {
  options_outcome out;
  for (const auto& [var, text] : env) {
    if (!b.is_boot_config_var(var))
      continue;
    auto key = b.key_of(var);
    auto value = b.value_of(key, text);
    if (!value) {
      out.error = "Cannot parse the value of " + var + ": " + text;
      continue;
    }
    out.options[key] = std::move(*value);
  }
  return out;
}

} // namespace bosun::boot_config
