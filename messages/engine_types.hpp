#pragma once

// Typed mirror of the Docker Engine API v1.41 objects bosun reads and writes.
//
// Pure data: no JSON (api/docker/codec.hpp turns these into request bodies and
// back), no behaviour. Field names follow Docker's, in snake_case; comments
// give the JSON name where it is not obvious.
//
// Absent vs empty: a std::optional field is one Docker treats differently when
// it is missing (it inherits an image default, or keeps its current value);
// the encoder leaves a disengaged optional out of the JSON. Plain fields are
// ones where the zero value and "absent" mean the same to Docker, so they are
// always sent. Decoders fill a missing plain field with its zero value.
//
// Timestamps stay strings exactly as Docker gives them (RFC 3339 with
// nanoseconds, e.g. "2024-01-02T03:04:05.123456789Z"); durations are int64
// nanoseconds, as in the API.
#include "messages/message.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace bosun {

using string_map = std::map<std::string, std::string>;
using string_list = std::vector<std::string>;

// ---------------------------------------------------------------- system --

// GET /_ping: body "OK"; the interesting bits are headers.
struct engine_ping {
  std::string api_version; // header Api-Version
  std::string os_type;     // header Ostype
};

// GET /version
struct engine_version {
  std::string version;         // "20.10.24+dfsg1"
  std::string api_version;     // "1.41"
  std::string min_api_version; // "1.12"
  std::string os;              // "linux"
  std::string arch;            // "amd64"
  std::string kernel_version;
  std::string git_commit;
  std::string go_version;
  std::string build_time;
};

// GET /info (subset)
struct engine_info {
  std::string id;
  std::string name; // host name
  int64_t containers = 0;
  int64_t containers_running = 0;
  int64_t containers_paused = 0;
  int64_t containers_stopped = 0;
  int64_t images = 0;
  std::string driver; // storage driver
  std::string docker_root_dir;
  std::string logging_driver;
  std::string cgroup_driver;
  std::string cgroup_version;
  std::string kernel_version;
  std::string operating_system;
  std::string os_type;
  std::string architecture;
  std::string server_version;
  int64_t ncpu = 0;      // NCPU
  int64_t mem_total = 0; // MemTotal, bytes
  string_list labels;    // daemon labels, "k=v"
  string_list warnings;
};

// --------------------------------------------- container config pieces --

// Config.Healthcheck (also in image config). Durations in ns; 0 or absent
// means "inherit". Test: [] inherit, ["NONE"] disabled, ["CMD", ...] or
// ["CMD-SHELL", "cmd"].
struct health_config {
  string_list test;
  std::optional<int64_t> interval;     // ns
  std::optional<int64_t> timeout;      // ns
  std::optional<int64_t> start_period; // ns
  std::optional<int64_t> retries;
};

// The container's Config (POST /containers/create body top level, inspect
// .Config, image inspect .Config). Docker merges the image's config into
// empty fields at create time.
struct container_config {
  std::string hostname;
  std::string domainname;
  std::string user;
  bool attach_stdin = false;
  bool attach_stdout = false;
  bool attach_stderr = false;
  string_list exposed_ports; // ExposedPorts keys: "80/tcp"
  bool tty = false;
  bool open_stdin = false;
  bool stdin_once = false;
  string_list env; // "K=V"
  // null = the image's; [] = explicitly empty (Entrypoint [] resets it).
  std::optional<string_list> cmd;
  std::optional<string_list> entrypoint;
  std::optional<health_config> healthcheck;
  std::string image;
  string_list volumes; // Volumes keys: "/data"
  std::string working_dir;
  string_map labels;
  std::string mac_address;
  bool network_disabled = false;
  std::string stop_signal;
  std::optional<int64_t> stop_timeout; // seconds
};

// HostConfig.PortBindings["80/tcp"][i]
struct port_binding {
  std::string host_ip;
  std::string host_port;
};

struct restart_policy_config {
  std::string name; // "", "no", "always", "on-failure", "unless-stopped"
  int64_t maximum_retry_count = 0;
};

