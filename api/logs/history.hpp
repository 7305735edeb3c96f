#pragma once

// The persistent log's reading side, the one place that knows how its files
// read back: one line each in the /v2/local/logs shape (log_json.hpp writes
// and matches each line: the only place that knows its keys), lines that
// are not whole JSON objects (cut short by a crash or a full disk) skipped,
// a file seen under both names (a rotation while opening) read once.
// actors/logs/log_file.hpp names and writes the files; the logs actor's history
// worker calls read() (blocking file I/O, on the worker's own thread); the
// device API's route only parses the query and asks the logs actor (GET
// /v2/logs/history).
#include "messages/logs.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::log_files {

// count, since, until, service (messages/logs.hpp).
using query = log_history_query;

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
