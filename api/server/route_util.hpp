#pragma once

// Helpers shared by the v1 and v2 route files: request fields, error
// messages, and the answers balena gives to failed actions.
#include "api/server/api_codec.hpp"
#include "api/server/routes.hpp"
#include "messages/app_manager.hpp"

#include <optional>
#include <string>

namespace bosun {

// The body's fields (JSON object or form); answers 400 and returns nullopt
// when the body is neither.
std::optional<api::fields> body_fields(const restinio::request_handle_t& req);

// A query parameter's value (decoded); nullopt when absent or the query is
// malformed.
std::optional<std::string> query_param(const restinio::request_handle_t& req,
                                       const char* name);

// The sentence inside an apps error (or any error's rendering).
std::string error_message(caf::event_based_actor* self, const caf::error& e);

// How a route words the failure of an app_manager request that is not one
// of its own client errors: 423 failed JSON when updates are locked, else
// 503 failed JSON (balena's error middleware).
void reply_action_error(caf::event_based_actor* self,
                        const restinio::request_handle_t& req,
                        const caf::error& e);

} // namespace bosun
