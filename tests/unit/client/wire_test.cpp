#include "api/client/client.hpp"
#include "api/client/wire.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace bosun::http;
using state = wire::response_parser::state;

namespace {

// Collects what the parser reports.
struct collector : wire::response_sink {
  int heads = 0;
  int status = 0;
  header_list headers;
  std::string body;
  int pieces = 0;
  bool stop_after_first = false;

  void on_head(int s, header_list& h) override {
    ++heads;
    status = s;
    headers = h;
  }
  bool on_body(std::string_view piece) override {
    ++pieces;
    body.append(piece);
    return !stop_after_first;
  }
};

endpoint unix_ep() {
  endpoint ep;
  ep.path = "/run/docker.sock";
  return ep;
}

// Feeds `bytes` in two parts split at `k`; then EOF when `eof`.
state feed_split(wire::response_parser& p, const std::string& bytes,
                 std::size_t k, bool eof = false) {
  auto st = p.feed(std::string_view(bytes).substr(0, k));
  if (st == state::more)
    st = p.feed(std::string_view(bytes).substr(k));
  if (eof && st == state::more)
    st = p.feed_eof();
  return st;
}

} // namespace

TEST_SUITE("http wire encoding") {
  TEST_CASE("a GET to a unix socket carries Host: localhost and no length") {
    request req;
    req.target = "/v1.41/_ping";
    std::string out;
    REQUIRE(wire::encode(req, unix_ep(), "", out, nullptr));
    CHECK(out == "GET /v1.41/_ping HTTP/1.1\r\nHost: localhost\r\n\r\n");
  }

  TEST_CASE("a POST gets Content-Length even when its body is empty") {
    request req;
    req.method = "POST";
    req.target = "/v1.41/containers/x/start";
    std::string out;
    REQUIRE(wire::encode(req, unix_ep(), "bosun/0.1", out, nullptr));
    CHECK(out
          == "POST /v1.41/containers/x/start HTTP/1.1\r\nHost: localhost\r\n"
             "User-Agent: bosun/0.1\r\nContent-Length: 0\r\n\r\n");
  }

  TEST_CASE("a body is sent after its Content-Length") {
    request req;
    req.method = "PUT";
    req.headers = {{"Content-Type", "application/json"}};
    req.body = "{\"a\":1}";
    std::string out;
    REQUIRE(wire::encode(req, unix_ep(), "", out, nullptr));
    CHECK(out
          == "PUT / HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
             "application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
  }

  TEST_CASE("headers the caller set are not duplicated") {
    request req;
    req.method = "POST";
    req.headers
      = {{"host", "docker"}, {"user-agent", "mine"}, {"content-length", "0"}};
    std::string out;
    REQUIRE(wire::encode(req, unix_ep(), "bosun", out, nullptr));
    CHECK(out
          == "POST / HTTP/1.1\r\nhost: docker\r\nuser-agent: mine\r\n"
             "content-length: 0\r\n\r\n");
  }

  TEST_CASE("the Host header names a non-default port and brackets IPv6") {
    endpoint ep;
    ep.type = endpoint::kind::tcp;
    ep.host = "api.example.com";
    ep.port = 80;
    CHECK(wire::host_header(ep) == "api.example.com");
    ep.port = 8080;
    CHECK(wire::host_header(ep) == "api.example.com:8080");
    ep.type = endpoint::kind::tls;
    ep.port = 443;
    CHECK(wire::host_header(ep) == "api.example.com");
    ep.host = "::1";
    ep.port = 48484;
    CHECK(wire::host_header(ep) == "[::1]:48484");
  }

  TEST_CASE("line breaks that would smuggle a second request are refused") {
    std::string out;
    std::string why;
    request req;
    req.headers = {{"X-Evil", "a\r\nHost: other"}};
    CHECK_FALSE(wire::encode(req, unix_ep(), "", out, &why));
    CHECK(why.find("X-Evil") != std::string::npos);
    req = request{};
    req.target = "/x HTTP/1.1\r\n\r\nGET /y";
    CHECK_FALSE(wire::encode(req, unix_ep(), "", out, &why));
    req = request{};
    req.target = "relative";
    CHECK_FALSE(wire::encode(req, unix_ep(), "", out, &why));
    req = request{};
    req.method = "GET /";
    CHECK_FALSE(wire::encode(req, unix_ep(), "", out, &why));
    req = request{};
    req.headers = {{"Bad Name", "v"}};
    CHECK_FALSE(wire::encode(req, unix_ep(), "", out, &why));
    CHECK_FALSE(wire::encode(request{}, unix_ep(), "ua\n", out, &why));
  }
}

TEST_SUITE("http response parser") {
  TEST_CASE("a Content-Length body gives status, headers and body") {
    collector c;
    wire::response_parser p(c);
    std::string bytes = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n"
                        "Content-Length: 2\r\n\r\nOK";
    CHECK(p.feed(bytes) == state::complete);
    CHECK(c.status == 200);
    REQUIRE(c.headers.size() == 2);
    CHECK(c.headers[0].first == "Api-Version");
    CHECK(c.headers[0].second == "1.41");
    CHECK(c.body == "OK");
    CHECK(p.keep_alive());
  }

  TEST_CASE("a chunked response decodes the same at every split point") {
    std::string bytes = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n"
                        "7\r\n{\"a\":1}\r\n"
                        "19\r\n{\"status\":\"Downloading\"}\n\r\n"
                        "3;ext=1\r\nend\r\n"
                        "0\r\n\r\n";
    for (std::size_t k = 0; k <= bytes.size(); ++k) {
      CAPTURE(k);
      collector c;
      wire::response_parser p(c);
      REQUIRE(feed_split(p, bytes, k) == state::complete);
      CHECK(c.heads == 1);
      CHECK(c.status == 200);
      REQUIRE(c.headers.size() == 2);
      CHECK(c.headers[0].first == "Content-Type");
      CHECK(c.headers[0].second == "application/json");
      CHECK(c.body == "{\"a\":1}{\"status\":\"Downloading\"}\nend");
      CHECK(p.keep_alive());
    }
  }

  TEST_CASE("a Content-Length response decodes the same at every split") {
    std::string bytes = "HTTP/1.1 404 Not Found\r\nContent-Length: 29\r\n\r\n"
                        "{\"message\":\"No such image\"}\n\n";
    for (std::size_t k = 0; k <= bytes.size(); ++k) {
      CAPTURE(k);
      collector c;
      wire::response_parser p(c);
      REQUIRE(feed_split(p, bytes, k) == state::complete);
      CHECK(c.status == 404);
      CHECK(c.body == "{\"message\":\"No such image\"}\n\n");
    }
  }

  TEST_CASE("an EOF-delimited body ends with the connection") {
    std::string bytes = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it";
    for (std::size_t k = 0; k <= bytes.size(); ++k) {
      CAPTURE(k);
      collector c;
      wire::response_parser p(c);
      REQUIRE(feed_split(p, bytes, k, true) == state::complete);
      CHECK(c.body == "all of it");
      CHECK_FALSE(p.keep_alive());
    }
  }

  TEST_CASE("HEAD, 204 and 304 responses have no body") {
    collector head;
    wire::response_parser hp(head, true);
    CHECK(hp.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
          == state::complete);
    CHECK(hp.keep_alive());
    CHECK(head.body.empty());

    for (auto status : {"204 No Content", "304 Not Modified"}) {
      collector c;
      wire::response_parser p(c);
      CHECK(p.feed(std::string("HTTP/1.1 ") + status + "\r\n\r\n")
            == state::complete);
      CHECK(p.keep_alive());
      CHECK(c.pieces == 0);
    }
  }

  TEST_CASE("100 Continue is skipped for the real response") {
    collector c;
    wire::response_parser p(c);
    CHECK(p.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                 "Content-Length: 1\r\n\r\nx")
          == state::complete);
    CHECK(c.heads == 1);
    CHECK(c.status == 201);
    CHECK(c.body == "x");
  }

  TEST_CASE("a response cut short is truncated, not complete") {
    collector c;
    wire::response_parser p(c);
    CHECK(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
          == state::more);
    CHECK(p.feed_eof() == state::truncated);
    CHECK(p.saw_bytes());

    collector none;
    wire::response_parser q(none);
    CHECK(q.feed_eof() == state::truncated);
    CHECK_FALSE(q.saw_bytes());
  }

  TEST_CASE("bytes that are not HTTP fail with http_parser's reason") {
    collector c;
    wire::response_parser p(c);
    CHECK(p.feed("HTTP/1.1 abc\r\n") == state::failed);
    CHECK(p.error().find("HPE_INVALID_STATUS") != std::string::npos);
    CHECK(p.error().find("invalid HTTP status code") != std::string::npos);

    collector d;
    wire::response_parser q(d);
    CHECK(q.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
          == state::failed);
    CHECK(q.error().find("HPE_INVALID_CHUNK_SIZE") != std::string::npos);
  }

  TEST_CASE("the connection is not reused after close, HTTP/1.0 or surplus") {
    collector a;
    wire::response_parser close(a);
    CHECK(close.feed("HTTP/1.1 200 OK\r\nConnection: close\r\n"
                     "Content-Length: 0\r\n\r\n")
          == state::complete);
    CHECK_FALSE(close.keep_alive());

    collector b;
    wire::response_parser old(b);
    CHECK(old.feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
          == state::complete);
    CHECK_FALSE(old.keep_alive());

    collector c;
    wire::response_parser surplus(c);
    CHECK(surplus.feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy")
          == state::complete);
    CHECK(surplus.surplus() == 1);
    CHECK_FALSE(surplus.keep_alive());
  }

  TEST_CASE("a sink that returns false stops the parser") {
    collector c;
    c.stop_after_first = true;
    wire::response_parser p(c);
    CHECK(p.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "1\r\na\r\n1\r\nb\r\n0\r\n\r\n")
          == state::stopped);
    CHECK(c.body == "a");
  }
}

