#pragma once

// The JSON bits of the device configuration (reference/host.md §6): the
// list form of a config var (`"a","b"`, the inside of a JSON array), the
// boot partition's configfs.json, and the JSON objects balena's log lines
// quote. Pure; the backends (actors/host/backends) call these so that JSON
// stays in api/.
#include "messages/device_config.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::cloud {

// `"a","b"`: JSON.stringify(list) without its brackets.
std::string encode_var_list(const std::vector<std::string>& items);

// JSON.parse("[" + text + "]"), each item a string; std::nullopt when it is
// not valid JSON or holds something else.
std::optional<std::vector<std::string>> decode_var_list(std::string_view text);

// configfs.json's "ssdt" list: the strings of the array; empty when the
// file is missing, not JSON, or has no such array.
std::vector<std::string> configfs_ssdt(const std::optional<std::string>& text);

// configfs.json (any other keys kept; a missing or invalid file counts as
// {}) with "ssdt" set to `ssdt`, or removed when std::nullopt, written
// compact as JSON.stringify does.
std::string
configfs_with_ssdt(const std::optional<std::string>& text,
                   const std::optional<std::vector<std::string>>& ssdt);

// {"k":"v",...} / {"k":["a"],...} in key order: the JSON of a change in
// balena's log lines ("Applying configuration change {...}").
std::string encode_config_object(const std::map<std::string, std::string>& m);
std::string encode_boot_options(const boot_options& opts);

} // namespace bosun::cloud
