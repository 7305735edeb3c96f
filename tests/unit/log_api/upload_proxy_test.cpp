#include "api/logs/upload.hpp"
#include "tests/unit/client/test_server.hpp"

#include <doctest/doctest.h>
#include <map>
#include <optional>
#include <string>

using namespace bosun;
using bosun::test::env_of;
using bosun::test::run_until;
using bosun::test::server_conn;
using bosun::test::test_server;
using conn_ptr = std::shared_ptr<server_conn>;

namespace {

http::proxy_setting proxy_at(const test_server& proxy) {
  http::proxy_setting s;
  s.server = http::proxy_server{"127.0.0.1", proxy.ep().port, "Basic YTpi"};
  return s;
}

// Opens a log stream to `t` and waits until it is closed; returns why.
std::optional<std::string> run_stream(asio::io_context& io,
                                      const log_upload::target& t) {
  std::optional<std::optional<std::string>> closed;
  log_upload::events ev;
  ev.closed = [&](std::optional<std::string> why) { closed = std::move(why); };
  auto conn = log_upload::asio_factory(io, t)(std::move(ev));
  REQUIRE(run_until(io, [&] { return closed.has_value(); }));
  return *closed;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const char* unauthorized = "HTTP/1.1 401 Unauthorized\r\n"
                           "Content-Length: 0\r\n\r\n";

} // namespace

TEST_SUITE("logs.upload through a proxy") {
  TEST_CASE("the device target takes its proxy from the environment") {
    auto env = env_of({{"https_proxy", "http://u:p@10.0.0.1:3128"},
                       {"no_proxy", "internal.lan"}});
    auto t = log_upload::device_target("https://api.example.com", "abc", "k",
                                       nullptr, env);
    REQUIRE(t);
    REQUIRE(t->proxy.server);
    CHECK(http::to_string(*t->proxy.server) == "http://10.0.0.1:3128");
    t = log_upload::device_target("https://logs.internal.lan", "abc", "k",
                                  nullptr, env);
    REQUIRE(t);
    CHECK_FALSE(t->proxy.server);
    // TLS is tunnelled: the head is an ordinary one.
    t = log_upload::device_target("https://api.example.com", "abc", "k",
                                  nullptr, env);
    CHECK(log_upload::request_head(*t)->find("POST /device/v2/abc/log-stream "
                                             "HTTP/1.1\r\n")
          == 0);
  }

  TEST_CASE("plain HTTP goes to the proxy in absolute form") {
    auto t = log_upload::device_target(
      "http://logs.example.test:8080", "abc", "k", nullptr,
      env_of({{"http_proxy", "http://u:p@10.0.0.1:3128"}}));
    REQUIRE(t);
    auto head = log_upload::request_head(*t);
    REQUIRE(head);
    CHECK(head->find("POST http://logs.example.test:8080/device/v2/abc/"
                     "log-stream HTTP/1.1\r\nHost: logs.example.test:8080\r\n"
                     "Proxy-Authorization: Basic "
                     + http::base64("u:p") + "\r\n")
          == 0);

    asio::io_context io;
    test_server proxy(io, test_server::kind::tcp);
    proxy.on_request(
      [](const conn_ptr& c, const std::string&) { c->send(unauthorized); });
    t->proxy = proxy_at(proxy);
    t->grace = std::chrono::seconds(30);
    auto why = run_stream(io, *t);
    REQUIRE(why);
    CHECK(*why == "cloud answered 401 Unauthorized");
    REQUIRE(proxy.requests().size() == 1);
    CHECK(proxy.requests()[0].find("POST http://logs.example.test:8080/device/"
                                   "v2/abc/log-stream HTTP/1.1\r\n")
          == 0);
    CHECK(
      contains(proxy.requests()[0], "\r\nProxy-Authorization: Basic YTpi\r\n"));
  }

  TEST_CASE("TLS goes through a CONNECT tunnel to the target") {
    asio::io_context io;
    test_server target(io, test_server::kind::tls);
    target.on_request(
      [](const conn_ptr& c, const std::string&) { c->send(unauthorized); });
    test_server proxy(io, test_server::kind::tcp);
    bosun::test::connect_proxy(io, proxy, target);
    log_upload::target t;
    t.ep = target.ep("localhost");
    t.path = "/device/v2/abc/log-stream";
    t.api_key = "k";
    t.verify_tls = false;
    t.grace = std::chrono::seconds(30);
    t.proxy = proxy_at(proxy);
    auto why = run_stream(io, t);
    REQUIRE(why);
    CHECK(*why == "cloud answered 401 Unauthorized");
    auto where = "localhost:" + std::to_string(target.ep().port);
    REQUIRE(proxy.requests().size() == 1);
    CHECK(proxy.requests()[0].find("CONNECT " + where
                                   + " HTTP/1.1\r\nHost: " + where + "\r\n")
          == 0);
    CHECK(
      contains(proxy.requests()[0], "\r\nProxy-Authorization: Basic YTpi\r\n"));
    CHECK(target.sni() == "localhost");
    REQUIRE(target.requests().size() == 1);
    CHECK(target.requests()[0].find("POST /device/v2/abc/log-stream "
                                    "HTTP/1.1\r\n")
          == 0);
    CHECK_FALSE(contains(target.requests()[0], "Proxy-Authorization"));
  }

  TEST_CASE("a refused tunnel and an unusable setting end the stream, named") {
    asio::io_context io;
    test_server target(io, test_server::kind::tls);
    test_server proxy(io, test_server::kind::tcp);
    bosun::test::connect_proxy(
      io, proxy, target, "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
    log_upload::target t;
    t.ep = target.ep("localhost");
    t.path = "/device/v2/abc/log-stream";
    t.proxy = proxy_at(proxy);
    auto why = run_stream(io, t);
    REQUIRE(why);
    CHECK(contains(*why, " via proxy http://127.0.0.1:"));
    CHECK(contains(*why, "it answered 407"));
    CHECK(target.accepts() == 0);

    t.proxy = {};
    t.proxy.error = "https_proxy is unusable: unsupported proxy scheme";
    why = run_stream(io, t);
    REQUIRE(why);
    CHECK(*why == http::to_string(t.ep) + ": " + t.proxy.error);
    CHECK(target.accepts() == 0);
    CHECK(proxy.accepts() == 1);
  }
}