TEST_SUITE("endpoint URLs") {
  TEST_CASE("unix sockets, as URL or bare path") {
    auto a = parse_endpoint("unix:///var/run/docker.sock");
    REQUIRE(a);
    CHECK(a->type == endpoint::kind::unix_socket);
    CHECK(a->path == "/var/run/docker.sock");
    CHECK(to_string(*a) == "unix:///var/run/docker.sock");
    auto b = parse_endpoint("/run/balena-engine.sock");
    REQUIRE(b);
    CHECK(b->path == "/run/balena-engine.sock");
  }

  TEST_CASE("http, https and tcp with default and explicit ports") {
    auto a = parse_endpoint("https://api.balena-cloud.com/");
    REQUIRE(a);
    CHECK(a->type == endpoint::kind::tls);
    CHECK(a->host == "api.balena-cloud.com");
    CHECK(a->port == 443);
    auto b = parse_endpoint("http://127.0.0.1:48484");
    REQUIRE(b);
    CHECK(b->type == endpoint::kind::tcp);
    CHECK(b->port == 48484);
    CHECK(to_string(*b) == "http://127.0.0.1:48484");
    auto c = parse_endpoint("tcp://10.0.0.2:2375");
    REQUIRE(c);
    CHECK(c->type == endpoint::kind::tcp);
    CHECK(c->port == 2375);
    auto d = parse_endpoint("http://[::1]:8080");
    REQUIRE(d);
    CHECK(d->host == "::1");
    CHECK(d->port == 8080);
    CHECK(to_string(*d) == "http://[::1]:8080");
  }

  TEST_CASE("anything else is refused with a reason") {
    for (auto url :
         {"", "ftp://x", "unix://relative", "http://",
          "http://host:", "http://host:0", "http://host:65536",
          "http://host:8o", "tcp://host", "http://host/path",
          "http://user@host", "http://[::1", "http://[::1]x", "docker.sock"}) {
      CAPTURE(url);
      std::string why;
      CHECK_FALSE(parse_endpoint(url, &why));
      CHECK_FALSE(why.empty());
    }
    std::string long_path = "/" + std::string(200, 'a');
    CHECK_FALSE(parse_endpoint(long_path));
  }
}