struct device_mapping {
  std::string path_on_host;
  std::string path_in_container;
  std::string cgroup_permissions; // "rwm"
};

struct device_request {
  std::string driver;
  int64_t count = 0; // -1 = all
  string_list device_ids;
  std::vector<string_list> capabilities; // [["gpu"]]
  string_map options;
};

struct ulimit {
  std::string name;
  int64_t soft = 0;
  int64_t hard = 0;
};

struct logging_config {
  std::string type; // "json-file", "journald", ...
  string_map config;
};

// HostConfig.Mounts[i] (mount.Mount)
struct mount_config {
  std::string type; // "bind" | "volume" | "tmpfs" | "npipe"
  std::string source;
  std::string target;
  bool read_only = false;
  std::string consistency;
  struct bind_options_t {
    std::string propagation; // "rprivate", ...
    bool non_recursive = false;
  };
  struct volume_options_t {
    bool no_copy = false;
    string_map labels;
    std::optional<std::string> driver_name; // DriverConfig.Name
    string_map driver_options;              // DriverConfig.Options
  };
  struct tmpfs_options_t {
    int64_t size_bytes = 0;
    int64_t mode = 0; // file mode bits, e.g. 01777
  };
  std::optional<bind_options_t> bind_options;
  std::optional<volume_options_t> volume_options;
  std::optional<tmpfs_options_t> tmpfs_options;
};

// The container's HostConfig (create body .HostConfig, inspect .HostConfig).
// Resource numbers: 0 = unlimited / engine default.
struct host_config {
  string_list binds; // "src:dst[:mode]"
  std::vector<mount_config> mounts;
  string_map tmpfs; // path -> options
  std::map<std::string, std::vector<port_binding>> port_bindings;
  bool publish_all_ports = false;
  std::string network_mode;
  restart_policy_config restart_policy;
  bool auto_remove = false;
  bool privileged = false;
  string_list cap_add;
  string_list cap_drop;
  std::vector<device_mapping> devices;
  std::vector<device_request> device_requests;
  string_list device_cgroup_rules;
  string_list dns;
  string_list dns_search;
  string_list dns_options;
  string_list extra_hosts; // "host:ip"
  string_list group_add;
  std::string ipc_mode; // "", "private", "shareable", "host", "container:id"
  std::string pid_mode;
  std::string userns_mode;
  std::string uts_mode;
  std::string cgroupns_mode;
  std::string cgroup_parent;
  std::string runtime;
  std::optional<int64_t> shm_size; // bytes; absent = engine default (64 MiB)
  string_map sysctls;
  std::vector<ulimit> ulimits;
  string_list security_opt;
  std::optional<logging_config> log_config; // absent = engine default driver
  int64_t memory = 0;
  int64_t memory_reservation = 0;
  int64_t memory_swap = 0; // -1 = unlimited swap
  std::optional<int64_t> memory_swappiness;
  int64_t nano_cpus = 0;
  int64_t cpu_shares = 0;
  int64_t cpu_quota = 0;
  int64_t cpu_period = 0;
  int64_t cpu_realtime_runtime = 0;
  int64_t cpu_realtime_period = 0;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  int64_t blkio_weight = 0;
  bool oom_kill_disable = false;
  int64_t oom_score_adj = 0;
  std::optional<int64_t> pids_limit; // absent/0/-1 = unlimited
  bool readonly_rootfs = false;
  std::optional<bool> init;
  string_map storage_opt;
  string_list volumes_from;
  string_list links;
};

struct endpoint_ipam_config {
  std::string ipv4_address;
  std::string ipv6_address;
  string_list link_local_ips;
};

// NetworkingConfig.EndpointsConfig[net] (create, connect) and
// NetworkSettings.Networks[net] (inspect): Docker uses one type for both.
// The encoder sends only the configuration part (aliases, links, ipam_config,
// driver_opts); the rest is state the engine reports.
struct endpoint_settings {
  // configuration
  std::optional<endpoint_ipam_config> ipam_config; // IPAMConfig
  string_list links;
  string_list aliases;
  string_map driver_opts;
  // state
  std::string network_id;
  std::string endpoint_id;
  std::string gateway;
  std::string ip_address;
  int64_t ip_prefix_len = 0;
  std::string ipv6_gateway;
  std::string global_ipv6_address;
  int64_t global_ipv6_prefix_len = 0;
  std::string mac_address;
};

