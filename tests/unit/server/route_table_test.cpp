// The device API's one table of routes (device_api_routes): which routes are
// open, and that the handler built from it asks every other route for a key
// on a managed device before anything else happens.
#include "api/server/routes.hpp"
#include "tests/support/fake_connection.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <doctest/doctest.h>
#include <regex>
#include <set>

namespace bosun {
namespace {

caf::behavior silent_root() {
  return {[](caf::ping_atom) {}};
}

// A concrete path for a route's pattern (:appId → 71).
std::string concrete(const std::string& pattern) {
  return std::regex_replace(pattern, std::regex(":[A-Za-z]+"), "71");
}

TEST_CASE("the route table: only GET /ping and GET /v1/healthy are open") {
  const auto& routes = device_api_routes();
  REQUIRE(routes.size() > 30);
  std::set<std::string> seen;
  std::set<std::string> open;
  for (const auto& r : routes) {
    std::string id = std::string(r.method.c_str()) + " " + r.path;
    CAPTURE(id);
    CHECK(seen.insert(id).second); // each once
    CHECK(static_cast<bool>(r.handler));
    // The table and the auth rules agree.
    CHECK((r.access == route_access::open)
          == auth::is_open_route(r.method.c_str(), r.path));
    if (r.access == route_access::open)
      open.insert(id);
  }
  CHECK(open == std::set<std::string>{"GET /ping", "GET /v1/healthy"});
  CHECK(seen.count("GET /v2/local/target-state") == 1);
}

TEST_CASE("managed: every keyed route of the table answers 401 without a key "
          "or with a malformed one, before it reads its input") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto root = caf::actor_cast<root_actor>(sys.spawn(silent_root));
  server_options opts;
  opts.local_mode = false;
  auto handler = make_handler(
    {sys, root, opts, std::make_shared<const logger>(log_level::error)});
  for (const auto& r : device_api_routes()) {
    if (r.access == route_access::open)
      continue;
    for (const char* auth_header : {"", "Basic abc", "Bearer a-b"}) {
      CAPTURE(r.method.c_str());
      CAPTURE(r.path);
      CAPTURE(auth_header);
      auto conn = std::make_shared<test::recording_connection>();
      restinio::http_header_fields_t fields;
      if (*auth_header != '\0')
        fields.set_field(restinio::http_field::authorization, auth_header);
      // A body that would be a 400 if it were read first.
      handler(test::make_request(conn, r.method, concrete(r.path), "{",
                                 std::move(fields)));
      auto text = conn->text();
      CHECK(text.rfind("HTTP/1.1 401 ", 0) == 0);
      CHECK(text.find("\r\n\r\nUnauthorized") != std::string::npos);
    }
  }
}

} // namespace
} // namespace bosun
