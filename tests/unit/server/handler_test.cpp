// The device API's request handler before any route (make_handler): what it
// answers by itself; and the helpers routes call on raw input. Cases found
// by the request fuzzer (tests/fuzz).
#include "api/server/routes.hpp"
#include "tests/support/fake_connection.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <doctest/doctest.h>

namespace bosun {
namespace {

// Nothing here reaches the agent: root is an actor that knows nothing.
caf::behavior silent_root() {
  return {[](caf::ping_atom) {}};
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  root_actor root = caf::actor_cast<root_actor>(sys.spawn(silent_root));
  restinio::default_request_handler_t handler
    = make_handler({sys, root, server_options{},
                    std::make_shared<const logger>(log_level::error)});

  // The response written while the handler ran (empty when none).
  std::string get(std::string target) {
    auto conn = std::make_shared<test::recording_connection>();
    auto status = handler(
      test::make_request(conn, restinio::http_method_get(), std::move(target)));
    CHECK(status == restinio::request_accepted());
    return conn->text();
  }
};

TEST_CASE_FIXTURE(fixture, "a path the router cannot normalize is a 400") {
  // RESTinio's router threw on these, and the server closed the connection
  // without an answer.
  for (const char* target :
       {"/v2/tel%emetry", "/v1/apps/%zz/stop", "/v2/state/status%", "/%C3%28",
        "/v2/device/name%2?apikey=x"}) {
    CAPTURE(target);
    auto text = get(target);
    CHECK(text.rfind("HTTP/1.1 400 ", 0) == 0);
    CHECK(text.find(R"({"status":"failed","message":"Malformed request path"})")
          != std::string::npos);
  }
}

TEST_CASE_FIXTURE(fixture, "valid escapes and malformed queries are routed") {
  // /ping is answered in the handler itself.
  CHECK(get("/ping").rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(get("/%70ing").rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(get("/ping?x=%zz").rfind("HTTP/1.1 200 ", 0) == 0);
}

TEST_CASE("query_truthy reads a query it cannot parse as false") {
  auto truthy = [](std::string target) {
    auto req
      = test::make_request(std::make_shared<test::recording_connection>(),
                           restinio::http_method_post(), std::move(target));
    return query_truthy(req, "force");
  };
  CHECK(truthy("/v2/local/target-state?force=TRUE"));
  CHECK(truthy("/v2/local/target-state?a=1&force=1"));
  CHECK(truthy("/v2/local/target-state?force=o%6E"));
  CHECK_FALSE(truthy("/v2/local/target-state"));
  CHECK_FALSE(truthy("/v2/local/target-state?force=0"));
  // restinio::parse_query threw on these (found by the request fuzzer).
  CHECK_FALSE(truthy("/v2/local/target-state?force=v$rue"));
  CHECK_FALSE(truthy("/v2/local/target-state?force=true&x=%zz"));
  CHECK_FALSE(truthy("/v2/local/target-state?force=%"));
}

} // namespace
} // namespace bosun