struct networking_config {
  std::map<std::string, endpoint_settings> endpoints_config;
};

// POST /containers/create?name=<name>: the body is `config` at the top level
// plus HostConfig and NetworkingConfig.
struct container_create {
  std::string name; // query parameter; empty = engine-generated
  container_config config;
  host_config host;
  networking_config networking;
};

// {"Id": ..., "Warnings": [...]}
struct container_create_result {
  std::string id;
  string_list warnings;
};

// ----------------------------------------------------- container state --

struct health_log_entry {
  std::string start;
  std::string end;
  int64_t exit_code = 0;
  std::string output;
};

struct health_state {
  std::string status; // "starting" | "healthy" | "unhealthy" | "none"
  int64_t failing_streak = 0;
  std::vector<health_log_entry> log;
};

struct container_state {
  std::string status; // created|running|paused|restarting|removing|exited|dead
  bool running = false;
  bool paused = false;
  bool restarting = false;
  bool oom_killed = false;
  bool dead = false;
  int64_t pid = 0;
  int64_t exit_code = 0;
  std::string error;
  std::string started_at;  // "0001-01-01T00:00:00Z" when never started
  std::string finished_at; // same when never finished
  std::optional<health_state> health;
};

// inspect .Mounts[i]
struct mount_point {
  std::string type;
  std::string name; // volume name
  std::string source;
  std::string destination;
  std::string driver;
  std::string mode;
  bool rw = false;
  std::string propagation;
};

struct network_settings {
  std::map<std::string, endpoint_settings> networks;
  std::map<std::string, std::vector<port_binding>> ports; // may be empty
  std::string sandbox_id;
};

// GET /containers/{id}/json
struct container_inspect {
  std::string id;
  std::string name; // with Docker's leading '/'
  std::string created;
  std::string path;
  string_list args;
  container_state state;
  std::string image; // image ID "sha256:..."
  int64_t restart_count = 0;
  std::string driver;
  std::string platform;
  container_config config;
  host_config host;
  network_settings network;
  std::vector<mount_point> mounts;
};

// GET /containers/json
struct container_summary {
  std::string id;
  string_list names; // "/name"
  std::string image;
  std::string image_id;
  std::string command;
  int64_t created = 0; // unix seconds
  std::string state;   // "running", "exited", ...
  std::string status;  // "Up 2 minutes", "Exited (0) 3 seconds ago"
  string_map labels;
  std::vector<mount_point> mounts;
  std::map<std::string, endpoint_settings> networks;
};
using container_list = std::vector<container_summary>;

// POST /containers/{id}/update: every field optional; absent = unchanged.
struct container_update {
  std::optional<int64_t> memory;
  std::optional<int64_t> memory_reservation;
  std::optional<int64_t> memory_swap;
  std::optional<int64_t> nano_cpus;
  std::optional<int64_t> cpu_shares;
  std::optional<int64_t> cpu_quota;
  std::optional<int64_t> cpu_period;
  std::optional<int64_t> cpu_realtime_runtime;
  std::optional<int64_t> cpu_realtime_period;
  std::optional<std::string> cpuset_cpus;
  std::optional<std::string> cpuset_mems;
  std::optional<int64_t> blkio_weight;
  std::optional<int64_t> pids_limit;
  std::optional<bool> oom_kill_disable;
  std::optional<restart_policy_config> restart_policy;
};

struct container_update_result {
  string_list warnings;
};

// POST /containers/{id}/wait
struct container_wait_result {
  int64_t status_code = 0;
  std::string error; // Error.Message; empty when none
};

