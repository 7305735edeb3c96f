#include "api/client/client.hpp"
#include "tests/unit/client/test_server.hpp"

#include <doctest/doctest.h>
#include <optional>
#include <string>

using namespace bosun::http;
using bosun::test::answer_ok;
using bosun::test::fetch;
using bosun::test::run_until;
using bosun::test::server_conn;
using bosun::test::test_server;
using conn_ptr = std::shared_ptr<server_conn>;

TEST_SUITE("http client: TLS") {
  TEST_CASE("without verification a self-signed server is reached, with "
            "keep-alive") {
    asio::io_context io;
    test_server srv(io, test_server::kind::tls);
    answer_ok(srv);
    client_options opts;
    opts.verify_tls = false;
    auto cl = client::make(io, srv.ep(), opts);
    auto r = fetch(io, *cl);
    REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
    CHECK(r.value.body == "secured");
    r = fetch(io, *cl);
    REQUIRE(r);
    CHECK(srv.accepts() == 1);
    // No SNI for an address.
    CHECK(srv.sni().empty());
  }

  TEST_CASE("the host name goes out as SNI and in the Host header") {
    asio::io_context io;
    test_server srv(io, test_server::kind::tls);
    answer_ok(srv);
    client_options opts;
    opts.verify_tls = false;
    auto cl = client::make(io, srv.ep("localhost"), opts);
    auto r = fetch(io, *cl);
    REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
    CHECK(srv.sni() == "localhost");
    CHECK(srv.requests().at(0).find(
            "\r\nHost: localhost:" + std::to_string(srv.ep().port) + "\r\n")
          != std::string::npos);
  }

  TEST_CASE("with verification an untrusted certificate fails with tls") {
    asio::io_context io;
    test_server srv(io, test_server::kind::tls);
    answer_ok(srv);
    auto cl = client::make(io, srv.ep("localhost"));
    auto r = fetch(io, *cl);
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::tls);
    CHECK(r.err->message.find("https://localhost:") == 0);
    CHECK(r.err->message.find("certificate") != std::string::npos);
    CHECK(srv.requests().empty());
  }

  TEST_CASE("a trusted certificate verifies for its name and no other") {
    asio::io_context io;
    test_server srv(io, test_server::kind::tls);
    answer_ok(srv);
    client_options opts;
    opts.extra_ca_pem = srv.cert().cert_pem;
    auto good = client::make(io, srv.ep("localhost"), opts);
    auto r = fetch(io, *good);
    REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
    CHECK(r.value.body == "secured");

    // The certificate names "localhost", not 127.0.0.1.
    auto wrong_name = client::make(io, srv.ep("127.0.0.1"), opts);
    r = fetch(io, *wrong_name);
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::tls);
    CHECK(r.err->message.find("not valid for 127.0.0.1") != std::string::npos);
    CHECK(srv.requests().size() == 1);
  }

  TEST_CASE("an unreadable extra CA fails every request with tls") {
    asio::io_context io;
    test_server srv(io, test_server::kind::tls);
    client_options opts;
    opts.extra_ca_pem = "-----BEGIN CERTIFICATE-----\nnope\n";
    auto cl = client::make(io, srv.ep("localhost"), opts);
    auto r = fetch(io, *cl);
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::tls);
    CHECK(r.err->message.find("extra CA") != std::string::npos);
    CHECK(srv.accepts() == 0);
  }

  TEST_CASE("a handshake that never completes is a connect timeout") {
    asio::io_context io;
    // A plain TCP server: it reads the ClientHello and never answers.
    test_server srv(io, test_server::kind::tcp);
    auto ep = srv.ep("localhost");
    ep.type = endpoint::kind::tls;
    client_options opts;
    opts.connect_timeout = std::chrono::milliseconds(100);
    auto cl = client::make(io, ep, opts);
    auto r = fetch(io, *cl);
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::timeout);
    CHECK(r.err->message.find("timed out connecting after 100 ms")
          != std::string::npos);
    CHECK(srv.accepts() == 1);

    // A shorter request timeout bounds the connect phase too.
    opts.connect_timeout = std::chrono::seconds(30);
    auto quick = client::make(io, ep, opts);
    std::optional<result<response>> out;
    request req;
    req.timeout = std::chrono::milliseconds(100);
    quick->send(req, [&](result<response> x) { out = std::move(x); });
    REQUIRE(run_until(io, [&] { return out.has_value(); }));
    REQUIRE_FALSE(*out);
    CHECK(out->err->code == errc::timeout);
    CHECK(out->err->message.find("within 100 ms") != std::string::npos);
  }

  TEST_CASE("a chunked stream over TLS arrives and ends") {
    asio::io_context io;
    test_server srv(io, test_server::kind::tls);
    srv.on_request([](const conn_ptr& c, const std::string&) {
      c->send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nabc\r\n0\r\n\r\n");
    });
    client_options opts;
    opts.verify_tls = false;
    auto cl = client::make(io, srv.ep(), opts);
    std::string got;
    std::optional<std::optional<error>> end;
    stream_callbacks cbs;
    cbs.on_data = [&](std::string_view p) { got.append(p); };
    cbs.on_end = [&](std::optional<error> e) { end = std::move(e); };
    request req;
    req.target = "/stream";
    cl->stream(req, cbs);
    REQUIRE(run_until(io, [&] { return end.has_value(); }));
    CHECK_FALSE(*end);
    CHECK(got == "abc");
  }
}
