#pragma once

// Pure helpers of the volumes and networks actors: engine names, create
// bodies (balena's), and the comparison of an engine object with its target.
// The planner side (app_manager) uses volume_matches / network_matches to
// fill current_volume::config_equal and current_network::config_equal.
//
// Comparisons normalise what the engine fills in or reports differently, so
// that an object created from a target compares equal to it:
//  - driver "" = "local" (volumes) / "bridge" (networks); a ConfigOnly
//    network reports driver "null", so its driver is not compared;
//  - IPAM driver "" = "default"; when the target sets no ipam.config the
//    engine picks a subnet, which is not compared; a pool without a gateway
//    gets none compared either (the engine may choose one);
//  - bosun's own labels (io.balena.supervised, io.balena.app-uuid,
//    io.balena.app-id, io.balena.private.ipam.config, and the io.resin.*
//    spellings) are not compared: a volume made by another agent version
//    must not be recreated (its data lost) just for a bookkeeping label.
// A network's ipam.config is compared only when it carries
// io.balena.private.ipam.config (balena's marker that the config was asked
// for, rather than chosen by the engine).
#include "messages/volumes.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::volume_logic {

// "<appId>_<name>"
std::string volume_name(int64_t app_id, std::string_view name);

// "<appUuid>_<name>"
std::string network_name(std::string_view app_uuid, std::string_view name);

// The app id of an app volume name: "<digits>_<rest>" with a non-empty rest;
// nullopt for anything else ("resin-data", "x1_y", "12_").
std::optional<int64_t> app_of_volume(std::string_view engine_name);

// Whether an engine volume belongs to one of `apps` (by app_of_volume).
bool in_scope(std::string_view engine_name, const std::vector<int64_t>& apps);

// POST /volumes/create body: Name "<appId>_<name>", Driver (default
// "local"), DriverOpts, Labels = user labels + io.balena.supervised=true +
// io.balena.app-uuid=<uuid>.
volume_create make_volume_create(int64_t app_id, std::string_view app_uuid,
                                 const target_volume& v);

// POST /networks/create body: Name "<appUuid>_<name>", Driver (default
// "bridge"), CheckDuplicate, Options, IPAM {Driver (default "default"),
// Config, Options}, EnableIPv6, Internal, ConfigOnly; Labels = user labels +
// io.balena.supervised=true + io.balena.app-id=<appId> (+
// io.balena.private.ipam.config=true when ipam.config is set).
network_create make_network_create(std::string_view app_uuid, int64_t app_id,
                                   const target_network& n);

// Why the engine's volume differs from the target ("driver local != nfs",
// "driver options differ", "labels differ"), or nullopt when it matches.
std::optional<std::string> volume_difference(const volume_info& current,
                                             const target_volume& target);

inline bool volume_matches(const volume_info& current,
                           const target_volume& target) {
  return !volume_difference(current, target);
}

// Same for networks ("driver bridge != macvlan", "ipam config differs",
// "internal differs", ...).
std::optional<std::string> network_difference(const network_info& current,
                                              const target_network& target);

inline bool network_matches(const network_info& current,
                            const target_network& target) {
  return !network_difference(current, target);
}

// Whether the engine network belongs to the app: supervised (io.balena or
// io.resin label) and named "<appUuid>_*", or the older "<appId>_*" form
// with a matching io.balena.app-id label.
bool is_app_network(const network_info& n, std::string_view app_uuid,
                    int64_t app_id);

} // namespace bosun::volume_logic
