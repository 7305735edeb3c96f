#include "api/client/client.hpp"
#include "tests/unit/client/test_server.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <doctest/doctest.h>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace bosun::http;
using namespace std::chrono_literals;
using bosun::test::run_until;
using bosun::test::server_conn;
using bosun::test::test_server;
using conn_ptr = std::shared_ptr<server_conn>;

namespace {

std::string ok_response(const std::string& body,
                        const std::string& extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size())
         + "\r\n" + extra_headers + "\r\n" + body;
}

std::string chunk(const std::string& piece) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx", piece.size());
  return std::string(size) + "\r\n" + piece + "\r\n";
}

const std::string stream_head
  = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

request get(std::string target = "/_ping") {
  request req;
  req.target = std::move(target);
  return req;
}

// Sends one request and runs the io_context until its callback ran, then
// checks that it ran exactly once.
result<response> send_wait(asio::io_context& io, client& c, request req) {
  std::optional<result<response>> out;
  int calls = 0;
  c.send(std::move(req), [&](result<response> r) {
    ++calls;
    out = std::move(r);
  });
  REQUIRE(run_until(io, [&] { return calls > 0; }));
  io.poll(); // anything queued that would call back again
  CHECK(calls == 1);
  return std::move(*out);
}

// Records a stream's callbacks.
struct stream_log {
  int heads = 0;
  int status = 0;
  std::vector<std::string> pieces;
  int ends = 0;
  std::optional<error> end_error;
  // Called after each piece is recorded.
  std::function<void(std::size_t)> after_piece;

  stream_callbacks callbacks() {
    stream_callbacks cbs;
    cbs.on_head = [this](int s, const header_list&) {
      ++heads;
      status = s;
    };
    cbs.on_data = [this](std::string_view p) {
      pieces.emplace_back(p);
      if (after_piece)
        after_piece(pieces.size());
    };
    cbs.on_end = [this](std::optional<error> e) {
      ++ends;
      end_error = std::move(e);
    };
    return cbs;
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_SUITE("http client: responses") {
  TEST_CASE("a Content-Length response arrives whole, on unix and TCP") {
    for (auto kind : {test_server::kind::unix_socket, test_server::kind::tcp}) {
      CAPTURE(static_cast<int>(kind));
      asio::io_context io;
      test_server srv(io, kind);
      srv.on_request([](const conn_ptr& c, const std::string&) {
        c->send(ok_response("OK", "Api-Version: 1.41\r\n"));
      });
      auto cl = client::make(io, srv.ep());
      auto r = send_wait(io, *cl, get("/_ping"));
      REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
      CHECK(r.value.status == 200);
      CHECK(r.value.body == "OK");
      CHECK(r.value.header("api-version") == "1.41");
      CHECK(r.value.header("X-Missing").empty());
      REQUIRE(srv.requests().size() == 1);
      CHECK(contains(srv.requests()[0], "GET /_ping HTTP/1.1\r\n"));
      if (kind == test_server::kind::unix_socket)
        CHECK(contains(srv.requests()[0], "\r\nHost: localhost\r\n"));
      else
        CHECK(contains(srv.requests()[0],
                       "\r\nHost: 127.0.0.1:" + std::to_string(srv.ep().port)
                         + "\r\n"));
    }
  }

  TEST_CASE(
    "a chunked response decodes the same whatever byte it is split at") {
    asio::io_context io;
    test_server srv(io);
    std::string bytes = stream_head
                        + chunk("{\"status\":\"Pulling fs layer\"}\n")
                        + chunk("{\"id\":") + chunk("\"abc\"}\n") + "0\r\n\r\n";
    std::size_t k = 0;
    // The second part goes out only once the client has read the first, so
    // the client's parser really sees the split.
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      auto rest = bytes.substr(k);
      c->send(bytes.substr(0, k), [c, rest] {
        c->send(rest);
        c->next();
      });
    });
    auto cl = client::make(io, srv.ep());
    for (k = 0; k <= bytes.size(); ++k) {
      CAPTURE(k);
      auto r = send_wait(io, *cl, get("/images/create"));
      REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
      CHECK(r.value.status == 200);
      CHECK(r.value.body
            == "{\"status\":\"Pulling fs layer\"}\n{\"id\":\"abc\"}\n");
    }
    // Every response was complete, so one connection carried them all.
    CHECK(srv.accepts() == 1);
  }

