#include "actors/engine/engine_logic.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;

namespace bosun {

TEST_SUITE("engine_logic") {
  TEST_CASE(
    "an engine error reply becomes a typed error carrying its message") {
    auto e = engine_logic::from_status(
      404, R"({"message":"No such container: web"})");
    CHECK(e == engine_errc::not_found);
    CHECK(engine_error_message(e) == "No such container: web");
    CHECK(render_engine_error(e) == "engine not_found: No such container: web");
  }

  TEST_CASE("maps each status class to its code") {
    auto body = std::string{R"({"message":"m"})"};
    CHECK(engine_logic::from_status(409, body) == engine_errc::conflict);
    CHECK(engine_logic::from_status(400, body) == engine_errc::bad_request);
    CHECK(engine_logic::from_status(500, body) == engine_errc::server_error);
    CHECK(engine_logic::from_status(503, body) == engine_errc::server_error);
    auto forbidden = engine_logic::from_status(403, body);
    CHECK(forbidden == engine_errc::bad_request);
    CHECK(engine_error_message(forbidden) == "HTTP 403: m");
  }

  TEST_CASE("a bodiless 304 says what was already done") {
    auto e = engine_logic::from_status(304, "", "container already started: x");
    CHECK(e == engine_errc::not_modified);
    CHECK(engine_error_message(e) == "container already started: x");
    CHECK(engine_error_message(engine_logic::from_status(500, ""))
          == "HTTP 500");
  }

  TEST_CASE("a non-JSON error body is kept as the message") {
    auto e = engine_logic::from_status(500, "  boom\n");
    CHECK(e == engine_errc::server_error);
    CHECK(engine_error_message(e) == "boom");
  }

  TEST_CASE("transport failures map to unavailable, timeout or protocol") {
    using http::errc;
    auto map = [](errc c) {
      return engine_logic::from_transport(http::error{c, "why"});
    };
    CHECK(map(errc::refused) == engine_errc::unavailable);
    CHECK(map(errc::closed) == engine_errc::unavailable);
    CHECK(map(errc::cancelled) == engine_errc::unavailable);
    CHECK(map(errc::tls) == engine_errc::unavailable);
    CHECK(map(errc::timeout) == engine_errc::timeout);
    CHECK(map(errc::garbled) == engine_errc::protocol);
    CHECK(engine_error_message(map(errc::refused)) == "why");
    CHECK(engine_logic::means_down(http::error{errc::refused, ""}));
    CHECK(engine_logic::means_down(http::error{errc::closed, ""}));
    CHECK_FALSE(engine_logic::means_down(http::error{errc::timeout, ""}));
    CHECK_FALSE(engine_logic::means_down(http::error{errc::cancelled, ""}));
  }

  TEST_CASE("reconnect delays double from the first up to the cap") {
    auto d
      = [](uint32_t n) { return engine_logic::backoff_delay(n, 250ms, 10s); };
    CHECK(d(0) == 250ms);
    CHECK(d(1) == 500ms);
    CHECK(d(2) == 1s);
    CHECK(d(5) == 8s);
    CHECK(d(6) == 10s);
    CHECK(d(4000000000u) == 10s);
    CHECK(engine_logic::backoff_delay(3, 20s, 10s) == 10s);
  }

  TEST_CASE("events resume one nanosecond after the last event seen") {
    CHECK(engine_logic::resume_since(1700000000123456789)
          == "1700000000.123456790");
    CHECK(engine_logic::resume_since(1700000000999999999)
          == "1700000001.000000000");
    CHECK(engine_logic::with_since("/v1.41/events", "1.000000002")
          == "/v1.41/events?since=1.000000002");
    CHECK(engine_logic::with_since("/v1.41/events?filters=x", "5.5")
          == "/v1.41/events?filters=x&since=5.5");
  }

  TEST_CASE("renders non-engine errors and no error") {
    CHECK(render_engine_error(caf::error{}) == "");
    CHECK(render_engine_error(caf::make_error(caf::sec::request_timeout))
          != "");
    CHECK(engine_error_message(caf::make_error(engine_errc::timeout)) == "");
    CHECK(render_engine_error(caf::make_error(engine_errc::timeout))
          == "engine timeout");
  }
}

} // namespace bosun
