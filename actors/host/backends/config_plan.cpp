#include "actors/host/backends/config_plan.hpp"

#include "actors/host/backends/text.hpp"

#include <cstdlib>

namespace bosun::boot_config {

const std::vector<config_key>& config_keys() {
  // A constant table, never written.
  static const std::vector<config_key> keys{
    {"SUPERVISOR_POLL_INTERVAL", var_type::integer, "900000"},
    {"SUPERVISOR_INSTANT_UPDATE_TRIGGER", var_type::boolean, "true"},
    {"SUPERVISOR_LOCAL_MODE", var_type::boolean, "false"},
    {"SUPERVISOR_CONNECTIVITY_CHECK", var_type::boolean, "true"},
    {"SUPERVISOR_LOG_CONTROL", var_type::boolean, "true"},
    {"SUPERVISOR_API_REQUEST_TIMEOUT", var_type::integer, "59000"},
    {"SUPERVISOR_DELTA", var_type::boolean, "false"},
    {"SUPERVISOR_DELTA_REQUEST_TIMEOUT", var_type::integer, "59000"},
    {"SUPERVISOR_DELTA_APPLY_TIMEOUT", var_type::integer, "0"},
    {"SUPERVISOR_DELTA_RETRY_COUNT", var_type::integer, "30"},
    {"SUPERVISOR_DELTA_RETRY_INTERVAL", var_type::integer, "10000"},
    {"SUPERVISOR_DELTA_VERSION", var_type::integer, "2"},
    {"SUPERVISOR_OVERRIDE_LOCK", var_type::boolean, "false"},
    {"SUPERVISOR_PERSISTENT_LOGGING", var_type::boolean, "false", true},
    {"HOST_FIREWALL_MODE", var_type::text, "off"},
    {"HOST_DISCOVERABILITY", var_type::boolean, "true"},
    {"SUPERVISOR_HARDWARE_METRICS", var_type::boolean, "true"},
  };
  return keys;
}

bool truthy(const std::string& v) {
  auto l = text::lower(v);
  return l == "1" || l == "true" || l == "on";
}

namespace {

bool falsey(const std::string& v) {
  auto l = text::lower(v);
  return l == "0" || l == "false" || l == "off";
}

// checkInt: /^-?[0-9]+\.?0*$/ and an integer.
std::optional<int64_t> check_int(const std::string& s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-')
    ++i;
  size_t digits = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9')
    ++i;
  if (i == digits)
    return std::nullopt;
  auto end = i;
  if (i < s.size() && s[i] == '.')
    ++i;
  while (i < s.size() && s[i] == '0')
    ++i;
  if (i != s.size() || end - digits > 18)
    return std::nullopt;
  return std::strtoll(s.substr(0, end).c_str(), nullptr, 10);
}

bool known_key(const std::string& var) {
  if (var == "SUPERVISOR_VPN_CONTROL" || var == "OVERRIDE_LOCK")
    return true;
  for (const auto& k : config_keys())
    if (var == k.var)
      return true;
  return false;
}

} // namespace

bool valid(var_type t, const std::string& v) {
  switch (t) {
    case var_type::boolean:
      return truthy(v) || falsey(v);
    case var_type::integer: {
      // parseInt: optional blanks and sign, then a digit.
      auto s = text::trim_start(v);
      size_t i = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
      return i < s.size() && s[i] >= '0' && s[i] <= '9';
    }
    case var_type::text:
      return true;
  }
  return false;
}

bool same(var_type t, const std::string& a, const std::string& b) {
  switch (t) {
    case var_type::boolean:
      return truthy(a) == truthy(b);
    case var_type::integer:
      return check_int(a) == check_int(b);
    case var_type::text:
      return a == b;
  }
  return false;
}

env_map format_config(const env_map& raw, const backend_list& backends) {
  env_map out;
  // Unprefixed first, then RESIN_, then BALENA_: each later one wins.
  for (const char* prefix : {"", "RESIN_", "BALENA_"}) {
    for (const auto& [k, v] : raw) {
      std::string p = prefix;
      bool prefixed
        = text::starts_with(k, "RESIN_") || text::starts_with(k, "BALENA_");
      if (p.empty() ? prefixed : !text::starts_with(k, p))
        continue;
      out[k.substr(p.size())] = v;
    }
  }
  for (auto it = out.begin(); it != out.end();)
    it = known_key(it->first) || is_any_boot_config_var(backends, it->first)
           ? std::next(it)
           : out.erase(it);
  if (auto legacy = out.find("OVERRIDE_LOCK"); legacy != out.end())
    out["SUPERVISOR_OVERRIDE_LOCK"] = legacy->second;
  return out;
}

env_map effective_target(env_map stored, bool unmanaged) {
  stored.emplace("SUPERVISOR_VPN_CONTROL", "true");
  if (unmanaged)
    stored.emplace("SUPERVISOR_LOCAL_MODE", "true");
  for (const auto& k : config_keys())
    stored.emplace(k.var, k.default_value);
  return stored;
}

env_map config_defaults() {
  env_map out{{"SUPERVISOR_VPN_CONTROL", "true"}};
  for (const auto& k : config_keys())
    out.emplace(k.var, k.default_value);
  return out;
}

key_changes plan_key_changes(const env_map& current, const env_map& target) {
  key_changes out;
  auto value = [](const env_map& m, const char* k) {
    auto it = m.find(k);
    return it == m.end() ? std::string() : it->second;
  };
  for (const auto& k : config_keys()) {
    auto cur = value(current, k.var);
    auto tgt = value(target, k.var);
    if (same(k.type, cur, tgt))
      continue;
    std::optional<std::string> to;
    if (valid(k.type, tgt)) {
      to = tgt;
    } else if (!same(k.type, cur, k.default_value)) {
      out.warnings.push_back(
        "Warning: Ignoring invalid device configuration value for "
        + std::string(k.var) + ", value: '" + tgt
        + "'. Falling back to default (" + k.default_value + ")");
      to = k.default_value;
    }
    if (!to)
      continue;
    out.changes[k.var] = *to;
    if (k.reboot)
      out.rebooting[k.var] = *to;
  }
  return out;
}

backend_change plan_backend(const backend& b, const env_map& current,
                            const env_map& target,
                            const std::string& device_type) {
  backend_change out;
  auto t = to_options(b, target);
  auto c = to_options(b, current);
  if (!t.error.empty() || !c.error.empty()) {
    out.error = t.error.empty() ? c.error : t.error;
    return out;
  }
  out.target = std::move(t.options);
  out.current = std::move(c.options);
  b.ensure_required(device_type, out.target);
  for (const auto& [key, value] : out.target) {
    if (b.is_supported(key))
      continue;
    auto it = out.current.find(key);
    if (it == out.current.end() || it->second != value) {
      out.error = "Attempt to change blacklisted config value " + key;
      return out;
    }
  }
  out.change = out.target != out.current;
  return out;
}

} // namespace bosun::boot_config
