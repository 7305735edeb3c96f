#pragma once

// config.json rewrites after provisioning. The file is never truncated in
// place: the new text goes to "<path>.tmp" in the same directory, is
// fsync'ed, then renamed over the old file, and the directory is fsync'ed.
// A crash at any point leaves either the old or the new file whole.
#include "api/cloud/device_api.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace bosun {

// Called after the temp file is written and synced, before the rename; a
// test returns false to play a crash there (the rename does not happen).
using before_rename_hook = std::function<bool()>;

// Writes `data` to `path` atomically, keeping the old file's permissions.
// Returns why it failed (the old file is then untouched).
std::optional<std::string> atomic_write(const std::string& path,
                                        std::string_view data,
                                        const before_rename_hook& hook = {});

// Reads the JSON object at `path` (a missing file counts as {}), applies
// `edit` (api/cloud/device_api.hpp) and writes it back atomically.
std::optional<std::string>
rewrite_config_json(const std::string& path,
                    const cloud::config_json_edit& edit,
                    const before_rename_hook& hook = {});

} // namespace bosun
