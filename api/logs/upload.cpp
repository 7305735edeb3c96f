#include "api/logs/upload.hpp"

#include "api/client/tunnel.hpp"
#include "api/client/wire.hpp"

#include <array>
#include <asio/connect.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <cstdio>
#include <deque>

namespace bosun::log_upload {

namespace {

bool clean_field(const std::string& s) {
  return s.find_first_of(std::string("\r\n\0", 3)) == std::string::npos;
}

} // namespace

std::optional<std::string> request_head(const target& t, std::string* why) {
  auto fail = [&](const char* what) -> std::optional<std::string> {
    if (why)
      *why = what;
    return std::nullopt;
  };
  if (t.path.empty() || t.path.front() != '/' || !clean_field(t.path)
      || t.path.find(' ') != std::string::npos)
    return fail("invalid log stream path");
  if (!clean_field(t.api_key))
    return fail("invalid device API key");
  if (!clean_field(t.user_agent))
    return fail("invalid user agent");
  const auto& via = t.proxy.server;
  bool absolute = via && t.ep.type == http::endpoint::kind::tcp;
  if (absolute && !clean_field(via->authorization))
    return fail("invalid proxy credentials");
  std::string h = "POST ";
  if (absolute)
    h += "http://" + http::wire::host_header(t.ep);
  h += t.path + " HTTP/1.1\r\n";
  h += "Host: " + http::wire::host_header(t.ep) + "\r\n";
  if (absolute && !via->authorization.empty())
    h += "Proxy-Authorization: " + via->authorization + "\r\n";
  h += "Authorization: Bearer " + t.api_key + "\r\n";
  h += "Content-Type: application/x-ndjson\r\n";
  h += "Content-Encoding: gzip\r\n";
  h += "Transfer-Encoding: chunked\r\n";
  if (!t.user_agent.empty())
    h += "User-Agent: " + t.user_agent + "\r\n";
  h += "\r\n";
  return h;
}

std::string chunk_header(size_t size) {
  char buf[32];
  auto n = std::snprintf(buf, sizeof(buf), "%zx\r\n", size);
  return std::string(buf, static_cast<size_t>(n));
}

std::optional<target> device_target(const std::string& endpoint,
                                    const std::string& uuid,
                                    const std::string& api_key,
                                    std::string* why,
                                    const http::env_lookup& env) {
  auto ep = http::parse_endpoint(endpoint, why);
  if (!ep)
    return std::nullopt;
  if (uuid.empty()
      || uuid.find_first_not_of("0123456789abcdefABCDEF-")
           != std::string::npos) {
    if (why)
      *why = "invalid device uuid '" + uuid + "'";
    return std::nullopt;
  }
  target t;
  t.ep = *ep;
  t.path = "/device/v2/" + uuid + "/log-stream";
  t.api_key = api_key;
  t.proxy = http::proxy_for(t.ep, env);
  return t;
}

namespace {

using tcp = asio::ip::tcp;
using tls_stream = asio::ssl::stream<tcp::socket>;
using unix_socket = asio::local::stream_protocol::socket;

// One connection's life on the io thread. Its handlers keep it alive; the
// owner's handle only posts to it.
class session : public std::enable_shared_from_this<session> {
public:
  session(asio::io_context& io, target t, events ev)
      : io_(io), t_(std::move(t)), ev_(std::move(ev)), resolver_(io),
        deadline_(io), grace_(io) {
    name_ = http::to_string(t_.ep);
    if (t_.ep.type == http::endpoint::kind::unix_socket)
      t_.proxy = {};
    else if (t_.proxy.server)
      name_ += " via proxy " + http::to_string(*t_.proxy.server);
  }

  void start() {
    std::string why;
    auto head = request_head(t_, &why);
    if (!head)
      return fail(why);
    head_ = std::move(*head);
    if (!t_.proxy.error.empty())
      return fail(name_ + ": " + t_.proxy.error);
    arm(deadline_, t_.connect_timeout, "connecting timed out");
    auto self = shared_from_this();
    switch (t_.ep.type) {
      case http::endpoint::kind::unix_socket:
        unix_ = std::make_unique<unix_socket>(io_);
        unix_->async_connect(
          asio::local::stream_protocol::endpoint(t_.ep.path),
          [self](const std::error_code& ec) { self->connected(ec); });
        return;
      case http::endpoint::kind::tcp:
        tcp_ = std::make_unique<tcp::socket>(io_);
        break;
      case http::endpoint::kind::tls:
        tls_ctx_ = std::make_unique<asio::ssl::context>(
          asio::ssl::context::tls_client);
        tls_ctx_->set_default_verify_paths();
        tls_ = std::make_unique<tls_stream>(io_, *tls_ctx_);
        break;
    }
    // Behind a proxy only the proxy's name is resolved here.
    const auto& via = t_.proxy.server;
    resolver_.async_resolve(
      via ? via->host : t_.ep.host,
      std::to_string(via ? via->port : t_.ep.port),
      [self](const std::error_code& ec, const tcp::resolver::results_type& r) {
        if (self->closed_)
          return;
        if (ec)
          return self->fail("cannot resolve "
                            + (self->t_.proxy.server
                                 ? "the proxy of " + self->name_
                                 : self->t_.ep.host)
                            + ": " + ec.message());
        auto& sock = self->tls_ ? self->tls_->next_layer() : *self->tcp_;
        asio::async_connect(sock, r,
                            [self](const std::error_code& ec, const auto&) {
                              self->connected(ec);
                            });
      });
  }

