#include "actors/volumes/volume_logic.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bosun::volume_logic {

namespace {

const char* const supervised_label = "io.balena.supervised";

// Labels bosun (or balena) sets for its own bookkeeping.
bool is_own_label(const std::string& k) {
  return k == "io.balena.supervised" || k == "io.resin.supervised"
         || k == "io.balena.app-uuid" || k == "io.balena.app-id"
         || k == "io.resin.app-id" || k == "io.balena.private.ipam.config";
}

string_map user_labels(const string_map& labels) {
  string_map out;
  for (auto& [k, v] : labels)
    if (!is_own_label(k))
      out.emplace(k, v);
  return out;
}

std::string or_default(const std::string& s, const char* def) {
  return s.empty() ? std::string{def} : s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool pool_matches(const network_ipam_pool& current, const ipam_pool& target) {
  return current.subnet == target.subnet && current.ip_range == target.ip_range
         && current.aux_addresses == target.aux_addresses
         && (target.gateway.empty() || current.gateway == target.gateway);
}

} // namespace

std::string volume_name(int64_t app_id, std::string_view name) {
  return std::to_string(app_id) + "_" + std::string{name};
}

std::string network_name(std::string_view app_uuid, std::string_view name) {
  return std::string{app_uuid} + "_" + std::string{name};
}

std::optional<int64_t> app_of_volume(std::string_view engine_name) {
  auto us = engine_name.find('_');
  if (us == 0 || us == std::string_view::npos || us + 1 >= engine_name.size())
    return std::nullopt;
  for (size_t i = 0; i < us; ++i)
    if (std::isdigit(static_cast<unsigned char>(engine_name[i])) == 0)
      return std::nullopt;
  int64_t id = 0;
  auto [p, ec]
    = std::from_chars(engine_name.data(), engine_name.data() + us, id);
  if (ec != std::errc{} || p != engine_name.data() + us)
    return std::nullopt;
  return id;
}

bool in_scope(std::string_view engine_name, const std::vector<int64_t>& apps) {
  auto app = app_of_volume(engine_name);
  return app && std::find(apps.begin(), apps.end(), *app) != apps.end();
}

volume_create make_volume_create(int64_t app_id, std::string_view app_uuid,
                                 const target_volume& v) {
  volume_create c;
  c.name = volume_name(app_id, v.name);
  c.driver = or_default(v.driver, "local");
  c.driver_opts = v.driver_opts;
  c.labels = v.labels;
  c.labels[supervised_label] = "true";
  c.labels["io.balena.app-uuid"] = std::string{app_uuid};
  return c;
}

network_create make_network_create(std::string_view app_uuid, int64_t app_id,
                                   const target_network& n) {
  network_create c;
  c.name = network_name(app_uuid, n.name);
  c.driver = or_default(n.driver, "bridge");
  c.check_duplicate = true;
  c.options = n.driver_opts;
  network_ipam ipam;
  ipam.driver = or_default(n.ipam.driver, "default");
  for (auto& p : n.ipam.config)
    ipam.config.push_back(
      network_ipam_pool{p.subnet, p.gateway, p.ip_range, p.aux_addresses});
  ipam.options = n.ipam.options;
  c.ipam = std::move(ipam);
  c.enable_ipv6 = n.enable_ipv6;
  c.internal = n.internal;
  c.config_only = n.config_only;
  c.labels = n.labels;
  c.labels[supervised_label] = "true";
  c.labels["io.balena.app-id"] = std::to_string(app_id);
  if (!n.ipam.config.empty())
    c.labels["io.balena.private.ipam.config"] = "true";
  return c;
}

std::optional<std::string> volume_difference(const volume_info& current,
                                             const target_volume& target) {
  auto have = or_default(current.driver, "local");
  auto want = or_default(target.driver, "local");
  if (have != want)
    return "driver " + have + " != " + want;
  if (current.options != target.driver_opts)
    return std::string{"driver options differ"};
  if (user_labels(current.labels) != user_labels(target.labels))
    return std::string{"labels differ"};
  return std::nullopt;
}

std::optional<std::string> network_difference(const network_info& current,
                                              const target_network& target) {
  if (current.config_only != target.config_only)
    return std::string{"config_only differs"};
  if (!target.config_only) {
    auto have = or_default(current.driver, "bridge");
    auto want = or_default(target.driver, "bridge");
    if (have != want)
      return "driver " + have + " != " + want;
  }
  if (current.options != target.driver_opts)
    return std::string{"driver options differ"};
  auto have_ipam = or_default(current.ipam.driver, "default");
  auto want_ipam = or_default(target.ipam.driver, "default");
  if (have_ipam != want_ipam)
    return "ipam driver " + have_ipam + " != " + want_ipam;
  if (current.ipam.options != target.ipam.options)
    return std::string{"ipam options differ"};
  // Without balena's marker the engine chose the pools: compare as none.
  bool asked = current.labels.count("io.balena.private.ipam.config") > 0;
  std::vector<network_ipam_pool> none;
  const auto& pools = asked ? current.ipam.config : none;
  bool pools_equal = pools.size() == target.ipam.config.size();
  for (size_t i = 0; pools_equal && i < pools.size(); ++i)
    pools_equal = pool_matches(pools[i], target.ipam.config[i]);
  if (!pools_equal)
    return std::string{"ipam config differs"};
  if (current.enable_ipv6 != target.enable_ipv6)
    return std::string{"enable_ipv6 differs"};
  if (current.internal != target.internal)
    return std::string{"internal differs"};
  if (user_labels(current.labels) != user_labels(target.labels))
    return std::string{"labels differ"};
  return std::nullopt;
}

bool is_app_network(const network_info& n, std::string_view app_uuid,
                    int64_t app_id) {
  bool supervised = n.labels.count("io.balena.supervised") > 0
                    || n.labels.count("io.resin.supervised") > 0;
  if (!supervised)
    return false;
  if (!app_uuid.empty() && starts_with(n.name, std::string{app_uuid} + "_"))
    return true;
  auto id = std::to_string(app_id);
  if (!starts_with(n.name, id + "_"))
    return false;
  auto label = n.labels.find("io.balena.app-id");
  return label != n.labels.end() && label->second == id;
}

} // namespace bosun::volume_logic
