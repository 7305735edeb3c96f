#pragma once

// The device API's authentication and scopes (reference/api.md "Auth"),
// as pure functions: which requests need a key, where the key comes from,
// what a key may see. The keys themselves live in the api_keys actor
// (messages/api_keys.hpp); routes ask it and feed the answer in here.
//
//  1. GET /ping and GET /v1/healthy are never authenticated.
//  2. Local mode (always on when unmanaged): no auth at all, every app in
//     scope.
//  3. Otherwise a key is needed: query `apikey=`, else the Authorization
//     header "Bearer <key>" or "ApiKey <key>" (scheme in any case, key
//     [A-Za-z0-9_]+). Missing or unknown → 401 text "Unauthorized".
//  4. The global key sees every app; an app key (a supervisor-api service's)
//     sees its own app only. Out-of-scope requests are answered per route:
//     an error (401/409) where one app is named, filtered lists elsewhere.
#include "messages/db.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::auth {

// What an authenticated request may see.
struct scope {
  bool all = false;          // global key, or no auth needed
  std::vector<int64_t> apps; // an app key: its app

  static scope everything() {
    return scope{true, {}};
  }

  bool allows(int64_t app_id) const;
};

// The key a request carries: the query's apikey value when present and not
// empty, else the Authorization header's key; nullopt when neither has one.
std::optional<std::string>
request_key(const std::optional<std::string>& query_apikey,
            std::string_view authorization);

// Routes answered without any key.
bool is_open_route(std::string_view method, std::string_view path);

enum class verdict {
  allow_all,    // no key needed: every app in scope
  lookup,       // ask api_keys about the key, then scope_of()
  unauthorized, // 401 "Unauthorized" now
};

verdict decide(bool open_route, bool local_mode,
               const std::optional<std::string>& key);

// The scope of a key as api_keys found it; nullopt (→ 401) when unknown.
std::optional<scope> scope_of(const std::optional<api_key_record>& record);

} // namespace bosun::auth