  TEST_CASE("an EOF-delimited body ends when the server closes") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([](const conn_ptr& c, const std::string&) {
      c->send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
              [c] { c->close(); });
    });
    auto cl = client::make(io, srv.ep());
    auto r = send_wait(io, *cl, get());
    REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
    CHECK(r.value.body == "until the end");
  }

  TEST_CASE("HEAD, 204 and 304 responses end without a body") {
    asio::io_context io;
    test_server srv(io);
    std::vector<std::string> replies
      = {"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n",
         "HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\n\r\n",
         ok_response("after")};
    std::size_t next = 0;
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      c->send(replies.at(next++));
      c->next();
    });
    auto cl = client::make(io, srv.ep());
    request head = get("/images/x/json");
    head.method = "HEAD";
    auto r = send_wait(io, *cl, head);
    REQUIRE(r);
    CHECK(r.value.status == 200);
    CHECK(r.value.header("Content-Length") == "1234");
    CHECK(r.value.body.empty());
    request post = get("/containers/x/start");
    post.method = "POST";
    r = send_wait(io, *cl, post);
    REQUIRE(r);
    CHECK(r.value.status == 204);
    r = send_wait(io, *cl, get());
    REQUIRE(r);
    CHECK(r.value.status == 304);
    // Had any of these waited for a body, this would read the wrong bytes.
    r = send_wait(io, *cl, get());
    REQUIRE(r);
    CHECK(r.value.body == "after");
    CHECK(srv.accepts() == 1);
    CHECK(contains(srv.requests().at(1), "\r\nContent-Length: 0\r\n"));
  }

  TEST_CASE("a large body spanning many reads arrives intact") {
    asio::io_context io;
    test_server srv(io);
    std::string body;
    for (int i = 0; body.size() < std::size_t{1024} * 1024; ++i)
      body += std::to_string(i) + ",";
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      c->send(ok_response(body));
    });
    auto cl = client::make(io, srv.ep());
    auto r = send_wait(io, *cl, get());
    REQUIRE(r);
    CHECK(r.value.body.size() == body.size());
    CHECK(r.value.body == body);
  }

  TEST_CASE("a request body reaches the server with its length") {
    asio::io_context io;
    test_server srv(io, test_server::kind::tcp);
    srv.on_request([](const conn_ptr& c, const std::string&) {
      c->send(ok_response("{}"));
    });
    client_options opts;
    opts.user_agent = "bosun-test";
    auto cl = client::make(io, srv.ep(), opts);
    request req = get("/containers/create?name=main_1");
    req.method = "POST";
    req.headers = {{"Content-Type", "application/json"}};
    req.body = "{\"Image\":\"busybox\"}";
    REQUIRE(send_wait(io, *cl, req));
    REQUIRE(srv.requests().size() == 1);
    const auto& seen = srv.requests()[0];
    CHECK(contains(seen, "POST /containers/create?name=main_1 HTTP/1.1\r\n"));
    CHECK(contains(seen, "\r\nUser-Agent: bosun-test\r\n"));
    CHECK(contains(seen, "\r\nContent-Length: 19\r\n"));
    CHECK(contains(seen, "\r\n\r\n{\"Image\":\"busybox\"}"));
  }
}

