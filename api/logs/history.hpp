#pragma once

// GET /v2/logs/history's reading side: the persistent log's files
// (actors/logs/log_file.hpp; NDJSON in the /v2/local/logs shape) filtered
// by time and service, the last N lines kept. Lines that are not whole JSON
// objects (cut short by a crash or a full disk) are skipped.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::log_files {

struct query {
  std::optional<uint64_t> count;      // the last N matching lines
  std::optional<int64_t> since;       // timestamp >= since (unix ms)
  std::optional<int64_t> until;       // timestamp <= until (unix ms)
  std::optional<std::string> service; // serviceName equals (system lines
                                      // have none: they are left out)
};

// A query parameter's value when present.
using param_getter = std::function<std::optional<std::string>(const char*)>;

// From the request's query parameters (each optional): count (a positive
// integer), since and until (unix ms, decimal digits), service.
// std::nullopt, with `why`, for a bad value.
std::optional<query> parse_query(const param_getter& get, std::string& why);

// The lines of `ndjson` that match `q`, in order ('\n' after each).
std::string filter(std::string_view ndjson, const query& q);

// Reads `files` (oldest first; missing ones are skipped), at most
// `max_bytes` in all (the newest kept, from a line start), and filters.
// Safe while the writer rotates: a file seen twice is read once.
std::string read(const std::vector<std::string>& files, uint64_t max_bytes,
                 const query& q);

} // namespace bosun::log_files
