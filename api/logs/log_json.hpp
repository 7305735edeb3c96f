#pragma once

// Log lines as NDJSON, in the two shapes balena uses (reference/state.md
// "Logs", cli.md). Each function appends one line, '\n' included.
#include "messages/logs.hpp"

#include <string>
#include <string_view>

namespace bosun::log_json {

// The cloud log stream's line:
//   container {"message":"…","timestamp":<ms>,"isStdErr":false,"serviceId":1}
//   system    {"message":"…","timestamp":<ms>,"isSystem":true}
//             (+ "isStdErr":true on errors)
void append_cloud_line(const log_entry& e, std::string& out);

// GET /v2/local/logs's line:
//   container {"serviceName":"main","message":"…","isStdErr":false,
//              "timestamp":<ms>,"serviceId":1}
//   system    {"message":"…","isSystem":true,"isStdErr":false,
//              "timestamp":<ms>}
void append_local_line(const log_entry& e, std::string& out);

// Whether one line append_local_line wrote (no '\n') matches `q`'s time
// and service; count is the caller's. A line that is not a whole JSON
// object (cut short by a crash or a full disk) matches nothing.
bool local_line_matches(std::string_view line, const log_history_query& q);

// The line a local reader gets first: {"message":"Streaming logs",
// "isSystem":true}.
std::string streaming_banner();

} // namespace bosun::log_json