  void write(std::string data) {
    if (closed_ || data.empty())
      return;
    out_.push_back(frame{chunk_header(data.size()), std::move(data), false});
    pump();
  }

  void finish(std::string data) {
    if (closed_)
      return;
    out_.push_back(
      frame{data.empty() ? std::string{} : chunk_header(data.size()),
            std::move(data), true});
    pump();
  }

  // The owner is gone or closed it: no event from now on.
  void close() {
    if (closed_)
      return;
    closed_ = true;
    shutdown();
  }

private:
  struct frame {
    std::string head;
    std::string data;
    bool last; // followed by the terminating chunk
  };

  template <class F>
  void with_stream(F&& f) {
    if (tls_)
      f(*tls_);
    else if (tcp_)
      f(*tcp_);
    else
      f(*unix_);
  }

  void arm(asio::steady_timer& timer, std::chrono::milliseconds d,
           std::string what) {
    timer.expires_after(d);
    auto self = shared_from_this();
    timer.async_wait([self, what = std::move(what)](const std::error_code& ec) {
      if (!ec)
        self->fail(what);
    });
  }

  void connected(const std::error_code& ec) {
    if (closed_)
      return;
    if (ec)
      return fail("cannot connect to " + name_ + ": " + ec.message());
    if (tcp_ || tls_) {
      std::error_code ignored;
      (tls_ ? tls_->next_layer() : *tcp_)
        .set_option(tcp::no_delay(true), ignored);
    }
    if (!tls_)
      return send_head();
    if (!t_.proxy.server)
      return handshake();
    auto self = shared_from_this();
    http::async_tunnel(tls_->next_layer(), t_.ep, *t_.proxy.server,
                       t_.user_agent, name_,
                       [self](std::optional<http::error> err) {
                         if (self->closed_)
                           return;
                         if (err)
                           return self->fail(err->message);
                         self->handshake();
                       });
  }

  void handshake() {
    std::error_code not_ip;
    asio::ip::make_address(t_.ep.host, not_ip);
    if (not_ip)
      SSL_set_tlsext_host_name(tls_->native_handle(), t_.ep.host.c_str());
    std::error_code ignored;
    if (t_.verify_tls) {
      tls_->set_verify_mode(asio::ssl::verify_peer, ignored);
      tls_->set_verify_callback(asio::ssl::host_name_verification(t_.ep.host),
                                ignored);
    } else {
      tls_->set_verify_mode(asio::ssl::verify_none, ignored);
    }
    auto self = shared_from_this();
    tls_->async_handshake(
      asio::ssl::stream_base::client, [self](const std::error_code& ec) {
        if (self->closed_)
          return;
        if (ec)
          return self->fail("TLS handshake with " + self->name_
                            + " failed: " + ec.message());
        self->send_head();
      });
  }

  void send_head() {
    auto self = shared_from_this();
    with_stream([&](auto& s) {
      asio::async_write(
        s, asio::buffer(head_), [self](const std::error_code& ec, size_t) {
          if (self->closed_)
            return;
          if (ec)
            return self->fail("cannot send the request: " + ec.message());
          self->deadline_.cancel();
          self->read();
          self->grace_.expires_after(self->t_.grace);
          self->grace_.async_wait([self](const std::error_code& ec) {
            if (ec || self->closed_)
              return;
            self->open_ = true;
            if (self->ev_.opened)
              self->ev_.opened();
            self->pump();
          });
        });
    });
  }

