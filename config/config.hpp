#pragma once

// bosun's configuration: one validated struct, built from (lowest precedence
// first) built-in defaults < balena's config.json < BOSUN_* environment
// variables < command-line flags. Nothing here touches the file system or the
// environment except through the arguments of load_config, so every rule is
// unit-tested.
//
// Typical use in main():
//
//   auto loaded = bosun::load_config({argv + 1, argv + argc},
//                                    bosun::process_environment());
//   if (auto* e = std::get_if<bosun::config_error>(&loaded)) {
//     std::cerr << "bosun: " << e->what() << '\n';
//     return 2;
//   }
//   if (auto* h = std::get_if<bosun::show_help>(&loaded)) {
//     std::cout << h->text;
//     return 0;
//   }
//   if (auto* v = std::get_if<bosun::show_version>(&loaded)) {
//     std::cout << v->text << '\n';
//     return 0;
//   }
//   const bosun::config& cfg = std::get<bosun::config>(loaded);
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bosun {

enum class log_level { debug, info, warn, error };

// "debug", "info", "warn", "error".
const char* to_string(log_level);

// Inverse of to_string; std::nullopt for anything else.
std::optional<log_level> parse_log_level(std::string_view);

inline constexpr const char* default_config_path = "/mnt/boot/config.json";

// The persistent log's cap: default, and the accepted range (the smallest
// holds a longest line, 10,000 characters, in each of its two files).
inline constexpr uint64_t default_persistent_log_size = 8 * 1024 * 1024;
inline constexpr uint64_t min_persistent_log_size = 64 * 1024;
inline constexpr uint64_t max_persistent_log_size = uint64_t{1} << 30;

struct config {
  // -- bosun's own settings (flags / BOSUN_* / defaults) ----------------------

  // config.json that was (or would have been) read. Kept so that cloud sync
  // can rewrite it after provisioning.
  std::string config_path = default_config_path;
  // False when config_path did not exist (allowed only for the default path):
  // the device is then unmanaged.
  bool config_file_found = false;
  // Directory for bosun's state; the database is db_file().
  std::string data_dir = "/var/lib/bosun";
  // Container engine, normalised to "unix:///abs/path" or "http://host:port"
  // (both accepted by bosun::http::parse_endpoint).
  std::string engine = "unix:///var/run/docker.sock";
  // Device API listen address and port.
  std::string listen_address = "0.0.0.0";
  uint16_t listen_port = 48484;
  // Where the host's / is mounted when bosun runs as balenaOS's supervisor
  // container ($ROOT_MOUNTPOINT, /mnt/root there); empty when bosun sees the
  // host's file system itself. The engine binds host paths, so update lock
  // dirs are then the host's /tmp/balena-supervisor, reached through it.
  std::string host_root;
  // The host interface (reference/host.md §0), from balenaOS's variables
  // for its Supervisor, with defaults for a Debian host. The system D-Bus
  // ($DBUS_SYSTEM_BUS_ADDRESS).
  std::string dbus_address = "unix:path=/run/dbus/system_bus_socket";
  // Boot and state partitions ($BOOT_MOUNTPOINT, $STATE_MOUNTPOINT): proxy
  // files under <boot>/system-proxy and the device-config files (config.txt,
  // extlinux, extra_uEnv.txt, configfs.json, splash/) on boot, rollback
  // breadcrumbs in <state>.
  std::string boot_mount = "/mnt/boot";
  std::string state_mount = "/mnt/state";
  // The LED POST /v1/blink drives ($LED_FILE); /dev/null when it is absent.
  std::string led_file = "/sys/class/leds/led0/brightness";
  // The journalctl POST /v2/journal-logs runs ($BOSUN_JOURNALCTL).
  std::string journalctl = "journalctl";
  // The OpenVPN status directory ($VPN_STATUS_PATH; default
  // <host_root>/run/openvpn/vpn_status).
  std::string vpn_status_path = "/run/openvpn/vpn_status";
  // Effective local mode: true when requested, and always when unmanaged.
  bool local_mode = false;
  log_level level = log_level::info;

  // -- balena config.json (see reference/state.md "Provisioning") ------------

  std::string api_endpoint;              // apiEndpoint; empty = unmanaged
  std::string uuid;                      // uuid; empty = not yet generated
  std::string device_api_key;            // deviceApiKey
  std::string provisioning_api_key;      // apiKey (deleted after provisioning)
  std::optional<int64_t> application_id; // applicationId
  std::optional<int64_t> device_id;      // deviceId
  std::optional<int64_t> registered_at;  // registered_at, ms since the epoch
  std::string device_type;               // deviceType
  std::string hostname;                  // hostname
  std::string initial_device_name;       // initialDeviceName
  std::string delta_endpoint = "https://delta.balena-cloud.com";
  std::string logs_endpoint; // logsEndpoint; empty = use api_endpoint
  // persistentLogging: every log line is also kept on disk, in
  // <data dir>/logs (GET /v2/logs/history reads it); also --persistent-logging
  // and BOSUN_PERSISTENT_LOGGING.
  bool persistent_logging = false;
  // The on-disk log's cap over its two files (bosun's persistentLogSize,
  // also --persistent-log-size and BOSUN_PERSISTENT_LOG_SIZE), in bytes.
  uint64_t persistent_log_size = default_persistent_log_size;
  bool development_mode = false; // developmentMode
  // Device API request timeout (apiTimeout).
  std::chrono::milliseconds api_timeout{15 * 60 * 1000};
  // Timeout of requests to the cloud (apiRequestTimeout).
  std::chrono::milliseconds api_request_timeout{59000};
  // Target-state poll interval (appUpdatePollInterval).
  std::chrono::milliseconds app_update_poll_interval{900000};
  // Provisioning retry delay (bootstrapRetryDelay).
  std::chrono::milliseconds bootstrap_retry_delay{30000};

  // -- derived ----------------------------------------------------------------

  // A cloud is configured (apiEndpoint non-empty).
  bool managed() const {
    return !api_endpoint.empty();
  }

  // Registered with the cloud: uuid, apiEndpoint, registered_at, deviceId.
  bool provisioned() const {
    return managed() && !uuid.empty() && registered_at && device_id;
  }

  // The SQLite database file inside data_dir.
  std::string db_file() const {
    return data_dir + "/bosun.sqlite";
  }
};

// Why the configuration was refused. Exactly one of these shapes:
// - config.json problem: file = its path, field = the JSON key (may be empty
//   for whole-file problems such as invalid JSON);
// - flag or environment problem: file empty, field = "--listen" or
//   "BOSUN_LISTEN";
// - anything else (an unexpected argument): file and field empty.
struct config_error {
  std::string file;
  std::string field;
  std::string why;

  // One line, e.g.
  //   /mnt/boot/config.json: field 'listenPort': expected an integer
  //     1-65535, got "abc"
  //   /mnt/boot/config.json: not valid JSON at offset 12: Invalid value.
  //   --listen: expected <address>[:<port>] with a port 1-65535, got "x:0"
  std::string what() const;
};

// --help / -h was given: print `text` and exit 0.
struct show_help {
  std::string text;
};

// --version / -V was given: print `text` and exit 0.
struct show_version {
  std::string text;
};

using load_result = std::variant<config, show_help, show_version, config_error>;

// What reading a file gave.
struct file_contents {
  enum class status { ok, not_found, failed };
  status result = status::ok;
  std::string data; // the bytes when ok; the OS's reason when failed
};

using file_reader = std::function<file_contents(const std::string& path)>;

// Reads files from the real file system.
file_reader filesystem_reader();

// The process environment as a map (reads `environ`).
std::map<std::string, std::string> process_environment();

// Builds the configuration.
// - args: the command line WITHOUT the program name (argv + 1 .. argc).
// - env: environment variables; empty values count as unset.
// - read: how config.json is read (tests pass a fake).
// --help wins over --version, which wins over any error in the flags.
load_result load_config(const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env,
                        const file_reader& read = filesystem_reader());

// A device config var bosun knows, by the name balena gives it (what GET
// /v2/local/target-state reports in state.local.config), with its value in
// `cfg`: reference/host.md §6.2's table. `set_by_target`: a target's config
// changes it (cloud_sync reads the poll interval, instant updates, hardware
// metrics, log control and API request timeout there, app_manager the lock
// override, device_config the firewall mode and discoverability; the delta
// and connectivity-check vars are kept and shown but change nothing yet);
// otherwise only bosun's own configuration does, and a target's value is
// ignored.
struct device_config_var {
  std::string name;
  std::string value;
  bool set_by_target = true;
};

// Every device config var bosun knows, with its default or configured
// value (balena's defaults where bosun has no setting of its own).
std::vector<device_config_var> device_config_vars(const config& cfg);

// The --help text (flags, environment variables, defaults).
std::string help_text();

// "bosun <version>".
std::string version_text();

} // namespace bosun