// GET /containers/{id}/logs query
struct container_logs_options {
  bool follow = false;
  bool include_stdout = true; // stdout=1 (stdout/stderr are macros)
  bool include_stderr = true;
  bool timestamps = false;
  int64_t since = 0;           // unix seconds; 0 = from the start
  int64_t until = 0;           // unix seconds; 0 = no limit
  std::optional<int64_t> tail; // last n lines; absent = "all"
};

// ---------------------------------------------------------------- images --

// GET /images/json
struct image_summary {
  std::string id;
  std::string parent_id;
  string_list repo_tags;
  string_list repo_digests;
  int64_t created = 0; // unix seconds
  int64_t size = 0;
  int64_t virtual_size = 0;
  int64_t shared_size = 0;
  string_map labels;
  int64_t containers = 0; // -1 when not computed
};
using image_list = std::vector<image_summary>;

// GET /images/{name}/json
struct image_inspect {
  std::string id;
  string_list repo_tags;
  string_list repo_digests;
  std::string parent;
  std::string comment;
  std::string created; // RFC 3339
  std::string docker_version;
  std::string author;
  std::string architecture;
  std::string variant;
  std::string os;
  int64_t size = 0;
  int64_t virtual_size = 0;
  // The image defaults a container inherits (Cmd, Entrypoint, Env, Labels,
  // WorkingDir, User, ExposedPorts, Healthcheck, StopSignal, Volumes).
  container_config config;
};

// Credentials for X-Registry-Auth.
struct registry_auth {
  std::string username;
  std::string password;
  std::string server_address; // "serveraddress"
  std::string identity_token; // "identitytoken"; sent only when not empty
};

// POST /images/create?fromImage=..&tag=..
struct image_pull {
  std::string from_image; // "registry:5000/repo" or "repo:tag" or "repo@sha"
  std::string tag;        // empty: taken from from_image (or "latest")
  std::optional<registry_auth> auth;
};

// One NDJSON line of a pull stream. A pull can fail inside a 200 stream:
// then `error` is set (errorDetail.message, else error).
struct pull_progress {
  std::string status;   // "Pulling fs layer", "Downloading", ...
  std::string id;       // layer id or tag
  std::string progress; // human-readable bar
  std::optional<int64_t> current;
  std::optional<int64_t> total;
  std::optional<std::string> error;
};

// POST /images/{name}/tag?repo=..&tag=..
struct image_tag {
  std::string repo;
  std::string tag;
};

// DELETE /images/{name}: [{"Untagged": ...}, {"Deleted": ...}]
struct image_delete_item {
  std::string untagged;
  std::string deleted;
};
using image_delete_result = std::vector<image_delete_item>;

// --------------------------------------------------------------- volumes --

struct volume_info {
  std::string name;
  std::string driver;
  std::string mountpoint;
  std::string created_at;
  string_map labels;
  string_map options;
  std::string scope; // "local" | "global"
};
using volume_infos = std::vector<volume_info>;

// POST /volumes/create
struct volume_create {
  std::string name;
  std::string driver; // empty = "local"
  string_map driver_opts;
  string_map labels;
};

// GET /volumes
struct volume_list {
  volume_infos volumes;
  string_list warnings;
};

// -------------------------------------------------------------- networks --

struct network_ipam_pool {
  std::string subnet;
  std::string gateway;
  std::string ip_range;
  string_map aux_addresses; // AuxiliaryAddresses (create: AuxAddress)
};

struct network_ipam {
  std::string driver; // empty = "default"
  std::vector<network_ipam_pool> config;
  string_map options;
};

// GET /networks/{id} .Containers[id]
struct network_container {
  std::string name;
  std::string endpoint_id;
  std::string mac_address;
  std::string ipv4_address;
  std::string ipv6_address;
};

// GET /networks/{id}, GET /networks
struct network_info {
  std::string id;
  std::string name;
  std::string created;
  std::string scope;
  std::string driver;
  bool enable_ipv6 = false;
  bool internal = false;
  bool attachable = false;
  bool ingress = false;
  bool config_only = false;
  network_ipam ipam;
  string_map options;
  string_map labels;
  std::map<std::string, network_container> containers; // by container id
};
using network_infos = std::vector<network_info>;

