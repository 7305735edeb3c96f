#include "api/server/auth.hpp"

#include <algorithm>
#include <cctype>

namespace bosun::auth {

bool scope::allows(int64_t app_id) const {
  return all || std::find(apps.begin(), apps.end(), app_id) != apps.end();
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

} // namespace

std::optional<std::string>
request_key(const std::optional<std::string>& query_apikey,
            std::string_view authorization) {
  if (query_apikey && !query_apikey->empty())
    return *query_apikey;
  // balena: /^(?:ApiKey|Bearer) (\w+)$/i, exactly one space.
  auto space = authorization.find(' ');
  if (space == std::string_view::npos)
    return std::nullopt;
  auto scheme = authorization.substr(0, space);
  auto key = authorization.substr(space + 1);
  if (!iequals(scheme, "Bearer") && !iequals(scheme, "ApiKey"))
    return std::nullopt;
  if (key.empty() || !std::all_of(key.begin(), key.end(), word_char))
    return std::nullopt;
  return std::string(key);
}

bool is_open_route(std::string_view method, std::string_view path) {
  return method == "GET" && (path == "/ping" || path == "/v1/healthy");
}

verdict decide(bool open_route, bool local_mode,
               const std::optional<std::string>& key) {
  if (open_route || local_mode)
    return verdict::allow_all;
  if (!key)
    return verdict::unauthorized;
  return verdict::lookup;
}

std::optional<scope> scope_of(const std::optional<api_key_record>& record) {
  if (!record)
    return std::nullopt;
  if (record->app_id == 0 && record->service_name.empty())
    return scope::everything();
  return scope{false, {record->app_id}};
}

} // namespace bosun::auth