  // The peer must stay silent while the body flows: whatever it sends is
  // its answer, and the end of this stream.
  void read() {
    auto self = shared_from_this();
    with_stream([&](auto& s) {
      s.async_read_some(
        asio::buffer(buf_), [self](const std::error_code& ec, size_t n) {
          if (self->closed_)
            return;
          if (n > 0 && self->answer_.size() < 1024)
            self->answer_.append(self->buf_.data(),
                                 std::min(n, 1024 - self->answer_.size()));
          auto eol = self->answer_.find("\r\n");
          if (eol != std::string::npos)
            return self->answered(self->answer_.substr(0, eol));
          if (ec)
            return self->fail(ec == asio::error::eof
                                  || ec == asio::ssl::error::stream_truncated
                                ? "the cloud closed the log stream"
                                : "log stream read failed: " + ec.message());
          self->read();
        });
    });
  }

  void answered(const std::string& status_line) {
    // "HTTP/1.1 401 Unauthorized" -> "401 Unauthorized"
    auto sp = status_line.find(' ');
    auto status
      = sp == std::string::npos ? status_line : status_line.substr(sp + 1);
    bool ok = status.size() >= 3 && status[0] == '2';
    if (finishing_ && ok) {
      closed_ = true;
      shutdown();
      if (ev_.closed)
        ev_.closed(std::nullopt);
      return;
    }
    fail("cloud answered " + status);
  }

  void pump() {
    if (closed_ || !open_ || writing_ || out_.empty())
      return;
    writing_ = true;
    auto& f = out_.front();
    constexpr const char* crlf = "\r\n";
    constexpr const char* end = "0\r\n\r\n";
    std::array<asio::const_buffer, 4> bufs{
      asio::buffer(f.head), asio::buffer(f.data),
      asio::const_buffer(crlf, f.data.empty() ? 0 : 2),
      asio::const_buffer(end, f.last ? 5 : 0)};
    arm(deadline_, t_.write_timeout, "writing to the log stream timed out");
    auto self = shared_from_this();
    with_stream([&](auto& s) {
      asio::async_write(s, bufs, [self](const std::error_code& ec, size_t) {
        if (self->closed_)
          return;
        self->deadline_.cancel();
        if (ec)
          return self->fail("log stream write failed: " + ec.message());
        auto f = std::move(self->out_.front());
        self->out_.pop_front();
        self->writing_ = false;
        if (f.last) {
          self->finishing_ = true;
          self->arm(self->deadline_, self->t_.write_timeout,
                    "no answer to the end of the log stream");
          return;
        }
        if (self->ev_.written)
          self->ev_.written(f.data.size());
        self->pump();
      });
    });
  }

  void fail(const std::string& why) {
    if (closed_)
      return;
    closed_ = true;
    shutdown();
    if (ev_.closed)
      ev_.closed(why);
  }

  void shutdown() {
    std::error_code ignored;
    resolver_.cancel();
    deadline_.cancel();
    grace_.cancel();
    if (tls_)
      tls_->lowest_layer().close(ignored);
    if (tcp_)
      tcp_->close(ignored);
    if (unix_)
      unix_->close(ignored);
  }

  asio::io_context& io_;
  target t_;
  std::string name_; // the endpoint, and the proxy if any, for messages
  events ev_;
  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  asio::steady_timer grace_;
  std::unique_ptr<asio::ssl::context> tls_ctx_;
  std::unique_ptr<tls_stream> tls_;
  std::unique_ptr<tcp::socket> tcp_;
  std::unique_ptr<unix_socket> unix_;
  std::string head_;
  std::deque<frame> out_;
  std::array<char, 512> buf_{};
  std::string answer_;
  bool open_ = false;
  bool writing_ = false;
  bool finishing_ = false;
  bool closed_ = false;
};

class asio_connection final : public connection {
public:
  asio_connection(asio::io_context& io, std::shared_ptr<session> s)
      : io_(io), s_(std::move(s)) {}
  ~asio_connection() override {
    close();
  }

  void write(std::string data) override {
    asio::post(
      io_, [s = s_, d = std::move(data)]() mutable { s->write(std::move(d)); });
  }
  void finish(std::string data) override {
    asio::post(io_, [s = s_, d = std::move(data)]() mutable {
      s->finish(std::move(d));
    });
  }
  void close() override {
    asio::post(io_, [s = s_] { s->close(); });
  }

private:
  asio::io_context& io_;
  std::shared_ptr<session> s_;
};

} // namespace

factory asio_factory(asio::io_context& io, target t) {
  return [&io, t](events ev) -> std::unique_ptr<connection> {
    auto s = std::make_shared<session>(io, t, std::move(ev));
    asio::post(io, [s] { s->start(); });
    return std::make_unique<asio_connection>(io, std::move(s));
  };
}

} // namespace bosun::log_upload
