#include "config/config.hpp"

#include "config/config_file.hpp"
#include "config/values.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <unistd.h>
#include <utility>

extern char** environ; // POSIX; declared here to avoid _GNU_SOURCE

#ifndef BOSUN_VERSION
#define BOSUN_VERSION "0.0.0"
#endif

namespace bosun {

namespace {

namespace cv = config_values;

// The settings that flags and BOSUN_* variables can set.
enum class setting {
  config,
  data_dir,
  engine,
  listen,
  local_mode,
  log_level,
  persistent_logging,
  persistent_log_size
};

struct option_spec {
  setting which;
  const char* flag;
  const char* env;
  bool boolean; // `--flag` alone means true; never takes the next argument
};

constexpr option_spec options[] = {
  {setting::config, "--config", "BOSUN_CONFIG", false},
  {setting::data_dir, "--data-dir", "BOSUN_DATA_DIR", false},
  {setting::engine, "--engine", "BOSUN_ENGINE", false},
  {setting::listen, "--listen", "BOSUN_LISTEN", false},
  {setting::local_mode, "--local-mode", "BOSUN_LOCAL_MODE", true},
  {setting::log_level, "--log-level", "BOSUN_LOG_LEVEL", false},
  {setting::persistent_logging, "--persistent-logging",
   "BOSUN_PERSISTENT_LOGGING", true},
  {setting::persistent_log_size, "--persistent-log-size",
   "BOSUN_PERSISTENT_LOG_SIZE", false},
};

const option_spec* find_flag(std::string_view name) {
  for (const auto& o : options)
    if (name == o.flag)
      return &o;
  return nullptr;
}

// A value for a setting and where it came from ("--listen", "BOSUN_LISTEN").
struct sourced {
  std::string value;
  std::string source;
};

using layer = std::map<setting, sourced>;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Validates `v` and stores it in `cfg`.
std::optional<config_error> apply(config& cfg, setting which,
                                  const sourced& v) {
  auto fail = [&](const std::string& what) {
    return config_error{"", v.source,
                        "expected " + what + ", got " + cv::quoted(v.value)};
  };
  auto boolean = [&](bool& out) -> std::optional<config_error> {
    auto b = cv::parse_bool(v.value);
    if (!b)
      return fail("true, false, 1 or 0");
    out = *b;
    return std::nullopt;
  };
  switch (which) {
    case setting::config:
      if (v.value.empty())
        return fail("a file path");
      cfg.config_path = v.value;
      break;
    case setting::data_dir:
      if (v.value.empty())
        return fail("a directory path");
      cfg.data_dir = v.value;
      break;
    case setting::engine: {
      auto url = cv::normalize_engine(v.value);
      if (!url)
        return fail("unix:///path, tcp://host:port, http://host:port or an "
                    "absolute socket path");
      cfg.engine = std::move(*url);
      break;
    }
    case setting::listen: {
      auto spec = cv::parse_listen(v.value);
      if (!spec)
        return fail("<address>[:<port>] with a port 1-65535");
      if (spec->address)
        cfg.listen_address = std::move(*spec->address);
      if (spec->port)
        cfg.listen_port = *spec->port;
      break;
    }
    case setting::local_mode:
      return boolean(cfg.local_mode);
    case setting::log_level: {
      auto level = parse_log_level(v.value);
      if (!level)
        return fail("debug, info, warn or error");
      cfg.level = *level;
      break;
    }
    case setting::persistent_logging:
      return boolean(cfg.persistent_logging);
    case setting::persistent_log_size: {
      auto n = cv::parse_non_negative(v.value);
      if (!n || static_cast<uint64_t>(*n) < min_persistent_log_size
          || static_cast<uint64_t>(*n) > max_persistent_log_size)
        return fail(cv::persistent_log_size_range());
      cfg.persistent_log_size = static_cast<uint64_t>(*n);
      break;
    }
  }
  return std::nullopt;
}

std::optional<config_error> apply_layer(config& cfg, const layer& values) {
  for (const auto& [which, v] : values)
    if (which != setting::config)
      if (auto err = apply(cfg, which, v))
        return err;
  return std::nullopt;
}

struct parsed_flags {
  layer values;
  bool help = false;
  bool version = false;
  std::optional<config_error> error; // the first one
};

parsed_flags parse_flags(const std::vector<std::string>& args) {
  parsed_flags out;
  auto fail = [&](std::string field, std::string why) {
    if (!out.error)
      out.error = config_error{"", std::move(field), std::move(why)};
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      continue;
    }
    if (arg == "-V" || arg == "--version") {
      out.version = true;
      continue;
    }
    if (!starts_with(arg, "--") || arg == "--") {
      fail("", "unexpected argument " + cv::quoted(arg));
      continue;
    }
    auto eq = arg.find('=');
    std::string name = arg.substr(0, eq);
    if (name == "--help" || name == "--version") {
      fail(name, "takes no value");
      continue;
    }
    const option_spec* spec = find_flag(name);
    if (!spec) {
      fail(name, "unknown flag (see --help)");
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (spec->boolean) {
      value = "true";
    } else if (i + 1 < args.size() && !starts_with(args[i + 1], "--")) {
      value = args[++i];
    } else {
      fail(name, "missing value");
      continue;
    }
    out.values[spec->which] = sourced{std::move(value), name};
  }
  return out;
}

layer env_layer(const std::map<std::string, std::string>& env) {
  layer out;
  for (const auto& o : options) {
    auto it = env.find(o.env);
    if (it != env.end() && !it->second.empty())
      out[o.which] = sourced{it->second, o.env};
  }
  return out;
}

} // namespace

const char* to_string(log_level level) {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
  }
  return "info";
}

