#include "tools/cloud-sim/options.hpp"

#include "tools/cloud-sim/json.hpp"

namespace bosun::cloud_sim {

namespace {

// "ADDR:PORT", ":PORT" or "PORT".
bool parse_endpoint(const std::string& text, std::string& address,
                    uint16_t& port) {
  auto colon = text.rfind(':');
  std::string port_text
    = colon == std::string::npos ? text : text.substr(colon + 1);
  if (colon != std::string::npos && colon > 0)
    address = text.substr(0, colon);
  auto n = json::parse_int(port_text);
  if (!n || *n > 65535)
    return false;
  port = static_cast<uint16_t>(*n);
  return true;
}

} // namespace

std::string usage() {
  return R"usage(usage: cloud-sim [options]

A simulated balena cloud for bosun's tests: device registration and key
exchange, target state v3 (ETag/304), state reports, gzip log streams, with
fault injection, driven over a JSON admin API (see docs/cloud-sim.md).

  --listen [ADDR:]PORT  device API (default 127.0.0.1:0 = any free port)
  --admin [ADDR:]PORT   admin API (default 127.0.0.1:0 = any free port)
  --state FILE          preload fleets and devices ({"fleets":[..],"devices":[..]})
  --max-records N       keep at most N reports, log lines, ... each (200000)
  --verbose             one line per device request on stderr
  --help                this text

Prints "cloud-sim listening on http://ADDR:PORT (admin :PORT)" once ready;
stops on SIGINT or SIGTERM.
)usage";
}

std::optional<options> parse_options(const std::vector<std::string>& args,
                                     std::string& err) {
  options o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('=');
        arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto need = [&]() -> bool {
      if (has_value)
        return true;
      if (i + 1 >= args.size()) {
        err = arg + " needs a value";
        return false;
      }
      value = args[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else if (arg == "--verbose" || arg == "-v") {
      o.verbose = true;
    } else if (arg == "--listen") {
      if (!need())
        return std::nullopt;
      if (!parse_endpoint(value, o.listen_address, o.listen_port)) {
        err = "--listen: expected [ADDR:]PORT, got " + value;
        return std::nullopt;
      }
    } else if (arg == "--admin") {
      if (!need())
        return std::nullopt;
      if (!parse_endpoint(value, o.admin_address, o.admin_port)) {
        err = "--admin: expected [ADDR:]PORT, got " + value;
        return std::nullopt;
      }
    } else if (arg == "--state") {
      if (!need())
        return std::nullopt;
      o.state_file = value;
    } else if (arg == "--max-records") {
      if (!need())
        return std::nullopt;
      auto n = json::parse_int(value);
      if (!n) {
        err = "--max-records: expected a number, got " + value;
        return std::nullopt;
      }
      o.max_records = static_cast<size_t>(*n);
    } else {
      err = "unknown argument " + arg;
      return std::nullopt;
    }
  }
  return o;
}

} // namespace bosun::cloud_sim