// POST /networks/create
struct network_create {
  std::string name;
  std::string driver; // empty = "bridge"
  bool internal = false;
  bool attachable = false;
  bool enable_ipv6 = false;
  bool check_duplicate = true;
  bool config_only = false;
  std::optional<network_ipam> ipam;
  string_map options;
  string_map labels;
};

// {"Id": ..., "Warning": ...}
struct network_create_result {
  std::string id;
  std::string warning;
};

// POST /networks/{id}/connect
struct network_connect {
  std::string container;
  endpoint_settings endpoint_config;
};

// POST /networks/{id}/disconnect
struct network_disconnect {
  std::string container;
  bool force = false;
};

// ---------------------------------------------------------------- events --

// What an engine event is about, and what happened to it: the actors decide
// on these, never on Docker's strings (which stay for logs and telemetry).
enum class engine_object : uint8_t { other, container, image, volume, network };
enum class engine_verb : uint8_t {
  other,
  create,
  start,
  restart,
  stop,
  kill,
  die,
  destroy, // container destroy, image delete, network/volume destroy
  rename,
  update,
  health_status, // the status itself is in engine_event::health
  connect,       // network connect/disconnect: attribute "container"
  disconnect,
  pull,
  tag,
  untag,
};

// One line of GET /events. Docker flattens container labels, name, image and
// exitCode into actor attributes.
struct engine_event {
  std::string type;   // container|image|volume|network|daemon|plugin|...
  std::string action; // "start", "die", "health_status: unhealthy", ...
  engine_object kind = engine_object::other; // from type (classify_event)
  engine_verb verb = engine_verb::other;     // from action
  std::string health; // "healthy", "unhealthy", ... for health_status
  std::string actor_id;
  string_map attributes;
  std::string scope;     // "local" | "swarm"
  int64_t time = 0;      // unix seconds
  int64_t time_nano = 0; // unix nanoseconds
};

// Sets kind, verb and health from Docker's type and action strings.
inline void classify_event(engine_event& e) {
  static const std::pair<const char*, engine_object> objects[]
    = {{"container", engine_object::container},
       {"image", engine_object::image},
       {"volume", engine_object::volume},
       {"network", engine_object::network}};
  static const std::pair<const char*, engine_verb> verbs[]
    = {{"create", engine_verb::create},
       {"start", engine_verb::start},
       {"restart", engine_verb::restart},
       {"stop", engine_verb::stop},
       {"kill", engine_verb::kill},
       {"die", engine_verb::die},
       {"destroy", engine_verb::destroy},
       {"delete", engine_verb::destroy},
       {"remove", engine_verb::destroy},
       {"rename", engine_verb::rename},
       {"update", engine_verb::update},
       {"connect", engine_verb::connect},
       {"disconnect", engine_verb::disconnect},
       {"pull", engine_verb::pull},
       {"tag", engine_verb::tag},
       {"untag", engine_verb::untag}};
  e.kind = engine_object::other;
  for (auto& [name, kind] : objects)
    if (e.type == name)
      e.kind = kind;
  e.verb = engine_verb::other;
  e.health.clear();
  const std::string health_prefix = "health_status: ";
  if (e.action.rfind(health_prefix, 0) == 0) {
    e.verb = engine_verb::health_status;
    e.health = e.action.substr(health_prefix.size());
    return;
  }
  for (auto& [name, verb] : verbs)
    if (e.action == name)
      e.verb = verb;
}

// GET /events query. Filters: {"type":["container"], "label":["k=v"], ...}.
struct events_query {
  std::optional<int64_t> since; // unix seconds
  std::optional<int64_t> until;
  std::map<std::string, string_list> filters;
};

// ------------------------------------------------------------- equality --
// Member-wise equality for the small value types that sit inside lists,
// maps and optionals of a container's config, so that a comparison of
// container and spec can compare those collections directly.