TEST_SUITE("http client: keep-alive") {
  TEST_CASE("sequential requests share one connection") {
    for (auto kind : {test_server::kind::unix_socket, test_server::kind::tcp}) {
      CAPTURE(static_cast<int>(kind));
      asio::io_context io;
      test_server srv(io, kind);
      srv.on_request([](const conn_ptr& c, const std::string&) {
        c->send(ok_response("OK"));
        c->next();
      });
      auto cl = client::make(io, srv.ep());
      REQUIRE(send_wait(io, *cl, get()));
      REQUIRE(send_wait(io, *cl, get()));
      CHECK(srv.accepts() == 1);
      CHECK(srv.requests().size() == 2);
    }
  }

  TEST_CASE("Connection: close from the server means a new connection") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([](const conn_ptr& c, const std::string&) {
      c->send(ok_response("bye", "Connection: close\r\n"), [c] { c->close(); });
    });
    auto cl = client::make(io, srv.ep());
    REQUIRE(send_wait(io, *cl, get()));
    auto r = send_wait(io, *cl, get());
    REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
    CHECK(r.value.body == "bye");
    CHECK(srv.accepts() == 2);
  }

  TEST_CASE("Connection: close from the caller is honoured too") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([](const conn_ptr& c, const std::string&) {
      c->send(ok_response("OK"));
      c->next();
    });
    auto cl = client::make(io, srv.ep());
    request req = get();
    req.headers = {{"Connection", "close"}};
    REQUIRE(send_wait(io, *cl, req));
    REQUIRE(send_wait(io, *cl, get()));
    CHECK(srv.accepts() == 2);
  }

  TEST_CASE("an idle connection the server closed is not reused") {
    asio::io_context io;
    test_server srv(io);
    bool closed = false;
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      if (c->index == 1) {
        c->send(ok_response("first"), [c, &closed] {
          c->close();
          closed = true;
        });
        return;
      }
      c->send(ok_response("second"));
    });
    auto cl = client::make(io, srv.ep());
    REQUIRE(send_wait(io, *cl, get()));
    REQUIRE(run_until(io, [&] { return closed; }));
    auto r = send_wait(io, *cl, get());
    REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
    CHECK(r.value.body == "second");
    CHECK(srv.accepts() == 2);
  }

  TEST_CASE("a reused connection closed before any response byte is retried "
            "once, even for POST") {
    asio::io_context io;
    test_server srv(io);
    int seen = 0;
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      ++seen;
      if (seen == 2)
        return c->close(); // the idle-timeout race: request read, no answer
      c->send(ok_response("answer " + std::to_string(seen)));
      c->next();
    });
    auto cl = client::make(io, srv.ep());
    REQUIRE(send_wait(io, *cl, get()));
    request post = get("/containers/x/stop");
    post.method = "POST";
    auto r = send_wait(io, *cl, post);
    REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
    CHECK(r.value.body == "answer 3");
    CHECK(srv.accepts() == 2);
    CHECK(srv.requests().size() == 3);
  }

  TEST_CASE("the retry happens only once") {
    asio::io_context io;
    test_server srv(io);
    int seen = 0;
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      if (++seen == 1) {
        c->send(ok_response("OK"));
        return c->next();
      }
      c->close();
    });
    auto cl = client::make(io, srv.ep());
    REQUIRE(send_wait(io, *cl, get()));
    auto r = send_wait(io, *cl, get("/again"));
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::closed);
    CHECK(contains(r.err->message, srv.ep().path));
    CHECK(contains(r.err->message, "before responding"));
    CHECK(srv.accepts() == 2);
    CHECK(srv.requests().size() == 3);
  }

  TEST_CASE("a fresh connection closed before responding is not retried") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([](const conn_ptr& c, const std::string&) { c->close(); });
    auto cl = client::make(io, srv.ep());
    auto r = send_wait(io, *cl, get());
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::closed);
    CHECK(srv.accepts() == 1);
  }

  TEST_CASE("concurrent requests use parallel connections, then the pool") {
    asio::io_context io;
    test_server srv(io);
    std::vector<conn_ptr> waiting;
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      // Answer once all three are in, proving they were concurrent.
      waiting.push_back(c);
      if (waiting.size() == 3 && srv.accepts() == 3)
        for (auto& w : waiting) {
          w->send(ok_response("OK"));
          w->next();
        }
      else if (srv.requests().size() > 3) {
        c->send(ok_response("pooled"));
        c->next();
      }
    });
    client_options opts;
    opts.max_idle_connections = 2;
    auto cl = client::make(io, srv.ep(), opts);
    int ok = 0;
    for (int i = 0; i < 3; ++i)
      cl->send(get(), [&](const result<response>& r) { ok += r ? 1 : 0; });
    REQUIRE(run_until(io, [&] { return ok == 3; }));
    CHECK(srv.accepts() == 3);
    auto r = send_wait(io, *cl, get());
    REQUIRE(r);
    CHECK(r.value.body == "pooled");
    CHECK(srv.accepts() == 3);
    // Only two of the three went back to the pool; the third was closed.
    REQUIRE(run_until(io, [&] { return srv.client_closes() == 1; }));
  }

  TEST_CASE("a pooled connection idle for idle_timeout is closed") {
    for (auto kind : {test_server::kind::unix_socket, test_server::kind::tcp}) {
      CAPTURE(static_cast<int>(kind));
      asio::io_context io;
      test_server srv(io, kind);
      srv.on_request([](const conn_ptr& c, const std::string&) {
        c->send(ok_response("OK"));
        c->next();
      });
      client_options opts;
      opts.idle_timeout = std::chrono::milliseconds{100};
      auto cl = client::make(io, srv.ep(), opts);
      // Back to back: the pool's connection is reused.
      REQUIRE(send_wait(io, *cl, get()));
      REQUIRE(send_wait(io, *cl, get()));
      CHECK(srv.accepts() == 1);
      // Then idle: the client closes it (the server sees EOF) ...
      CHECK(run_until(io, [&] { return srv.client_closes() == 1; }));
      // ... and the next request has a new one.
      REQUIRE(send_wait(io, *cl, get()));
      CHECK(srv.accepts() == 2);
      CHECK(run_until(io, [&] { return srv.client_closes() == 2; }));
    }
  }

  TEST_CASE("max_idle_connections = 0 disables reuse") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([](const conn_ptr& c, const std::string&) {
      c->send(ok_response("OK"));
      c->next();
    });
    client_options opts;
    opts.max_idle_connections = 0;
    auto cl = client::make(io, srv.ep(), opts);
    REQUIRE(send_wait(io, *cl, get()));
    REQUIRE(send_wait(io, *cl, get()));
    CHECK(srv.accepts() == 2);
  }
}

