#include "config/config.hpp"

#include <doctest/doctest.h>
#include <map>
#include <string>
#include <vector>

using namespace bosun;

namespace {

using files = std::map<std::string, std::string>;
using env_map = std::map<std::string, std::string>;
using args = std::vector<std::string>;

// A file system holding just `fs`; any other path does not exist.
file_reader fake(files fs) {
  return [fs = std::move(fs)](const std::string& path) {
    auto it = fs.find(path);
    if (it == fs.end())
      return file_contents{file_contents::status::not_found, "gone"};
    return file_contents{file_contents::status::ok, it->second};
  };
}

load_result load(const args& a, const env_map& e = {}, const files& fs = {}) {
  return load_config(a, e, fake(fs));
}

config ok(const load_result& r) {
  if (auto* err = std::get_if<config_error>(&r))
    FAIL("unexpected error: " << err->what());
  REQUIRE(std::holds_alternative<config>(r));
  return std::get<config>(r);
}

config_error error(const load_result& r) {
  if (auto* c = std::get_if<config>(&r))
    FAIL("expected an error, got a config for " << c->config_path);
  REQUIRE(std::holds_alternative<config_error>(r));
  return std::get<config_error>(r);
}

std::string error_text(const load_result& r) {
  return error(r).what();
}

const std::string def = default_config_path;

std::string data(const std::string& name) {
  return std::string(BOSUN_TEST_DATA) + "/config/" + name;
}

} // namespace