#define BOSUN_ENGINE_EQ(type, ...)                                             \
  inline bool operator==(const type& a, const type& b) {                       \
    auto t = [](const type& x) { return std::tie(__VA_ARGS__); };              \
    return t(a) == t(b);                                                       \
  }                                                                            \
  inline bool operator!=(const type& a, const type& b) {                       \
    return !(a == b);                                                          \
  }

BOSUN_ENGINE_EQ(health_config, x.test, x.interval, x.timeout, x.start_period,
                x.retries)
BOSUN_ENGINE_EQ(port_binding, x.host_ip, x.host_port)
BOSUN_ENGINE_EQ(restart_policy_config, x.name, x.maximum_retry_count)
BOSUN_ENGINE_EQ(device_mapping, x.path_on_host, x.path_in_container,
                x.cgroup_permissions)
BOSUN_ENGINE_EQ(device_request, x.driver, x.count, x.device_ids, x.capabilities,
                x.options)
BOSUN_ENGINE_EQ(ulimit, x.name, x.soft, x.hard)
BOSUN_ENGINE_EQ(logging_config, x.type, x.config)
BOSUN_ENGINE_EQ(mount_config::bind_options_t, x.propagation, x.non_recursive)
BOSUN_ENGINE_EQ(mount_config::volume_options_t, x.no_copy, x.labels,
                x.driver_name, x.driver_options)
BOSUN_ENGINE_EQ(mount_config::tmpfs_options_t, x.size_bytes, x.mode)
BOSUN_ENGINE_EQ(mount_config, x.type, x.source, x.target, x.read_only,
                x.consistency, x.bind_options, x.volume_options,
                x.tmpfs_options)
BOSUN_ENGINE_EQ(endpoint_ipam_config, x.ipv4_address, x.ipv6_address,
                x.link_local_ips)
BOSUN_ENGINE_EQ(network_ipam_pool, x.subnet, x.gateway, x.ip_range,
                x.aux_addresses)
BOSUN_ENGINE_EQ(network_ipam, x.driver, x.config, x.options)

#undef BOSUN_ENGINE_EQ

} // namespace bosun

BOSUN_MESSAGE(bosun::engine_ping)
BOSUN_MESSAGE(bosun::engine_version)
BOSUN_MESSAGE(bosun::engine_info)
BOSUN_MESSAGE(bosun::container_config)
BOSUN_MESSAGE(bosun::host_config)
BOSUN_MESSAGE(bosun::networking_config)
BOSUN_MESSAGE(bosun::endpoint_settings)
BOSUN_MESSAGE(bosun::container_create)
BOSUN_MESSAGE(bosun::container_create_result)
BOSUN_MESSAGE(bosun::container_inspect)
BOSUN_MESSAGE(bosun::container_summary)
BOSUN_MESSAGE(bosun::container_list)
BOSUN_MESSAGE(bosun::container_update)
BOSUN_MESSAGE(bosun::container_update_result)
BOSUN_MESSAGE(bosun::container_wait_result)
BOSUN_MESSAGE(bosun::container_logs_options)
BOSUN_MESSAGE(bosun::image_summary)
BOSUN_MESSAGE(bosun::image_list)
BOSUN_MESSAGE(bosun::image_inspect)
BOSUN_MESSAGE(bosun::registry_auth)
BOSUN_MESSAGE(bosun::image_pull)
BOSUN_MESSAGE(bosun::pull_progress)
BOSUN_MESSAGE(bosun::image_tag)
BOSUN_MESSAGE(bosun::image_delete_result)
BOSUN_MESSAGE(bosun::volume_info)
BOSUN_MESSAGE(bosun::volume_create)
BOSUN_MESSAGE(bosun::volume_list)
BOSUN_MESSAGE(bosun::network_info)
BOSUN_MESSAGE(bosun::network_infos)
BOSUN_MESSAGE(bosun::network_create)
BOSUN_MESSAGE(bosun::network_create_result)
BOSUN_MESSAGE(bosun::network_connect)
BOSUN_MESSAGE(bosun::network_disconnect)
BOSUN_MESSAGE(bosun::engine_event)
BOSUN_MESSAGE(bosun::events_query)
