#include "api/client/client.hpp"
#include "api/client/proxy.hpp"
#include "tests/unit/client/test_server.hpp"

#include <array>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <doctest/doctest.h>
#include <memory>
#include <optional>
#include <string>

using namespace bosun::http;
using bosun::test::answer_ok;
using bosun::test::connect_proxy;
using bosun::test::fetch;
using bosun::test::run_until;
using bosun::test::server_conn;
using bosun::test::test_server;
using conn_ptr = std::shared_ptr<server_conn>;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

client_options via(const test_server& proxy,
                   const std::string& authorization = "") {
  client_options opts;
  proxy_server p;
  p.host = "127.0.0.1";
  p.port = proxy.ep().port;
  p.authorization = authorization;
  opts.proxy.server = p;
  return opts;
}

std::string proxy_name(const test_server& proxy) {
  return "http://127.0.0.1:" + std::to_string(proxy.ep().port);
}

uint16_t unused_port(asio::io_context& io) {
  asio::ip::tcp::acceptor probe(
    io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return probe.local_endpoint().port();
}

} // namespace

TEST_SUITE("http client: through a proxy") {
  TEST_CASE("plain HTTP goes to the proxy in absolute form, kept alive") {
    asio::io_context io;
    test_server proxy(io, test_server::kind::tcp);
    answer_ok(proxy, "via proxy");
    auto ep = parse_endpoint("http://api.example.test:8080");
    REQUIRE(ep);
    auto cl = client::make(io, *ep, via(proxy, "Basic YTpi"));
    auto r = fetch(io, *cl, "/v6/device?x=1");
    REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
    CHECK(r.value.body == "via proxy");
    REQUIRE(proxy.requests().size() == 1);
    const auto& req = proxy.requests()[0];
    CHECK(
      req.find("GET http://api.example.test:8080/v6/device?x=1 HTTP/1.1\r\n")
      == 0);
    CHECK(contains(req, "\r\nHost: api.example.test:8080\r\n"));
    CHECK(contains(req, "\r\nProxy-Authorization: Basic YTpi\r\n"));
    r = fetch(io, *cl);
    REQUIRE(r);
    CHECK(proxy.accepts() == 1);
    CHECK(proxy.requests().at(1).find(
            "GET http://api.example.test:8080/v6/device HTTP/1.1\r\n")
          == 0);
  }

  TEST_CASE("TLS goes through a CONNECT tunnel, verified against the target") {
    asio::io_context io;
    test_server target(io, test_server::kind::tls);
    answer_ok(target);
    test_server proxy(io, test_server::kind::tcp);
    connect_proxy(io, proxy, target);
    // The certificate names "localhost": verifying the proxy's 127.0.0.1
    // instead would fail.
    auto opts = via(proxy, "Basic dTpw");
    opts.extra_ca_pem = target.cert().cert_pem;
    opts.user_agent = "bosun-test";
    auto cl = client::make(io, target.ep("localhost"), opts);
    auto r = fetch(io, *cl);
    REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
    CHECK(r.value.body == "secured");
    CHECK(target.sni() == "localhost");
    auto where = "localhost:" + std::to_string(target.ep().port);
    REQUIRE(proxy.requests().size() == 1);
    CHECK(proxy.requests()[0]
          == "CONNECT " + where + " HTTP/1.1\r\nHost: " + where
               + "\r\nUser-Agent: bosun-test\r\n"
                 "Proxy-Authorization: Basic dTpw\r\n\r\n");
    // Inside the tunnel the request is an ordinary one, without the
    // proxy's credentials.
    REQUIRE(target.requests().size() == 1);
    CHECK(target.requests()[0].find("GET /v6/device HTTP/1.1\r\n") == 0);
    CHECK_FALSE(contains(target.requests()[0], "Proxy-Authorization"));
    // Kept alive through the same tunnel.
    r = fetch(io, *cl);
    REQUIRE(r);
    CHECK(proxy.accepts() == 1);
    CHECK(target.accepts() == 1);
  }

  TEST_CASE("a certificate not valid for the target fails through the tunnel "
            "too") {
    asio::io_context io;
    test_server target(io, test_server::kind::tls);
    answer_ok(target);
    test_server proxy(io, test_server::kind::tcp);
    connect_proxy(io, proxy, target);
    auto opts = via(proxy);
    opts.extra_ca_pem = target.cert().cert_pem;
    auto cl = client::make(io, target.ep("127.0.0.1"), opts);
    auto r = fetch(io, *cl);
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::tls);
    CHECK(contains(r.err->message, "not valid for 127.0.0.1"));
    CHECK(target.requests().empty());
  }

  TEST_CASE("a proxy that refuses the tunnel fails with refused and its "
            "status") {
    asio::io_context io;
    test_server target(io, test_server::kind::tls);
    test_server proxy(io, test_server::kind::tcp);
    connect_proxy(io, proxy, target,
                  "HTTP/1.1 407 Proxy Authentication Required\r\n"
                  "Proxy-Authenticate: Basic realm=\"x\"\r\n"
                  "Content-Length: 5\r\n\r\nnope!");
    auto ep = target.ep("localhost");
    auto cl = client::make(io, ep, via(proxy));
    auto r = fetch(io, *cl);
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::refused);
    CHECK(r.err->message.find(to_string(ep) + " via proxy " + proxy_name(proxy)
                              + ": the proxy refused CONNECT localhost:")
          == 0);
    CHECK(contains(r.err->message, "it answered 407"));
    CHECK(contains(r.err->message, "Proxy Authentication Required"));
    CHECK(target.accepts() == 0);
  }

  TEST_CASE("a proxy answering garbage to CONNECT is garbled") {
    asio::io_context io;
    test_server target(io, test_server::kind::tls);
    test_server proxy(io, test_server::kind::tcp);
    connect_proxy(io, proxy, target, "SSH-2.0-OpenSSH\r\n\r\n");
    auto cl = client::make(io, target.ep("localhost"), via(proxy));
    auto r = fetch(io, *cl);
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::garbled);
    CHECK(contains(r.err->message, "via proxy " + proxy_name(proxy)));
  }

  TEST_CASE("a proxy that closes before answering CONNECT is closed") {
    asio::io_context io;
    test_server target(io, test_server::kind::tls);
    test_server proxy(io, test_server::kind::tcp);
    proxy.on_request([](const conn_ptr& c, const std::string&) { c->close(); });
    auto cl = client::make(io, target.ep("localhost"), via(proxy));
    auto r = fetch(io, *cl);
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::closed);
    CHECK(contains(r.err->message, "before answering CONNECT"));
  }

  TEST_CASE("a proxy nobody listens on is refused, and named") {
    asio::io_context io;
    auto port = unused_port(io);
    client_options opts;
    opts.proxy.server = proxy_server{"127.0.0.1", port, ""};
    for (const char* url :
         {"https://api.example.test", "http://api.example.test"}) {
      CAPTURE(url);
      auto ep = parse_endpoint(url);
      REQUIRE(ep);
      auto cl = client::make(io, *ep, opts);
      auto r = fetch(io, *cl);
      REQUIRE_FALSE(r);
      CHECK(r.err->code == errc::refused);
      CHECK(r.err->message
            == to_string(*ep) + " via proxy http://127.0.0.1:"
                 + std::to_string(port) + ": connection refused");
    }
  }

  TEST_CASE("a proxy that never answers CONNECT is a connect timeout") {
    asio::io_context io;
    test_server proxy(io, test_server::kind::tcp); // reads, never answers
    auto ep = parse_endpoint("https://api.example.test");
    REQUIRE(ep);
    auto opts = via(proxy);
    opts.connect_timeout = std::chrono::milliseconds(100);
    auto cl = client::make(io, *ep, opts);
    auto r = fetch(io, *cl);
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::timeout);
    CHECK(contains(r.err->message, "via proxy " + proxy_name(proxy)
                                     + ": timed out connecting after 100 ms"));
    CHECK(proxy.requests().size() == 1);
  }

  TEST_CASE("an unusable proxy setting fails every request without "
            "connecting") {
    asio::io_context io;
    test_server srv(io, test_server::kind::tcp);
    answer_ok(srv);
    client_options opts;
    opts.proxy.source = "https_proxy";
    opts.proxy.error = "https_proxy is unusable: unsupported proxy scheme";
    auto cl = client::make(io, srv.ep(), opts);
    for (int i = 0; i < 2; ++i) {
      auto r = fetch(io, *cl);
      REQUIRE_FALSE(r);
      CHECK(r.err->code == errc::refused);
      CHECK(r.err->message == to_string(srv.ep()) + ": " + opts.proxy.error);
    }
    CHECK(srv.accepts() == 0);
  }

  TEST_CASE("unix sockets ignore the proxy setting") {
    asio::io_context io;
    test_server srv(io, test_server::kind::unix_socket);
    answer_ok(srv, "direct");
    client_options opts;
    opts.proxy.server = proxy_server{"127.0.0.1", 1, ""};
    opts.proxy.error = "ignored";
    auto cl = client::make(io, srv.ep(), opts);
    auto r = fetch(io, *cl);
    REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
    CHECK(r.value.body == "direct");
    CHECK(srv.requests().at(0).find("GET /v6/device HTTP/1.1\r\n") == 0);
  }
}
