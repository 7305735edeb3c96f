#pragma once

// balena's config.json -> the config.json fields of bosun::config.
#include "config/config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bosun {

// Validates `text` (the contents of `path`) and copies the keys bosun knows
// into `cfg`. Unknown keys are ignored (balenaOS writes many); null counts as
// absent. Integers may also be given as decimal strings. On error `cfg` may
// be partly updated; callers discard it.
std::optional<config_error>
apply_config_json(config& cfg, const std::string& path, std::string_view text);

} // namespace bosun
