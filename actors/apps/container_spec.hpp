#pragma once

// From a target service to the engine's container, and back.
//
// - make_container_spec: the POST /containers/create body for one service
//   (name, Config, HostConfig, NetworkingConfig), per balena's rules
//   (reference/service.md): image defaults, io.balena.* labels, injected env,
//   feature labels, ports, volumes, networks, healthcheck, ...
// - compare: is a running container still what the target asks for? Equal,
//   equal but for its name (a new release of the same config: rename only),
//   or different (recreate), with the differing fields named.
// - service_from_labels / parse_container_name: who a container is, to rebuild
//   the current state from the engine.
//
// Pure functions over the typed structs of messages/: no I/O, no clock, no
// JSON, no actors. What the agent knows about the device comes in through
// `spec_context` (host paths through an injected predicate).
//
// The invariant that matters most: a container created from a spec compares
// equal to that spec, so an unchanged target never recreates a container.
// The spec therefore sends every compared field explicitly, and `compare`
// folds the engine's own defaults and merges (image env and labels, zeroed
// fields, hostname, healthcheck, stop timeout) before comparing.
//
// bosun difference: containers are always created with the engine restart
// policy "no", because bosun's service supervisor restarts them itself. The
// compose `restart` value travels in the label `io.bosun.restart-policy`, so
// a changed policy still compares as a change.
#include "messages/engine_types.hpp"
#include "messages/target.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bosun::apps {

// ------------------------------------------------------------ constants --

// The label carrying the service's compose restart policy.
inline constexpr std::string_view restart_policy_label
  = "io.bosun.restart-policy";

// The network that services labelled supervisor-api join.
inline constexpr std::string_view supervisor_network = "supervisor0";

// Where the update-lock dir of each service is mounted in its container.
inline constexpr std::string_view container_lock_dir = "/tmp/balena";
inline constexpr std::string_view container_legacy_lock_dir = "/tmp/resin";

// ---------------------------------------------------------------- names --

// "<serviceName>_<imageId>_<releaseId>_<commit>".
std::string container_name(std::string_view service, int64_t image_id,
                           int64_t release_id, std::string_view commit);

// The name a container gets while it hands over to its successor.
std::string old_container_name(std::string_view name);

struct parsed_container_name {
  std::string service_name; // what precedes _<imageId>_<releaseId>
  int64_t image_id = 0;
  int64_t release_id = 0;
  std::string commit; // "" when the name has none (older supervisors)
  bool old = false;   // "old_<name>": the previous container of a hand-over
};

// Parses a container name (a leading '/' as the engine reports it is fine)
// with balena's `.*_(\d+)_(\d+)(?:_(.*?))?$`; nullopt when it does not match.
// A name starting with "old_" is reported with old = true and the prefix
// removed from service_name. Like balena, a commit made only of digits reads
// as part of the ids (the regex is greedy).
std::optional<parsed_container_name>
parse_container_name(std::string_view name);

// ------------------------------------------------------------- context --

// What the agent knows about the device and the engine when it builds a
// service's container.
struct spec_context {
  std::string device_uuid;
  std::string device_name;       // → *_DEVICE_NAME_AT_INIT (create only)
  std::string device_type;       // device-type slug
  std::string device_arch;       // "amd64", "aarch64", ...
  std::string host_os_version;   // os-release PRETTY_NAME
  std::string host_os_board_rev; // os-release BALENA_BOARD_REV
  // The host's hostname: a host-network container without its own hostname
  // gets it (that is also what the engine reports for it).
  std::string hostname;
  std::string api_endpoint;
  std::string device_api_key;
  uint16_t listen_port = 48484;
  // The API key a service labelled io.balena.features.supervisor-api gets:
  // its own app-scoped key from `scoped_api_keys` ((appId, service name) →
  // key), else `supervisor_api_key` (empty in the agent: never the global
  // key).
  std::string supervisor_api_key;
  std::map<std::pair<int64_t, std::string>, std::string> scoped_api_keys;
  // Address of the device API on the supervisor0 network.
  std::string supervisor_api_host = "10.114.104.1";
  // The engine's socket on the host (balena-socket feature).
  std::string engine_socket = "/var/run/docker.sock";
  // Host directory under which each service's lock dir lives:
  // <lock_dir_base>/services/<appId>/<service>. Root-free runs point this
  // into the agent's data dir.
  std::string lock_dir_base = "/tmp/balena-supervisor";
  // Whether a host path exists (kernel-modules and firmware features mount
  // /lib/modules and /lib/firmware only then). Unset: nothing exists.
  std::function<bool(const std::string&)> host_path_exists;
  // Container id of each service of the app, by service name, for
  // network_mode "service:<name>".
  std::map<std::string, std::string> service_container_ids;
};