TEST_SUITE("http client: errors") {
  TEST_CASE("nothing listening on a TCP port is refused") {
    asio::io_context io;
    uint16_t port = 0;
    {
      asio::ip::tcp::acceptor probe(
        io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      port = probe.local_endpoint().port();
    }
    auto ep = parse_endpoint("http://127.0.0.1:" + std::to_string(port));
    REQUIRE(ep);
    auto cl = client::make(io, *ep);
    auto r = send_wait(io, *cl, get());
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::refused);
    CHECK(r.err->message
          == "http://127.0.0.1:" + std::to_string(port)
               + ": connection refused");
  }

  TEST_CASE("a missing socket path is refused") {
    asio::io_context io;
    endpoint ep;
    ep.path = "/tmp/bosun-client-no-such-dir/docker.sock";
    auto cl = client::make(io, ep);
    auto r = send_wait(io, *cl, get());
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::refused);
    CHECK(contains(r.err->message, "unix:///tmp/bosun-client-no-such-dir/"
                                   "docker.sock: connection refused"));
    CHECK(contains(r.err->message, "No such file"));
  }

  TEST_CASE("a socket file nobody listens on is refused") {
    asio::io_context io;
    test_server srv(io);
    srv.stop_listening();
    auto cl = client::make(io, srv.ep());
    auto r = send_wait(io, *cl, get());
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::refused);
    CHECK(r.err->message == "unix://" + srv.ep().path + ": connection refused");
  }

  TEST_CASE("bytes that are not HTTP are garbled, with the parser's reason") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([](const conn_ptr& c, const std::string&) {
      c->send("HTTP/1.1 abc\r\n");
    });
    auto cl = client::make(io, srv.ep());
    auto r = send_wait(io, *cl, get());
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::garbled);
    CHECK(contains(r.err->message, "unix://" + srv.ep().path));
    CHECK(contains(r.err->message, "HPE_INVALID_STATUS"));
    CHECK(contains(r.err->message, "invalid HTTP status code"));
  }

  TEST_CASE("a server that never answers times out") {
    asio::io_context io;
    test_server srv(io);
    auto cl = client::make(io, srv.ep());
    request req = get();
    req.timeout = 100ms;
    auto start = std::chrono::steady_clock::now();
    auto r = send_wait(io, *cl, req);
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::timeout);
    CHECK(std::chrono::steady_clock::now() - start >= 100ms);
    CHECK(contains(r.err->message, "no complete response to GET /_ping within "
                                   "100 ms"));
    CHECK(srv.requests().size() == 1);
  }

  TEST_CASE("a server closing mid-body is closed, not complete") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([](const conn_ptr& c, const std::string&) {
      c->send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
              [c] { c->close(); });
    });
    auto cl = client::make(io, srv.ep());
    auto r = send_wait(io, *cl, get());
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::closed);
    CHECK(contains(r.err->message, "mid-response"));
  }

  TEST_CASE("a request that would break the framing is never sent") {
    asio::io_context io;
    test_server srv(io);
    auto cl = client::make(io, srv.ep());
    request req = get();
    req.headers = {{"X-Name", "a\r\nb"}};
    auto r = send_wait(io, *cl, req);
    REQUIRE_FALSE(r);
    CHECK(r.err->code == errc::garbled);
    CHECK(srv.accepts() == 0);
  }

  TEST_CASE("error codes have names") {
    CHECK(std::string(to_string(errc::refused)) == "refused");
    CHECK(std::string(to_string(errc::cancelled)) == "cancelled");
  }
}

