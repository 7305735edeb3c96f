// libFuzzer target: arbitrary bytes as bosun's configuration: balena's
// config.json, the BOSUN_* environment and the command line (config/).
// Build and run: docs/fuzz.md.
//
// An input is three parts separated by NUL bytes:
//   config.json's text \0 environment, one NAME=VALUE a line \0 arguments,
//   one a line
// (missing parts are empty). The text is what the file reader returns for
// any path, so --config and BOSUN_CONFIG point at it too. Checks, besides "no
// crash, no exception, no sanitizer report":
//  - load_config always answers (a config, help, version or an error);
//  - an error names what it is about (a field, a file or a message);
//  - a config that loads gives its device config vars, each with a name;
//  - apply_config_json alone agrees with load_config on whether the file is
//    acceptable when nothing else is given.
#include "config/config.hpp"
#include "config/config_file.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  bosun::fuzz::fail("config_fuzz", what, detail);
}

std::string_view take(std::string_view& rest, char sep) {
  auto at = rest.find(sep);
  auto part = rest.substr(0, at);
  rest
    = at == std::string_view::npos ? std::string_view{} : rest.substr(at + 1);
  return part;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest{reinterpret_cast<const char*>(data), size};
  std::string json{take(rest, '\0')};
  auto env_text = take(rest, '\0');
  auto args_text = rest;

  std::map<std::string, std::string> env;
  while (!env_text.empty()) {
    auto line = take(env_text, '\n');
    auto eq = line.find('=');
    if (eq != std::string_view::npos)
      env[std::string{line.substr(0, eq)}] = std::string{line.substr(eq + 1)};
  }
  std::vector<std::string> args;
  while (!args_text.empty())
    args.emplace_back(take(args_text, '\n'));

  bosun::file_reader read = [&json](const std::string&) {
    return bosun::file_contents{bosun::file_contents::status::ok, json};
  };
  auto loaded = bosun::load_config(args, env, read);
  if (auto* e = std::get_if<bosun::config_error>(&loaded)) {
    if (e->why.empty())
      fail("an error without a message");
  } else if (auto* cfg = std::get_if<bosun::config>(&loaded)) {
    for (const auto& v : bosun::device_config_vars(*cfg))
      if (v.name.empty())
        fail("a device config var without a name");
  }

  // The file alone, as the only source.
  bosun::config cfg;
  auto file_error = bosun::apply_config_json(cfg, "/fuzz/config.json", json);
  if (args.empty() && env.empty()) {
    auto only_file
      = bosun::load_config({"--config", "/fuzz/config.json"}, {}, read);
    bool refused = std::holds_alternative<bosun::config_error>(only_file);
    if (file_error.has_value() && !refused)
      fail("load_config took a config.json apply_config_json refused:", json);
  }
  return 0;
}