// The host directory holding a service's update locks (and handover files).
std::string lock_dir(const spec_context& ctx, int64_t app_id,
                     std::string_view service);

// ------------------------------------------------------------------ spec --

struct container_spec {
  // POST /containers/create?name=<create.name>. NetworkingConfig holds the
  // main network only (API 1.41 takes one network at create).
  container_create create;
  // The network named in NetworkMode and EndpointsConfig; "" in host,
  // bridge, none and container network modes.
  std::string main_network;
  // Other networks to join (POST /networks/{name}/connect) before start.
  std::map<std::string, endpoint_settings> extra_networks;
  // The service's compose restart policy (the engine's is always "no").
  restart_mode restart = restart_mode::always;
  // network_mode "service:<name>": the service this one depends on.
  std::string network_service;
  // Accepted with changes, e.g. "Ignoring invalid bind mount /etc:/etc".
  std::vector<std::string> warnings;
  // Why the container cannot be created yet (e.g. the container of a
  // "service:" network mode does not exist); empty = ready.
  std::vector<std::string> errors;

  bool ok() const {
    return errors.empty();
  }
};

// The create body for `service` of `app`. `image` is the engine's inspect of
// the service image when it is present (its defaults fill in, and Image is
// its id); null otherwise (Image is then the normalised name).
container_spec make_container_spec(const target_app& app,
                                   const target_service& service,
                                   const spec_context& ctx,
                                   const image_inspect* image);

// ------------------------------------------------------------ comparison --

enum class spec_match : uint8_t {
  equal,         // nothing to do
  metadata_only, // same config, other name (new release): rename
  differs,       // recreate
};

const char* to_string(spec_match m);

struct spec_comparison {
  spec_match result = spec_match::equal;
  // Human-readable, one per differing field, without secret values, e.g.
  // "Env: BALENA_APP_NAME differs", "HostConfig.Binds: 1_data:/data missing",
  // "Name: web_1_2_abc vs web_1_3_def".
  std::vector<std::string> differences;

  bool equal() const {
    return result == spec_match::equal;
  }
};

// Compares a container's inspect with the spec of its target service, per
// balena's match rules (service.md "Match rules").
spec_comparison compare(const container_inspect& current,
                        const container_spec& target);

// ------------------------------------------------------------ identity --

// Who a supervised container is, read from its labels and name.
struct service_identity {
  int64_t app_id = 0;
  int64_t service_id = 0;
  std::string service_name;
  std::string app_uuid;
  int64_t image_id = 0; // from the name
  int64_t release_id = 0;
  std::string commit;
  bool old = false; // renamed "old_<name>" during a hand-over
};

// Whether the agent manages a container with these labels
// (io.balena.supervised or io.resin.supervised).
bool is_supervised(const string_map& labels);

// nullopt when the labels are not supervised ones. Missing or malformed
// ids read as 0; the service name falls back to the one in the name.
std::optional<service_identity> service_from_labels(const string_map& labels,
                                                    std::string_view name);
std::optional<service_identity>
service_from_container(const container_inspect& c);
std::optional<service_identity>
service_from_container(const container_summary& c);

// The compose restart policy of a container: the io.bosun.restart-policy
// label, else (containers made by balena) the engine policy, else always.
restart_mode restart_of(const container_inspect& c);
restart_mode restart_of(const string_map& labels);

// ------------------------------------------------------------- helpers --

// io.resin.* renamed io.balena.* ("resin" → "balena" in the key); an
// io.balena.* key wins over its legacy twin.
string_map normalize_labels(const string_map& labels);

// balena's truthy label values: "1", "true", "on" (any case).
bool is_truthy(std::string_view value);

// ":latest" added when the name has no tag; the tag dropped when a digest
// is present.
std::string normalize_image_name(std::string_view name);

} // namespace bosun::apps
