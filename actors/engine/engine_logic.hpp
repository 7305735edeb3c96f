#pragma once

// Pure pieces of the engine actor: error mapping, reconnect backoff, the
// events resume point. No I/O, no clock, no CAF actors; unit-tested.
#include "api/client/client.hpp"
#include "messages/engine.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace bosun::engine_logic {

// An engine reply with a non-2xx status as a typed error whose context is the
// engine's message: 404 -> not_found, 409 -> conflict, 304 -> not_modified,
// 400 and other 4xx -> bad_request, 5xx -> server_error. `what` names the
// request for replies without a message body (e.g. 304).
caf::error from_status(int status, std::string_view body,
                       std::string_view what = {});

// A transport failure: refused/closed/cancelled/tls -> unavailable,
// timeout -> timeout, garbled -> protocol.
caf::error from_transport(const http::error& err);

// Whether a transport failure means the engine is gone (not just slow).
bool means_down(const http::error& err);

// Delay before reconnect probe number `attempt` (0-based): initial * 2^attempt,
// capped at `max`.
std::chrono::milliseconds backoff_delay(uint32_t attempt,
                                        std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max);

// The `since` value that resumes /events right after an event seen at
// `time_nano` (unix ns): "<seconds>.<nanoseconds, 9 digits>" one nanosecond
// later, since the engine replays events at or after `since`.
std::string resume_since(int64_t time_nano);

// Appends "since=<since>" to an events target that may already have a query.
std::string with_since(std::string target, std::string_view since);

} // namespace bosun::engine_logic