std::optional<log_level> parse_log_level(std::string_view s) {
  for (auto level :
       {log_level::debug, log_level::info, log_level::warn, log_level::error})
    if (s == to_string(level))
      return level;
  return std::nullopt;
}

std::string config_error::what() const {
  std::string out;
  if (!file.empty()) {
    out = file + ": ";
    if (!field.empty())
      out += "field '" + field + "': ";
  } else if (!field.empty()) {
    out = field + ": ";
  }
  return out + why;
}

file_reader filesystem_reader() {
  return [](const std::string& path) {
    file_contents out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      out.result = errno == ENOENT ? file_contents::status::not_found
                                   : file_contents::status::failed;
      out.data = std::strerror(errno);
      return out;
    }
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n > 0) {
        out.data.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0) {
        break;
      } else if (errno != EINTR) {
        out.result = file_contents::status::failed;
        out.data = std::strerror(errno);
        break;
      }
    }
    ::close(fd);
    return out;
  };
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos)
      continue;
    out.emplace(std::string(entry.substr(0, eq)),
                std::string(entry.substr(eq + 1)));
  }
  return out;
}

std::string version_text() {
  return std::string("bosun ") + BOSUN_VERSION;
}

std::vector<device_config_var> device_config_vars(const config& cfg) {
  auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
  return {
    {"SUPERVISOR_POLL_INTERVAL",
     std::to_string(cfg.app_update_poll_interval.count()), true},
    {"SUPERVISOR_INSTANT_UPDATE_TRIGGER", "true", true},
    {"SUPERVISOR_HARDWARE_METRICS", "true", true},
    {"SUPERVISOR_LOG_CONTROL", "true", true},
    {"SUPERVISOR_OVERRIDE_LOCK", "false", true},
    {"SUPERVISOR_LOCAL_MODE", flag(cfg.local_mode), false},
    {"SUPERVISOR_PERSISTENT_LOGGING", flag(cfg.persistent_logging), false},
    {"SUPERVISOR_API_REQUEST_TIMEOUT",
     std::to_string(cfg.api_request_timeout.count()), true},
    {"SUPERVISOR_CONNECTIVITY_CHECK", "true", true},
    {"SUPERVISOR_DELTA", "false", true},
    {"SUPERVISOR_DELTA_REQUEST_TIMEOUT", "59000", true},
    {"SUPERVISOR_DELTA_APPLY_TIMEOUT", "0", true},
    {"SUPERVISOR_DELTA_RETRY_COUNT", "30", true},
    {"SUPERVISOR_DELTA_RETRY_INTERVAL", "10000", true},
    {"SUPERVISOR_DELTA_VERSION", "2", true},
    {"SUPERVISOR_VPN_CONTROL", "true", true},
    {"HOST_FIREWALL_MODE", "off", true},
    {"HOST_DISCOVERABILITY", "true", true},
  };
}

