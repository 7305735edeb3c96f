#pragma once

// Internal to the backends: the string helpers balena's JavaScript gets
// from its runtime (split, trimStart, startsWith).
#include <string>
#include <string_view>
#include <vector>

namespace bosun::boot_config::text {

// String.prototype.split(sep): every piece, empty ones included.
std::vector<std::string> split(std::string_view s, std::string_view sep);

// s.split(/\r?\n/).
std::vector<std::string> lines(std::string_view s);

// s.split(/(?:\r?\n[\s#]*)+/): line breaks, with the blanks and '#'s that
// follow them (so a comment's text after the first line survives, a quirk
// balena's extlinux and extra_uEnv parsers share).
std::vector<std::string> lines_eating_comments(std::string_view s);

bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
bool is_space(char c);
std::string trim_start(std::string_view s);
std::string trim(std::string_view s);
std::string lower(std::string_view s);
std::string upper(std::string_view s);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// \w in a JavaScript regex.
bool is_word(char c);

} // namespace bosun::boot_config::text