TEST_SUITE("config defaults") {
  TEST_CASE("no file, no env, no flags gives the documented defaults") {
    auto c = ok(load({}));
    CHECK(c.config_path == "/mnt/boot/config.json");
    CHECK_FALSE(c.config_file_found);
    CHECK(c.data_dir == "/var/lib/bosun");
    CHECK(c.db_file() == "/var/lib/bosun/bosun.sqlite");
    CHECK(c.engine == "unix:///var/run/docker.sock");
    CHECK(c.listen_address == "0.0.0.0");
    CHECK(c.listen_port == 48484);
    CHECK(c.level == log_level::info);
    CHECK(c.app_update_poll_interval == std::chrono::milliseconds(900000));
    CHECK(c.bootstrap_retry_delay == std::chrono::milliseconds(30000));
    CHECK(c.delta_endpoint == "https://delta.balena-cloud.com");
  }

  TEST_CASE("an unmanaged device is forced into local mode") {
    auto c = ok(load({"--local-mode=false"}, {{"BOSUN_LOCAL_MODE", "0"}},
                     {{def, R"({"apiEndpoint": ""})"}}));
    CHECK_FALSE(c.managed());
    CHECK(c.local_mode);
  }

  TEST_CASE("a managed device keeps local mode off unless asked") {
    files fs{{def, R"({"apiEndpoint": "https://api.example.com"})"}};
    CHECK_FALSE(ok(load({}, {}, fs)).local_mode);
    CHECK(ok(load({"--local-mode"}, {}, fs)).local_mode);
    CHECK(ok(load({}, {{"BOSUN_LOCAL_MODE", "true"}}, fs)).local_mode);
  }
}

TEST_SUITE("config precedence") {
  TEST_CASE("config path: default < BOSUN_CONFIG < --config") {
    files fs{{"/env.json", "{}"}, {"/flag.json", "{}"}, {def, "{}"}};
    CHECK(ok(load({}, {}, fs)).config_path == def);
    CHECK(ok(load({}, {{"BOSUN_CONFIG", "/env.json"}}, fs)).config_path
          == "/env.json");
    auto c = ok(
      load({"--config", "/flag.json"}, {{"BOSUN_CONFIG", "/env.json"}}, fs));
    CHECK(c.config_path == "/flag.json");
    CHECK(c.config_file_found);
  }

  TEST_CASE("data dir: default < BOSUN_DATA_DIR < --data-dir") {
    CHECK(ok(load({}, {{"BOSUN_DATA_DIR", "/e"}})).data_dir == "/e");
    CHECK(ok(load({"--data-dir=/f"}, {{"BOSUN_DATA_DIR", "/e"}})).data_dir
          == "/f");
  }

  TEST_CASE("engine: default < DOCKER_HOST < BOSUN_ENGINE < --engine") {
    CHECK(ok(load({}, {{"DOCKER_HOST", "tcp://10.0.0.1:2375"}})).engine
          == "http://10.0.0.1:2375");
    CHECK(ok(load({}, {{"DOCKER_HOST", "tcp://10.0.0.1:2375"},
                       {"BOSUN_ENGINE", "/run/e.sock"}}))
            .engine
          == "unix:///run/e.sock");
    CHECK(ok(load({"--engine", "unix:///tmp/f.sock"},
                  {{"BOSUN_ENGINE", "/run/e.sock"}}))
            .engine
          == "unix:///tmp/f.sock");
  }

  TEST_CASE("balenaOS's variables: DOCKER_SOCKET below DOCKER_HOST, "
            "CONFIG_MOUNT_POINT below BOSUN_CONFIG") {
    env_map balena{{"DOCKER_SOCKET", "/var/run/balena-engine.sock"},
                   {"CONFIG_MOUNT_POINT", "/mnt/root/mnt/boot/config.json"}};
    auto c = ok(
      load({}, balena,
           {{"/mnt/root/mnt/boot/config.json", R"({"listenPort":4000})"}}));
    CHECK(c.engine == "unix:///var/run/balena-engine.sock");
    CHECK(c.config_path == "/mnt/root/mnt/boot/config.json");
    CHECK(c.config_file_found);
    CHECK(c.listen_port == 4000);
    // Missing there: unmanaged, as at the default path.
    auto missing = ok(load({}, balena));
    CHECK_FALSE(missing.config_file_found);
    CHECK(missing.local_mode);
    auto told = balena;
    told["DOCKER_HOST"] = "tcp://10.0.0.1:2375";
    told["BOSUN_CONFIG"] = "/etc/bosun/config.json";
    auto t = ok(load({}, told, {{"/etc/bosun/config.json", "{}"}}));
    CHECK(t.engine == "http://10.0.0.1:2375");
    CHECK(t.config_path == "/etc/bosun/config.json");
  }

  TEST_CASE("ROOT_MOUNTPOINT: the host's / as a supervisor container sees it") {
    CHECK(ok(load({})).host_root.empty());
    CHECK(ok(load({}, {{"ROOT_MOUNTPOINT", "/mnt/root/"}})).host_root
          == "/mnt/root");
    CHECK(error_text(load({}, {{"ROOT_MOUNTPOINT", "mnt/root"}}))
          == R"(ROOT_MOUNTPOINT: expected an absolute path, got "mnt/root")");
  }

  TEST_CASE("the host interface's paths: Debian defaults, balenaOS's "
            "variables") {
    auto d = ok(load({}));
    CHECK(d.dbus_address == "unix:path=/run/dbus/system_bus_socket");
    CHECK(d.boot_mount == "/mnt/boot");
    CHECK(d.state_mount == "/mnt/state");
    CHECK(d.led_file == "/sys/class/leds/led0/brightness");
    CHECK(d.journalctl == "journalctl");
    CHECK(d.vpn_status_path == "/run/openvpn/vpn_status");
    auto b = ok(load({}, {{"ROOT_MOUNTPOINT", "/mnt/root"},
                          {"DBUS_SYSTEM_BUS_ADDRESS",
                           "unix:path=/mnt/root/run/dbus/system_bus_socket"},
                          {"BOOT_MOUNTPOINT", "/mnt/boot"},
                          {"LED_FILE", "/dev/null"},
                          {"BOSUN_JOURNALCTL", "/usr/bin/journalctl"}}));
    CHECK(b.dbus_address == "unix:path=/mnt/root/run/dbus/system_bus_socket");
    CHECK(b.led_file == "/dev/null");
    CHECK(b.journalctl == "/usr/bin/journalctl");
    CHECK(b.vpn_status_path == "/mnt/root/run/openvpn/vpn_status");
    CHECK(ok(load({}, {{"VPN_STATUS_PATH", "/x/vpn"}})).vpn_status_path
          == "/x/vpn");
    CHECK(error_text(load({}, {{"LED_FILE", "led0"}}))
          == R"(LED_FILE: expected an absolute path, got "led0")");
  }

  TEST_CASE("BOOT_MOUNTPOINT: where the device-config files are") {
    CHECK(ok(load({})).boot_mount == "/mnt/boot");
    CHECK(ok(load({}, {{"BOOT_MOUNTPOINT", "/tmp/boot"}})).boot_mount
          == "/tmp/boot");
    CHECK(error_text(load({}, {{"BOOT_MOUNTPOINT", "boot"}}))
          == R"(BOOT_MOUNTPOINT: expected an absolute path, got "boot")");
  }

  TEST_CASE("an unusable DOCKER_HOST does not matter when bosun is told") {
    CHECK(ok(load({}, {{"DOCKER_HOST", "ssh://me@box"},
                       {"BOSUN_ENGINE", "/run/e.sock"}}))
            .engine
          == "unix:///run/e.sock");
    CHECK(
      error_text(load({}, {{"DOCKER_HOST", "ssh://me@box"}}))
      == R"(DOCKER_HOST: expected unix:///path, tcp://host:port, )"
         R"(http://host:port or an absolute socket path, got "ssh://me@box")");
  }

  TEST_CASE("listen port: default < config.json < BOSUN_LISTEN < --listen") {
    files fs{{def, R"({"listenPort": 1111})"}};
    CHECK(ok(load({}, {}, fs)).listen_port == 1111);
    auto e = ok(load({}, {{"BOSUN_LISTEN", "127.0.0.1:2222"}}, fs));
    CHECK(e.listen_port == 2222);
    CHECK(e.listen_address == "127.0.0.1");
    auto f = ok(load({"--listen", "10.1.1.1:3333"},
                     {{"BOSUN_LISTEN", "127.0.0.1:2222"}}, fs));
    CHECK(f.listen_port == 3333);
    CHECK(f.listen_address == "10.1.1.1");
  }

  TEST_CASE("a listen address without a port keeps the lower layer's port") {
    files fs{{def, R"({"listenPort": 1111})"}};
    auto c = ok(load({"--listen=127.0.0.1"}, {}, fs));
    CHECK(c.listen_address == "127.0.0.1");
    CHECK(c.listen_port == 1111);
    auto p = ok(load({"--listen=:4444"}, {{"BOSUN_LISTEN", "10.0.0.9"}}, fs));
    CHECK(p.listen_address == "10.0.0.9");
    CHECK(p.listen_port == 4444);
    auto v6 = ok(load({"--listen=[::1]:5555"}));
    CHECK(v6.listen_address == "::1");
    CHECK(v6.listen_port == 5555);
    CHECK(ok(load({"--listen=::"})).listen_address == "::");
  }

  TEST_CASE("local mode: default < BOSUN_LOCAL_MODE < --local-mode") {
    files fs{{def, R"({"apiEndpoint": "https://api.example.com"})"}};
    CHECK(ok(load({}, {{"BOSUN_LOCAL_MODE", "1"}}, fs)).local_mode);
    CHECK_FALSE(
      ok(load({"--local-mode=false"}, {{"BOSUN_LOCAL_MODE", "1"}}, fs))
        .local_mode);
    CHECK(ok(load({"--local-mode=1"}, {{"BOSUN_LOCAL_MODE", "false"}}, fs))
            .local_mode);
  }

  TEST_CASE("log level: default < BOSUN_LOG_LEVEL < --log-level") {
    CHECK(ok(load({}, {{"BOSUN_LOG_LEVEL", "warn"}})).level == log_level::warn);
    CHECK(
      ok(load({"--log-level", "debug"}, {{"BOSUN_LOG_LEVEL", "warn"}})).level
      == log_level::debug);
    CHECK(ok(load({"--log-level=error"})).level == log_level::error);
  }

  TEST_CASE("persistent logging: config.json < BOSUN_PERSISTENT_LOGGING < "
            "--persistent-logging") {
    CHECK_FALSE(ok(load({})).persistent_logging);
    CHECK(ok(load({}, {}, {{def, R"({"persistentLogging":true})"}}))
            .persistent_logging);
    CHECK_FALSE(ok(load({}, {{"BOSUN_PERSISTENT_LOGGING", "0"}},
                        {{def, R"({"persistentLogging":"true"})"}}))
                  .persistent_logging);
    CHECK(
      ok(load({"--persistent-logging"}, {{"BOSUN_PERSISTENT_LOGGING", "0"}}))
        .persistent_logging);
    CHECK_FALSE(ok(load({"--persistent-logging=false"},
                        {{"BOSUN_PERSISTENT_LOGGING", "true"}}))
                  .persistent_logging);
  }

  TEST_CASE("persistent log size: 8 MiB < config.json < "
            "BOSUN_PERSISTENT_LOG_SIZE < --persistent-log-size") {
    CHECK(ok(load({})).persistent_log_size == 8 * 1024 * 1024);
    files fs{{def, R"({"persistentLogSize":100000})"}};
    CHECK(ok(load({}, {}, fs)).persistent_log_size == 100000);
    CHECK(ok(load({}, {}, {{def, R"({"persistentLogSize":"65536"})"}}))
            .persistent_log_size
          == 65536);
    CHECK(ok(load({}, {{"BOSUN_PERSISTENT_LOG_SIZE", "200000"}}, fs))
            .persistent_log_size
          == 200000);
    CHECK(ok(load({"--persistent-log-size", "300000"},
                  {{"BOSUN_PERSISTENT_LOG_SIZE", "200000"}}, fs))
            .persistent_log_size
          == 300000);
    CHECK(error_text(load({"--persistent-log-size=65535"}))
          == R"(--persistent-log-size: expected an integer 65536-1073741824 )"
             R"((bytes), got "65535")");
    CHECK(error(load({}, {{"BOSUN_PERSISTENT_LOG_SIZE", "1073741825"}})).field
          == "BOSUN_PERSISTENT_LOG_SIZE");
    CHECK(error(load({}, {{"BOSUN_PERSISTENT_LOGGING", "yes"}})).field
          == "BOSUN_PERSISTENT_LOGGING");
  }

  TEST_CASE("empty environment variables count as unset") {
    auto c = ok(load({}, {{"BOSUN_DATA_DIR", ""}, {"BOSUN_LOG_LEVEL", ""}}));
    CHECK(c.data_dir == "/var/lib/bosun");
    CHECK(c.level == log_level::info);
  }

  TEST_CASE("the last of a repeated flag wins") {
    CHECK(ok(load({"--data-dir=/a", "--data-dir", "/b"})).data_dir == "/b");
  }
}

TEST_SUITE("config engine urls") {
  TEST_CASE("engine locations are normalised for the HTTP client") {
    CHECK(ok(load({"--engine=/var/run/balena.sock"})).engine
          == "unix:///var/run/balena.sock");
    CHECK(ok(load({"--engine=tcp://docker:2376"})).engine
          == "http://docker:2376");
    CHECK(ok(load({"--engine=tcp://docker"})).engine == "http://docker:2375");
    CHECK(ok(load({"--engine=tcp://[::1]:2376"})).engine
          == "http://[::1]:2376");
    CHECK(ok(load({"--engine=http://127.0.0.1:2375/"})).engine
          == "http://127.0.0.1:2375");
  }

  TEST_CASE("unusable engine locations are refused") {
    for (const char* bad : {"unix://relative", "docker.sock", "tcp://",
                            "tcp://host:0", "tcp://host:99999", "ssh://box",
                            "https://host:2376", "unix://", "/"}) {
      CAPTURE(bad);
      auto e = error(load({std::string("--engine=") + bad}));
      CHECK(e.field == "--engine");
      CHECK(e.file.empty());
    }
  }
}

TEST_SUITE("config file") {
  TEST_CASE("recorded config.json of a provisioned device") {
    auto r = load_config({"--config", data("managed-provisioned.json")}, {});
    auto c = ok(r);
    CHECK(c.config_file_found);
    CHECK(c.managed());
    CHECK(c.provisioned());
    CHECK_FALSE(c.local_mode);
    CHECK(c.api_endpoint == "https://api.balena-cloud.com");
    CHECK(c.uuid == "7dadabd4edec3067948d5952c2f2f26f");
    CHECK(c.device_api_key == "f3e2d1c0b9a8f3e2d1c0b9a8f3e2d1c0");
    CHECK(c.provisioning_api_key.empty());
    CHECK(c.application_id == 1011165);
    CHECK(c.device_id == 9876543);
    CHECK(c.registered_at == 1700000000123);
    CHECK(c.device_type == "generic-amd64");
    CHECK(c.hostname == "7dadabd");
    CHECK(c.initial_device_name == "holy-wildflower");
    CHECK(c.logs_endpoint == "https://logs.balena-cloud.com");
    CHECK(c.development_mode);
    CHECK_FALSE(c.persistent_logging);
    CHECK(c.app_update_poll_interval == std::chrono::milliseconds(600000));
    CHECK(c.api_timeout == std::chrono::milliseconds(60000));
    CHECK(c.listen_port == 48484);
  }

  TEST_CASE("recorded config.json of a device waiting to provision") {
    auto c = ok(load_config({"--config", data("provisioning.json")}, {}));
    CHECK(c.managed());
    CHECK_FALSE(c.provisioned());
    CHECK(c.uuid.empty()); // null counts as absent
    CHECK(c.provisioning_api_key == "provisioning-key-0123456789");
    CHECK(c.application_id == 1011165); // numeric strings are accepted
    CHECK(c.app_update_poll_interval == std::chrono::milliseconds(900000));
    CHECK(c.persistent_logging);
    CHECK_FALSE(c.development_mode);
    CHECK(c.delta_endpoint == "https://delta.example.com");
    CHECK(c.device_type == "raspberrypi4-64");
  }

  TEST_CASE("recorded config.json of an unmanaged device") {
    auto c = ok(load_config({"--config", data("unmanaged.json")}, {}));
    CHECK_FALSE(c.managed());
    CHECK(c.local_mode);
    CHECK(c.listen_port == 48485);
    CHECK(c.uuid.size() == 62);
  }

  TEST_CASE("recorded files with errors are refused with file and field") {
    auto bad_json = error(load_config({"--config", data("not-json.json")}, {}));
    CHECK(bad_json.file == data("not-json.json"));
    CHECK(bad_json.field.empty());
    CHECK(bad_json.why.rfind("not valid JSON at offset ", 0) == 0);
    CHECK(error_text(load_config({"--config", data("bad-port.json")}, {}))
          == data("bad-port.json")
               + R"(: field 'listenPort': expected an integer 1-65535, )"
                 R"(got "abc")");
  }

  TEST_CASE("invalid JSON names the offset and the parser's reason") {
    CHECK(error_text(load({}, {}, {{def, R"({"listenPort": x})"}}))
          == "/mnt/boot/config.json: not valid JSON at offset 15: "
             "Invalid value.");
    CHECK(error_text(load({}, {}, {{def, ""}}))
          == "/mnt/boot/config.json: not valid JSON at offset 0: "
             "The document is empty.");
    CHECK(error_text(load({}, {}, {{def, "{} {}"}})).find("offset 3")
          != std::string::npos);
  }

  TEST_CASE("a config.json that is not an object is refused") {
    CHECK(error_text(load({}, {}, {{def, "[1]"}}))
          == "/mnt/boot/config.json: expected a JSON object, got an array");
  }

  TEST_CASE("unknown keys are ignored") {
    auto c
      = ok(load({}, {}, {{def, R"({"vpnPort": "x", "os": [1], "a": {}})"}}));
    CHECK(c.config_file_found);
  }

  TEST_CASE("each key's type is checked") {
    struct bad_case {
      const char* json;
      const char* field;
      const char* why;
    };
    const bad_case cases[] = {
      {R"({"apiEndpoint": 5})", "apiEndpoint",
       "expected an http:// or https:// URL, got 5"},
      {R"({"apiEndpoint": "api.balena-cloud.com"})", "apiEndpoint",
       R"(expected an http:// or https:// URL, got "api.balena-cloud.com")"},
      {R"({"uuid": "xyz"})", "uuid",
       R"(expected at least 32 hexadecimal characters, got "xyz")"},
      {R"({"uuid": "7dadabd4edec3067948d5952c2f2f26"})", "uuid",
       R"(expected at least 32 hexadecimal characters, got )"
       R"("7dadabd4edec3067948d5952c2f2f26")"},
      {R"({"uuid": 12})", "uuid",
       "expected at least 32 hexadecimal characters, got 12"},
      {R"({"deviceApiKey": ""})", "deviceApiKey",
       R"(expected a non-empty string, got "")"},
      {R"({"apiKey": 42})", "apiKey", "expected a non-empty string, got 42"},
      {R"({"applicationId": "12a"})", "applicationId",
       R"(expected a positive integer, got "12a")"},
      {R"({"applicationId": 0})", "applicationId",
       "expected a positive integer, got 0"},
      {R"({"deviceId": 1.5})", "deviceId",
       "expected a positive integer, got 1.5"},
      {R"({"deviceId": -3})", "deviceId",
       "expected a positive integer, got -3"},
      {R"({"registered_at": true})", "registered_at",
       "expected a timestamp in milliseconds, got true"},
      {R"({"listenPort": "abc"})", "listenPort",
       R"(expected an integer 1-65535, got "abc")"},
      {R"({"listenPort": 0})", "listenPort",
       "expected an integer 1-65535, got 0"},
      {R"({"listenPort": 65536})", "listenPort",
       "expected an integer 1-65535, got 65536"},
      {R"({"listenPort": {}})", "listenPort",
       "expected an integer 1-65535, got an object"},
      {R"({"apiTimeout": 0})", "apiTimeout",
       "expected a positive integer (milliseconds), got 0"},
      {R"({"apiRequestTimeout": "soon"})", "apiRequestTimeout",
       R"(expected a positive integer (milliseconds), got "soon")"},
      {R"({"appUpdatePollInterval": []})", "appUpdatePollInterval",
       "expected a positive integer (milliseconds), got an array"},
      {R"({"bootstrapRetryDelay": -1})", "bootstrapRetryDelay",
       "expected a positive integer (milliseconds), got -1"},
      {R"({"deltaEndpoint": "ftp://x"})", "deltaEndpoint",
       R"(expected an http:// or https:// URL, got "ftp://x")"},
      {R"({"logsEndpoint": false})", "logsEndpoint",
       "expected an http:// or https:// URL, got false"},
      {R"({"hostname": 1})", "hostname", "expected a string, got 1"},
      {R"({"initialDeviceName": []})", "initialDeviceName",
       "expected a string, got an array"},
      {R"({"deviceType": {}})", "deviceType",
       "expected a string, got an object"},
      {R"({"persistentLogging": "yes"})", "persistentLogging",
       R"(expected true or false, got "yes")"},
      {R"({"persistentLogSize": 1000})", "persistentLogSize",
       "expected an integer 65536-1073741824 (bytes), got 1000"},
      {R"({"persistentLogSize": "8M"})", "persistentLogSize",
       R"(expected an integer 65536-1073741824 (bytes), got "8M")"},
      {R"({"developmentMode": 1})", "developmentMode",
       "expected true or false, got 1"},
    };
    for (const auto& bc : cases) {
      CAPTURE(bc.json);
      auto e = error(load({}, {}, {{def, bc.json}}));
      CHECK(e.file == def);
      CHECK(e.field == bc.field);
      CHECK(e.why == bc.why);
    }
  }

  TEST_CASE("long or odd values are shown quoted and cut") {
    std::string long_value(100, 'z');
    auto e = error(load({}, {}, {{def, R"({"uuid": ")" + long_value + "\"}"}}));
    CHECK(e.why.size() < 140);
    CHECK(e.why.find("...\"") != std::string::npos);
    auto q = error(load({}, {}, {{def, R"({"uuid": "a\"b\n"})"}}));
    CHECK(q.why
          == R"(expected at least 32 hexadecimal characters, got "a\"b\n")");
  }

  TEST_CASE("a missing file at the default path means unmanaged") {
    auto c = ok(load({}));
    CHECK_FALSE(c.config_file_found);
    CHECK_FALSE(c.managed());
    CHECK(c.local_mode);
  }

  TEST_CASE("a missing file named explicitly is an error") {
    CHECK(error_text(load({"--config=/nope.json"}))
          == "/nope.json: no such file");
    CHECK(error_text(load({}, {{"BOSUN_CONFIG", "/nope.json"}}))
          == "/nope.json: no such file");
    // Even when it names the default path.
    CHECK(error_text(load({"--config", def})) == def + ": no such file");
  }

  TEST_CASE("an unreadable file is an error with the OS's reason") {
    auto r = load_config({"--config", BOSUN_TEST_DATA}, {});
    CHECK(error(r).why.rfind("cannot read: ", 0) == 0);
  }

  TEST_CASE("an empty --config or --data-dir is refused") {
    CHECK(error_text(load({"--config="}))
          == R"(--config: expected a file )"
             R"(path, got "")");
    CHECK(error_text(load({"--data-dir="}))
          == R"(--data-dir: expected a directory path, got "")");
  }
}

TEST_SUITE("config flags") {
  TEST_CASE("unknown flags are named") {
    auto e = error(load({"--frobnicate"}));
    CHECK(e.field == "--frobnicate");
    CHECK(e.what() == "--frobnicate: unknown flag (see --help)");
    CHECK(error(load({"--frobnicate=1"})).field == "--frobnicate");
  }

  TEST_CASE("a flag without its value is named") {
    CHECK(error_text(load({"--listen"})) == "--listen: missing value");
    CHECK(error_text(load({"--engine", "--log-level=info"}))
          == "--engine: missing value");
  }

  TEST_CASE("stray arguments are refused") {
    CHECK(error_text(load({"serve"})) == R"(unexpected argument "serve")");
    CHECK(error_text(load({"-x"})) == R"(unexpected argument "-x")");
  }

  TEST_CASE("bad flag and environment values name their source") {
    CHECK(error_text(load({"--listen", "x:0"}))
          == R"(--listen: expected <address>[:<port>] with a port 1-65535, )"
             R"(got "x:0")");
    CHECK(error(load({"--listen=1.2.3.4:http"})).field == "--listen");
    CHECK(error(load({"--listen=[::1"})).field == "--listen");
    CHECK(error_text(load({"--log-level", "verbose"}))
          == R"(--log-level: expected debug, info, warn or error, got )"
             R"("verbose")");
    CHECK(error_text(load({}, {{"BOSUN_LOG_LEVEL", "loud"}}))
          == R"(BOSUN_LOG_LEVEL: expected debug, info, warn or error, got )"
             R"("loud")");
    CHECK(error_text(load({"--local-mode=yes"}))
          == R"(--local-mode: expected true, false, 1 or 0, got "yes")");
    CHECK(error(load({}, {{"BOSUN_LOCAL_MODE", "on"}})).field
          == "BOSUN_LOCAL_MODE");
    CHECK(error(load({}, {{"BOSUN_LISTEN", "0.0.0.0:65536"}})).field
          == "BOSUN_LISTEN");
    CHECK(error(load({}, {{"BOSUN_ENGINE", "docker"}})).field
          == "BOSUN_ENGINE");
  }

  TEST_CASE("a boolean flag does not take the next argument") {
    auto e = error(load({"--local-mode", "false"}));
    CHECK(e.what() == R"(unexpected argument "false")");
  }

  TEST_CASE("--help and -h print the help, even next to bad flags") {
    for (const args& a : {args{"--help"}, args{"-h"}, args{"--bogus", "-h"},
                          args{"--version", "--help"}}) {
      auto r = load(a);
      REQUIRE(std::holds_alternative<show_help>(r));
      const auto& text = std::get<show_help>(r).text;
      for (const char* word : {"--config",
                               "BOSUN_CONFIG",
                               "/mnt/boot/config.json",
                               "--data-dir",
                               "BOSUN_DATA_DIR",
                               "/var/lib/bosun",
                               "--engine",
                               "BOSUN_ENGINE",
                               "DOCKER_HOST",
                               "unix:///var/run/docker.sock",
                               "--listen",
                               "BOSUN_LISTEN",
                               "0.0.0.0:48484",
                               "--local-mode",
                               "BOSUN_LOCAL_MODE",
                               "--log-level",
                               "BOSUN_LOG_LEVEL",
                               "--persistent-logging",
                               "BOSUN_PERSISTENT_LOGGING",
                               "--persistent-log-size",
                               "BOSUN_PERSISTENT_LOG_SIZE",
                               "--version"}) {
        CAPTURE(word);
        CHECK(text.find(word) != std::string::npos);
      }
    }
  }

  TEST_CASE("--version and -V print the version") {
    for (const args& a : {args{"--version"}, args{"-V"}}) {
      auto r = load(a);
      REQUIRE(std::holds_alternative<show_version>(r));
      CHECK(std::get<show_version>(r).text
            == std::string("bosun ") + BOSUN_VERSION);
    }
    CHECK(error(load({"--version=2"})).field == "--version");
  }

  TEST_CASE("help and version do not read config.json") {
    bool read = false;
    auto r = load_config({"--help"}, {}, [&](const std::string&) {
      read = true;
      return file_contents{};
    });
    CHECK(std::holds_alternative<show_help>(r));
    CHECK_FALSE(read);
  }
}

TEST_SUITE("config helpers") {
  TEST_CASE("log levels round-trip through text") {
    for (auto l :
         {log_level::debug, log_level::info, log_level::warn, log_level::error})
      CHECK(parse_log_level(to_string(l)) == l);
    CHECK_FALSE(parse_log_level("INFO"));
  }

  TEST_CASE("process_environment sees the real environment") {
    auto env = process_environment();
    CHECK(env.count("PATH") == 1);
  }

  TEST_CASE("config_error renders each shape on one line") {
    CHECK(config_error{"/a.json", "uuid", "bad"}.what()
          == "/a.json: field 'uuid': bad");
    CHECK(config_error{"/a.json", "", "bad"}.what() == "/a.json: bad");
    CHECK(config_error{"", "--listen", "bad"}.what() == "--listen: bad");
    CHECK(config_error{"", "", "bad"}.what() == "bad");
  }
}

TEST_SUITE("device config vars") {
  TEST_CASE("balena's names and defaults; bosun's settings where it has them") {
    auto value_of = [](const std::vector<device_config_var>& vars,
                       const std::string& name) -> std::string {
      for (const auto& v : vars)
        if (v.name == name)
          return v.value;
      FAIL("no " << name);
      return {};
    };
    auto d = device_config_vars(ok(load({})));
    // host.md §6.2's 17 keys and SUPERVISOR_VPN_CONTROL.
    CHECK(d.size() == 18);
    CHECK(value_of(d, "SUPERVISOR_POLL_INTERVAL") == "900000");
    CHECK(value_of(d, "SUPERVISOR_INSTANT_UPDATE_TRIGGER") == "true");
    CHECK(value_of(d, "SUPERVISOR_HARDWARE_METRICS") == "true");
    CHECK(value_of(d, "SUPERVISOR_LOG_CONTROL") == "true");
    CHECK(value_of(d, "SUPERVISOR_OVERRIDE_LOCK") == "false");
    CHECK(value_of(d, "SUPERVISOR_LOCAL_MODE") == "true"); // unmanaged
    CHECK(value_of(d, "SUPERVISOR_PERSISTENT_LOGGING") == "false");
    CHECK(value_of(d, "SUPERVISOR_API_REQUEST_TIMEOUT") == "59000");
    CHECK(value_of(d, "SUPERVISOR_CONNECTIVITY_CHECK") == "true");
    CHECK(value_of(d, "SUPERVISOR_DELTA") == "false");
    CHECK(value_of(d, "SUPERVISOR_DELTA_REQUEST_TIMEOUT") == "59000");
    CHECK(value_of(d, "SUPERVISOR_DELTA_APPLY_TIMEOUT") == "0");
    CHECK(value_of(d, "SUPERVISOR_DELTA_RETRY_COUNT") == "30");
    CHECK(value_of(d, "SUPERVISOR_DELTA_RETRY_INTERVAL") == "10000");
    CHECK(value_of(d, "SUPERVISOR_DELTA_VERSION") == "2");
    CHECK(value_of(d, "SUPERVISOR_VPN_CONTROL") == "true");
    CHECK(value_of(d, "HOST_FIREWALL_MODE") == "off");
    CHECK(value_of(d, "HOST_DISCOVERABILITY") == "true");

    auto m = device_config_vars(
      ok(load({"--persistent-logging"}, {},
              {{def, R"({"apiEndpoint":"https://api.example.com",)"
                     R"("appUpdatePollInterval":60000})"}})));
    CHECK(value_of(m, "SUPERVISOR_POLL_INTERVAL") == "60000");
    CHECK(value_of(m, "SUPERVISOR_LOCAL_MODE") == "false");
    CHECK(value_of(m, "SUPERVISOR_PERSISTENT_LOGGING") == "true");
    for (const auto& v : m)
      CHECK_MESSAGE(v.set_by_target
                      == (v.name != "SUPERVISOR_LOCAL_MODE"
                          && v.name != "SUPERVISOR_PERSISTENT_LOGGING"),
                    v.name);
  }
}