std::string help_text() {
  config d;
  std::string t;
  t += "Usage: bosun [options]\n";
  t += "       bosun api-key [options]\n";
  t += "\n";
  t += "An on-device agent that runs a device's containerized apps; a "
       "drop-in\n";
  t += "replacement for the balena Supervisor.\n";
  t += "\n";
  t += "bosun api-key prints the global device API key (kept in the\n";
  t += "data dir's database; never logged) and exits.\n";
  t += "\n";
  t += "Options (each also read from the environment variable shown; flags\n";
  t += "win over the environment, which wins over config.json):\n";
  t += "  --config <path>        balena config.json [BOSUN_CONFIG, then\n";
  t += "                         CONFIG_MOUNT_POINT]\n";
  t += "                         default: " + d.config_path + "\n";
  t += "                         (a missing default file means: unmanaged)\n";
  t += "  --data-dir <path>      state directory [BOSUN_DATA_DIR]\n";
  t += "                         default: " + d.data_dir + "\n";
  t += "  --engine <url>         container engine: unix:///path, /path,\n";
  t += "                         tcp://host:port or http://host:port\n";
  t += "                         [BOSUN_ENGINE, then DOCKER_HOST, then\n";
  t += "                         unix://$DOCKER_SOCKET]\n";
  t += "                         default: " + d.engine + "\n";
  t += "  --listen <addr[:port]> device API address [BOSUN_LISTEN]\n";
  t += "                         default: " + d.listen_address + ":"
       + std::to_string(d.listen_port) + " (config.json listenPort sets\n";
  t += "                         the port)\n";
  t += "  --local-mode[=<bool>]  local mode: true|false|1|0 "
       "[BOSUN_LOCAL_MODE]\n";
  t += "                         default: false; always on when config.json\n";
  t += "                         has no apiEndpoint (unmanaged)\n";
  t += "  --log-level <level>    debug|info|warn|error [BOSUN_LOG_LEVEL]\n";
  t += "                         default: " + std::string(to_string(d.level))
       + "\n";
  t += "  --persistent-logging[=<bool>]\n";
  t += "                         keep every log line on disk in\n";
  t += "                         <data-dir>/logs [BOSUN_PERSISTENT_LOGGING]\n";
  t += "                         default: config.json persistentLogging, "
       "else false\n";
  t += "  --persistent-log-size <bytes>\n";
  t += "                         the on-disk log's cap (two files)\n";
  t += "                         [BOSUN_PERSISTENT_LOG_SIZE], "
       + std::to_string(min_persistent_log_size) + "-"
       + std::to_string(max_persistent_log_size) + "\n";
  t += "                         default: config.json persistentLogSize, "
       "else "
       + std::to_string(d.persistent_log_size) + "\n";
  t += "\n";
  t += "The host interface reads balenaOS's variables (defaults for Debian):\n";
  t += "  DBUS_SYSTEM_BUS_ADDRESS  default: " + d.dbus_address + "\n";
  t += "  BOOT_MOUNTPOINT          default: " + d.boot_mount + "\n";
  t += "  STATE_MOUNTPOINT         default: " + d.state_mount + "\n";
  t += "  ROOT_MOUNTPOINT          the host's / (default: /)\n";
  t += "  LED_FILE                 default: " + d.led_file + "\n";
  t += "  VPN_STATUS_PATH          default: <root>" + d.vpn_status_path + "\n";
  t += "  BOSUN_JOURNALCTL         default: " + d.journalctl + "\n";
  t += "\n";
  t += "  -h, --help             print this help and exit\n";
  t += "  -V, --version          print the version and exit\n";
  t += "\n";
  t += "Values may be given as --flag value or --flag=value.\n";
  return t;
}