TEST_SUITE("http client: streams") {
  TEST_CASE("pieces arrive one by one as the server sends them") {
    asio::io_context io;
    test_server srv(io);
    conn_ptr held;
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      held = c;
      c->send(stream_head + chunk("one\n"));
    });
    auto cl = client::make(io, srv.ep());
    stream_log log;
    // The server sends each chunk only after the client got the previous one.
    log.after_piece = [&](std::size_t n) {
      CHECK(log.ends == 0);
      if (n == 1)
        held->send(chunk("two\n"));
      else if (n == 2)
        held->send(chunk("three\n"));
      else if (n == 3)
        held->send("0\r\n\r\n");
    };
    request req = get("/events");
    req.timeout = 0ms;
    auto handle = cl->stream(req, log.callbacks());
    REQUIRE(run_until(io, [&] { return log.ends > 0; }));
    io.poll();
    CHECK(log.heads == 1);
    CHECK(log.status == 200);
    CHECK(log.pieces == std::vector<std::string>{"one\n", "two\n", "three\n"});
    CHECK(log.ends == 1);
    CHECK_FALSE(log.end_error);
    handle.cancel(); // after the end: nothing happens
    io.poll();
    CHECK(log.ends == 1);
  }

  TEST_CASE("cancel ends a stream once, with cancelled, and stops its data") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      // Both chunks in one write: the second is parsed in the same read.
      c->send(stream_head + chunk("one") + chunk("two"));
      c->next(); // to see the client close
    });
    auto cl = client::make(io, srv.ep());
    stream_log log;
    stream_handle handle;
    log.after_piece = [&](std::size_t) {
      handle.cancel();
      handle.cancel();
      CHECK(log.ends == 0); // never from inside cancel()
    };
    handle = cl->stream(get("/events"), log.callbacks());
    REQUIRE(run_until(io, [&] { return log.ends > 0; }));
    io.poll();
    CHECK(log.ends == 1);
    CHECK(log.pieces == std::vector<std::string>{"one"});
    REQUIRE(log.end_error);
    CHECK(log.end_error->code == errc::cancelled);
    // The server sees the connection close.
    REQUIRE(run_until(io, [&] { return srv.client_closes() == 1; }));
  }

  TEST_CASE("cancel works from another thread") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request(
      [&](const conn_ptr& c, const std::string&) { c->send(stream_head); });
    auto cl = client::make(io, srv.ep());
    stream_log log;
    stream_handle handle;
    std::thread other;
    auto cbs = log.callbacks();
    auto on_head = cbs.on_head;
    cbs.on_head = [&](int s, const header_list& h) {
      on_head(s, h);
      other = std::thread([&handle] { handle.cancel(); });
    };
    handle = cl->stream(get("/events"), cbs);
    REQUIRE(run_until(io, [&] { return log.ends > 0; }));
    other.join();
    CHECK(log.heads == 1);
    REQUIRE(log.end_error);
    CHECK(log.end_error->code == errc::cancelled);
  }

  TEST_CASE("a silent stream times out after its head") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      c->send(stream_head + chunk("only"));
    });
    auto cl = client::make(io, srv.ep());
    stream_log log;
    request req = get("/events");
    req.timeout = 100ms;
    cl->stream(req, log.callbacks());
    REQUIRE(run_until(io, [&] { return log.ends > 0; }));
    CHECK(log.heads == 1);
    CHECK(log.pieces == std::vector<std::string>{"only"});
    REQUIRE(log.end_error);
    CHECK(log.end_error->code == errc::timeout);
    CHECK(contains(log.end_error->message, "idle for 100 ms"));
  }

  TEST_CASE("a stream outlives its timeout while pieces keep coming") {
    asio::io_context io;
    test_server srv(io);
    conn_ptr held;
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      held = c;
      c->send(stream_head + chunk("0"));
    });
    auto cl = client::make(io, srv.ep());
    stream_log log;
    asio::steady_timer pace(io);
    // Each piece 30 ms after the last: 12 of them span well over the 300 ms
    // idle limit, which only a silence may trigger.
    log.after_piece = [&](std::size_t n) {
      pace.expires_after(30ms);
      pace.async_wait([&, n](const std::error_code& ec) {
        if (!ec)
          held->send(n < 12 ? chunk(std::to_string(n)) : "0\r\n\r\n");
      });
    };
    request req = get("/events");
    req.timeout = 300ms;
    auto start = std::chrono::steady_clock::now();
    cl->stream(req, log.callbacks());
    REQUIRE(run_until(io, [&] { return log.ends > 0; }));
    CHECK(std::chrono::steady_clock::now() - start > 300ms);
    CHECK(log.pieces.size() == 12);
    CHECK_FALSE(log.end_error);
  }

  TEST_CASE("a paused stream reads nothing, never times out, and resumes") {
    asio::io_context io;
    test_server srv(io);
    conn_ptr held;
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      held = c;
      c->send(stream_head + chunk("one"));
    });
    auto cl = client::make(io, srv.ep());
    stream_log log;
    stream_handle handle;
    log.after_piece = [&](std::size_t n) {
      if (n != 1)
        return;
      handle.pause(); // on the io thread: takes effect at once
      held->send(chunk("two"));
    };
    request req = get("/logs");
    req.timeout = 100ms;
    handle = cl->stream(req, log.callbacks());
    REQUIRE(run_until(io, [&] { return log.pieces.size() == 1; }));
    // Four silence timeouts pass: no piece (the server's bytes stay in the
    // socket), no timeout.
    CHECK_FALSE(run_until(
      io, [&] { return log.pieces.size() > 1 || log.ends > 0; }, 400ms));
    handle.pause(); // idempotent
    std::thread other([&handle] { handle.resume(); });
    other.join();
    REQUIRE(run_until(io, [&] { return log.pieces.size() == 2; }));
    CHECK(log.pieces == std::vector<std::string>{"one", "two"});
    // Resumed, the silence timeout runs again.
    REQUIRE(run_until(io, [&] { return log.ends > 0; }));
    REQUIRE(log.end_error);
    CHECK(log.end_error->code == errc::timeout);
    CHECK(contains(log.end_error->message, "idle for 100 ms"));
  }

  TEST_CASE("cancel ends a paused stream, once") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      c->send(stream_head + chunk("one"));
      c->next(); // to see the client close
    });
    auto cl = client::make(io, srv.ep());
    stream_log log;
    stream_handle handle;
    log.after_piece = [&](std::size_t) { handle.pause(); };
    request req = get("/logs");
    req.timeout = 0ms;
    handle = cl->stream(req, log.callbacks());
    REQUIRE(run_until(io, [&] { return log.pieces.size() == 1; }));
    handle.cancel();
    REQUIRE(run_until(io, [&] { return log.ends > 0; }));
    handle.resume(); // after the end: nothing happens
    io.poll();
    CHECK(log.ends == 1);
    REQUIRE(log.end_error);
    CHECK(log.end_error->code == errc::cancelled);
    REQUIRE(run_until(io, [&] { return srv.client_closes() == 1; }));
  }

  TEST_CASE("a stream that fails before its head gets only on_end") {
    asio::io_context io;
    endpoint ep;
    ep.path = "/tmp/bosun-client-no-such-dir/docker.sock";
    auto cl = client::make(io, ep);
    stream_log log;
    cl->stream(get("/events"), log.callbacks());
    REQUIRE(run_until(io, [&] { return log.ends > 0; }));
    io.poll();
    CHECK(log.heads == 0);
    CHECK(log.ends == 1);
    REQUIRE(log.end_error);
    CHECK(log.end_error->code == errc::refused);
  }
}