load_result load_config(const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env,
                        const file_reader& read) {
  auto flags = parse_flags(args);
  if (flags.help)
    return show_help{help_text()};
  if (flags.version)
    return show_version{version_text()};
  if (flags.error)
    return *flags.error;
  auto envs = env_layer(env);

  config cfg;
  // Which config.json: the flag, else the variable, else the default.
  bool explicit_path = false;
  for (const layer* l : {&envs, &flags.values}) {
    auto it = l->find(setting::config);
    if (it == l->end())
      continue;
    if (auto err = apply(cfg, setting::config, it->second))
      return *err;
    explicit_path = true;
  }
  // balenaOS's variables for its Supervisor (reference/host.md §0, §8):
  // CONFIG_MOUNT_POINT names config.json below BOSUN_CONFIG and --config (a
  // missing file is an unmanaged device, as at the default path).
  if (auto it = env.find("CONFIG_MOUNT_POINT");
      !explicit_path && it != env.end() && !it->second.empty())
    if (auto err = apply(cfg, setting::config,
                         sourced{it->second, "CONFIG_MOUNT_POINT"}))
      return *err;

  auto file = read(cfg.config_path);
  switch (file.result) {
    case file_contents::status::ok:
      cfg.config_file_found = true;
      if (auto err = apply_config_json(cfg, cfg.config_path, file.data))
        return *err;
      break;
    case file_contents::status::not_found:
      // No config.json at the default place is an unmanaged device; a file
      // someone named must exist.
      if (explicit_path)
        return config_error{cfg.config_path, "", "no such file"};
      break;
    case file_contents::status::failed:
      return config_error{cfg.config_path, "", "cannot read: " + file.data};
  }

  // DOCKER_HOST is the fallback for tools that set it for the docker CLI;
  // it is not consulted when bosun is told explicitly.
  if (!envs.count(setting::engine) && !flags.values.count(setting::engine)) {
    // balenaOS's DOCKER_SOCKET is the socket DOCKER_HOST defaults to.
    auto it = env.find("DOCKER_HOST");
    auto sock = env.find("DOCKER_SOCKET");
    if (it != env.end() && !it->second.empty()) {
      if (auto err
          = apply(cfg, setting::engine, sourced{it->second, "DOCKER_HOST"}))
        return *err;
    } else if (sock != env.end() && !sock->second.empty()) {
      if (auto err = apply(cfg, setting::engine,
                           sourced{"unix://" + sock->second, "DOCKER_SOCKET"}))
        return *err;
    }
  }
  if (auto err = apply_layer(cfg, envs))
    return *err;
  if (auto err = apply_layer(cfg, flags.values))
    return *err;

  if (auto it = env.find("ROOT_MOUNTPOINT");
      it != env.end() && !it->second.empty()) {
    if (it->second[0] != '/')
      return config_error{"", "ROOT_MOUNTPOINT",
                          "expected an absolute path, got \"" + it->second
                            + "\""};
    cfg.host_root = it->second;
    while (cfg.host_root.size() > 1 && cfg.host_root.back() == '/')
      cfg.host_root.pop_back();
  }

  cfg.vpn_status_path = cfg.host_root + "/run/openvpn/vpn_status";
  // The host interface's paths (reference/host.md §0): balenaOS's names,
  // absolute paths only (a relative one would depend on bosun's cwd).
  for (auto [name, field] : {std::pair<const char*, std::string*>{
                               "DBUS_SYSTEM_BUS_ADDRESS", &cfg.dbus_address},
                             {"BOOT_MOUNTPOINT", &cfg.boot_mount},
                             {"STATE_MOUNTPOINT", &cfg.state_mount},
                             {"LED_FILE", &cfg.led_file},
                             {"BOSUN_JOURNALCTL", &cfg.journalctl},
                             {"VPN_STATUS_PATH", &cfg.vpn_status_path}}) {
    auto it = env.find(name);
    if (it == env.end() || it->second.empty())
      continue;
    bool is_path = std::string_view(name) != "DBUS_SYSTEM_BUS_ADDRESS"
                   && std::string_view(name) != "BOSUN_JOURNALCTL";
    if (is_path && it->second[0] != '/')
      return config_error{
        "", name, "expected an absolute path, got \"" + it->second + "\""};
    *field = it->second;
  }

  // Without a cloud there is nothing but local mode.
  if (!cfg.managed())
    cfg.local_mode = true;
  return cfg;
}

} // namespace bosun