TEST_SUITE("http client: lifetime") {
  TEST_CASE("close() cancels what is in flight and the client stays usable") {
    asio::io_context io;
    test_server srv(io);
    bool answer = false;
    srv.on_request([&](const conn_ptr& c, const std::string&) {
      if (answer)
        c->send(ok_response("OK"));
    });
    auto cl = client::make(io, srv.ep());
    std::optional<result<response>> first;
    cl->send(get(), [&](result<response> r) { first = std::move(r); });
    stream_log log;
    cl->stream(get("/events"), log.callbacks());
    REQUIRE(run_until(io, [&] { return srv.requests().size() == 2; }));
    cl->close();
    REQUIRE(run_until(io, [&] { return first && log.ends > 0; }));
    REQUIRE_FALSE(*first);
    CHECK(first->err->code == errc::cancelled);
    REQUIRE(log.end_error);
    CHECK(log.end_error->code == errc::cancelled);
    answer = true;
    auto r = send_wait(io, *cl, get());
    REQUIRE_MESSAGE(r, (r.err ? r.err->message : ""));
    io.poll();
    CHECK(log.ends == 1);
  }

  TEST_CASE("destroying the client cancels in-flight requests, each once") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([](const conn_ptr&, const std::string&) {});
    auto cl = client::make(io, srv.ep());
    int sends = 0;
    std::optional<error> send_error;
    cl->send(get(), [&](const result<response>& r) {
      ++sends;
      send_error = r.err;
    });
    stream_log log;
    auto handle = cl->stream(get("/events"), log.callbacks());
    REQUIRE(run_until(io, [&] { return srv.requests().size() == 2; }));
    cl.reset();
    REQUIRE(run_until(io, [&] { return sends > 0 && log.ends > 0; }));
    handle.cancel(); // the exchange is gone: harmless
    io.poll();
    CHECK(sends == 1);
    CHECK(log.ends == 1);
    REQUIRE(send_error);
    CHECK(send_error->code == errc::cancelled);
    REQUIRE(log.end_error);
    CHECK(log.end_error->code == errc::cancelled);
  }

  TEST_CASE("a client dropped inside its own callback does not crash") {
    asio::io_context io;
    test_server srv(io);
    srv.on_request([](const conn_ptr& c, const std::string&) {
      c->send(ok_response("OK"));
      c->next();
    });
    auto cl = client::make(io, srv.ep());
    bool done = false;
    cl->send(get(), [&](result<response> r) {
      CHECK(r);
      cl.reset(); // its connection is in the pool by now
      done = true;
    });
    REQUIRE(run_until(io, [&] { return done; }));
    REQUIRE(run_until(io, [&] { return srv.client_closes() == 1; }));
  }
}
