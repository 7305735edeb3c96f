#pragma once

// A scripted HTTP server for the client tests, on the test's own io_context:
// unix socket (in a fresh directory under /tmp), TCP or TLS on 127.0.0.1,
// port 0. Each complete request is handed to `on_request` with the
// connection, which the test answers with whatever bytes it likes.
#include "api/client/client.hpp"

#include <array>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <linux/sockios.h>
#include <map>
#include <memory>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>
#include <vector>

namespace bosun::test {

// Runs `io` until `done()` holds or `limit` passes; returns done().
template <class Pred>
bool run_until(asio::io_context& io, Pred done,
               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return false;
    if (io.stopped())
      io.restart();
    io.run_one_for(deadline - now);
  }
  return true;
}

// A self-signed certificate for "localhost" (SAN DNS:localhost), made with
// the OpenSSL API so the tests need no files.
struct self_signed {
  std::string cert_pem;
  std::string key_pem;
};

inline std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

inline self_signed make_self_signed() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  if (!key || !x)
    throw std::runtime_error("cannot create a key or certificate");
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  const char cn[] = "localhost";
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1,
                             0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* san
    = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "DNS:localhost");
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(x, key, EVP_sha256());
  self_signed out;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  out.cert_pem = bio_string(bio);
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = bio_string(bio);
  BIO_free(bio);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

// Sends a GET for `target` on `c` and runs `io` until it is answered.
inline http::result<http::response> fetch(asio::io_context& io, http::client& c,
                                          const std::string& target
                                          = "/v6/device") {
  std::optional<http::result<http::response>> out;
  http::request req;
  req.target = target;
  c.send(req, [&](http::result<http::response> r) { out = std::move(r); });
  if (!run_until(io, [&] { return out.has_value(); }))
    throw std::runtime_error("no answer to GET " + target);
  return std::move(*out);
}

// An environment of just `vars`, for http::proxy_for.
inline http::env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](
           std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end())
      return std::nullopt;
    return it->second;
  };
}

class server_conn;
using request_fn
  = std::function<void(std::shared_ptr<server_conn>, const std::string&)>;

// What the server and its connections share; connections hold it, so
// handlers that run after the server is gone touch nothing freed.
struct server_state {
  request_fn on_request;
  std::vector<std::string> requests; // every complete request, in order
  // Kept open until the server goes, even when nothing is pending on them
  // (a server that never answers); cleared by ~test_server (breaks the cycle).
  std::vector<std::shared_ptr<server_conn>> conns;
  int accepts = 0;
  int client_closes = 0; // connections the client closed (EOF seen)
  std::string sni;       // server name of the last TLS handshake
  bool stopped = false;  // the test_server is gone
};

class server_conn : public std::enable_shared_from_this<server_conn> {
public:
  server_conn(asio::io_context& io, std::shared_ptr<server_state> st)
      : state_(std::move(st)), timer_(io) {}
  virtual ~server_conn() = default;

  // Writes `bytes`; `then` runs once the client has read all of them (unix:
  // the socket's send queue is empty) or, on TCP/TLS, once they are written.
  void send(std::string bytes, const std::function<void()>& then = {}) {
    auto buf = std::make_shared<std::string>(std::move(bytes));
    auto self = shared_from_this();
    write(asio::buffer(*buf),
          [self, buf, then](const std::error_code& ec, std::size_t) {
            if (!ec && then)
              self->when_consumed(then);
          });
  }

  // Waits for the next request on this connection (keep-alive).
  void next() {
    if (!parse_request())
      read();
  }

  virtual void close() = 0;

  int index = 0; // 1 for the first accepted connection

protected:
  virtual void write(asio::const_buffer b,
                     std::function<void(const std::error_code&, std::size_t)>)
    = 0;
  virtual void
  read_some(asio::mutable_buffer b,
            std::function<void(const std::error_code&, std::size_t)>)
    = 0;
  // The fd whose send queue tells whether the client read everything, or -1.
  virtual int queue_fd() = 0;

  void read() {
    auto self = shared_from_this();
    read_some(asio::buffer(buf_),
              [self](const std::error_code& ec, std::size_t n) {
                if (ec) {
                  if (ec != asio::error::operation_aborted)
                    ++self->state_->client_closes;
                  return;
                }
                self->in_.append(self->buf_.data(), n);
                if (!self->parse_request())
                  self->read();
              });
  }

  // Hands one complete buffered request to on_request; false when more
  // bytes are needed.
  bool parse_request() {
    auto end = in_.find("\r\n\r\n");
    if (end == std::string::npos)
      return false;
    std::size_t length = 0;
    std::string head = in_.substr(0, end);
    for (auto& c : head)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto cl = head.find("\r\ncontent-length:");
    if (cl != std::string::npos)
      length = std::stoul(head.substr(cl + 17));
    auto total = end + 4 + length;
    if (in_.size() < total)
      return false;
    std::string req = in_.substr(0, total);
    in_.erase(0, total);
    state_->requests.push_back(req);
    if (state_->on_request)
      state_->on_request(shared_from_this(), req);
    return true;
  }

  void when_consumed(const std::function<void()>& then) {
    int queued = 0;
    int fd = queue_fd();
    if (fd < 0 || ::ioctl(fd, SIOCOUTQ, &queued) != 0 || queued == 0)
      return then();
    timer_.expires_after(std::chrono::milliseconds(1));
    timer_.async_wait(
      [self = shared_from_this(), then](const std::error_code& ec) {
        if (!ec)
          self->when_consumed(then);
      });
  }

  std::shared_ptr<server_state> state_;
  asio::steady_timer timer_;
  std::array<char, 4096> buf_{};
  std::string in_;
};

template <class Socket>
class plain_conn final : public server_conn {
public:
  plain_conn(asio::io_context& io, std::shared_ptr<server_state> st,
             bool unix_socket)
      : server_conn(io, std::move(st)), sock(io), unix_(unix_socket) {}
  void start() {
    read();
  }
  void close() override {
    std::error_code ignored;
    sock.close(ignored);
    timer_.cancel();
  }
  Socket sock;

private:
  void
  write(asio::const_buffer b,
        std::function<void(const std::error_code&, std::size_t)> h) override {
    asio::async_write(sock, b, std::move(h));
  }
  void read_some(
    asio::mutable_buffer b,
    std::function<void(const std::error_code&, std::size_t)> h) override {
    sock.async_read_some(b, std::move(h));
  }
  int queue_fd() override {
    return unix_ && sock.is_open() ? sock.native_handle() : -1;
  }
  bool unix_;
};

class tls_conn final : public server_conn {
public:
  tls_conn(asio::io_context& io, std::shared_ptr<server_state> st,
           asio::ssl::context& ctx)
      : server_conn(io, std::move(st)), stream(io, ctx) {}
  void start() {
    stream.async_handshake(
      asio::ssl::stream_base::server,
      [self = std::static_pointer_cast<tls_conn>(shared_from_this())](
        const std::error_code& ec) {
        if (ec)
          return; // the client gave up (e.g. it rejected our certificate)
        const char* sni = SSL_get_servername(self->stream.native_handle(),
                                             TLSEXT_NAMETYPE_host_name);
        self->state_->sni = sni ? sni : "";
        self->read();
      });
  }
  void close() override {
    std::error_code ignored;
    stream.lowest_layer().close(ignored);
    timer_.cancel();
  }
  asio::ssl::stream<asio::ip::tcp::socket> stream;

private:
  void
  write(asio::const_buffer b,
        std::function<void(const std::error_code&, std::size_t)> h) override {
    asio::async_write(stream, b, std::move(h));
  }
  void read_some(
    asio::mutable_buffer b,
    std::function<void(const std::error_code&, std::size_t)> h) override {
    stream.async_read_some(b, std::move(h));
  }
  int queue_fd() override {
    return -1;
  }
};

class test_server {
public:
  enum class kind { unix_socket, tcp, tls };

  explicit test_server(asio::io_context& io, kind k = kind::unix_socket)
      : io_(io), kind_(k), state_(std::make_shared<server_state>()),
        unix_acceptor_(io), tcp_acceptor_(io),
        tls_ctx_(asio::ssl::context::tls_server) {
    if (k == kind::unix_socket) {
      char tmpl[] = "/tmp/bosun-client-XXXXXX";
      if (!::mkdtemp(tmpl))
        throw std::runtime_error("mkdtemp failed");
      dir_ = tmpl;
      path_ = dir_ + "/s.sock";
      unix_acceptor_.open(asio::local::stream_protocol());
      unix_acceptor_.bind(asio::local::stream_protocol::endpoint(path_));
      unix_acceptor_.listen();
    } else {
      asio::ip::tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
      tcp_acceptor_.open(at.protocol());
      tcp_acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
      tcp_acceptor_.bind(at);
      tcp_acceptor_.listen();
      port_ = tcp_acceptor_.local_endpoint().port();
      if (k == kind::tls) {
        cert_ = make_self_signed();
        tls_ctx_.use_certificate_chain(asio::buffer(cert_.cert_pem));
        tls_ctx_.use_private_key(asio::buffer(cert_.key_pem),
                                 asio::ssl::context::pem);
      }
    }
    accept();
  }

  ~test_server() {
    state_->stopped = true;
    stop_listening();
    close_all();
    state_->conns.clear();
    state_->on_request = nullptr;
    if (!path_.empty())
      ::unlink(path_.c_str());
    if (!dir_.empty())
      ::rmdir(dir_.c_str());
  }

  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  // Where clients connect. `host` overrides 127.0.0.1 for TCP and TLS.
  http::endpoint ep(const std::string& host = "127.0.0.1") const {
    http::endpoint e;
    if (kind_ == kind::unix_socket) {
      e.type = http::endpoint::kind::unix_socket;
      e.path = path_;
      return e;
    }
    e.type = kind_ == kind::tls ? http::endpoint::kind::tls
                                : http::endpoint::kind::tcp;
    e.host = host;
    e.port = port_;
    return e;
  }

  void on_request(request_fn fn) {
    state_->on_request = std::move(fn);
  }

  int accepts() const {
    return state_->accepts;
  }
  int client_closes() const {
    return state_->client_closes;
  }
  const std::vector<std::string>& requests() const {
    return state_->requests;
  }
  const std::string& sni() const {
    return state_->sni;
  }
  const self_signed& cert() const {
    return cert_;
  }

  // Stops accepting; the unix socket file stays (connecting to it is then
  // refused rather than "no such file").
  void stop_listening() {
    std::error_code ignored;
    unix_acceptor_.close(ignored);
    tcp_acceptor_.close(ignored);
  }

  void close_all() {
    for (auto& c : state_->conns)
      c->close();
  }

private:
  void accept() {
    auto st = state_;
    if (kind_ == kind::unix_socket) {
      using conn = plain_conn<asio::local::stream_protocol::socket>;
      auto c = std::make_shared<conn>(io_, st, true);
      unix_acceptor_.async_accept(c->sock, [this, c, st](std::error_code ec) {
        if (ec || st->stopped)
          return; // `this` may be gone
        accepted(c);
        c->start();
        accept();
      });
    } else if (kind_ == kind::tcp) {
      using conn = plain_conn<asio::ip::tcp::socket>;
      auto c = std::make_shared<conn>(io_, st, false);
      tcp_acceptor_.async_accept(c->sock, [this, c, st](std::error_code ec) {
        if (ec || st->stopped)
          return;
        accepted(c);
        c->start();
        accept();
      });
    } else {
      auto c = std::make_shared<tls_conn>(io_, st, tls_ctx_);
      tcp_acceptor_.async_accept(c->stream.lowest_layer(),
                                 [this, c, st](std::error_code ec) {
                                   if (ec || st->stopped)
                                     return;
                                   accepted(c);
                                   c->start();
                                   accept();
                                 });
    }
  }

  void accepted(const std::shared_ptr<server_conn>& c) {
    c->index = ++state_->accepts;
    state_->conns.push_back(c);
  }

  asio::io_context& io_;
  kind kind_;
  std::shared_ptr<server_state> state_;
  asio::local::stream_protocol::acceptor unix_acceptor_;
  asio::ip::tcp::acceptor tcp_acceptor_;
  asio::ssl::context tls_ctx_;
  self_signed cert_;
  std::string dir_;
  std::string path_;
  uint16_t port_ = 0;
};

// Answers every request with 200 and `body`, keeping the connection alive.
inline void answer_ok(test_server& srv, const std::string& body = "secured") {
  srv.on_request([body](const std::shared_ptr<server_conn>& c,
                        const std::string&) {
    c->send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size())
            + "\r\n\r\n" + body);
    c->next();
  });
}

// Copies bytes both ways between the proxy's accepted socket and a socket
// to the target, as a CONNECT proxy does once it said 200.
class relay : public std::enable_shared_from_this<relay> {
public:
  relay(asio::io_context& io,
        std::shared_ptr<plain_conn<asio::ip::tcp::socket>> client)
      : client_(std::move(client)), target_(io) {}

  void start(uint16_t port) {
    auto self = shared_from_this();
    target_.async_connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
      [self](const std::error_code& ec) {
        if (ec)
          return self->stop();
        self->pump(self->client_->sock, self->target_, self->up_);
        self->pump(self->target_, self->client_->sock, self->down_);
      });
  }

private:
  using buffer = std::array<char, 4096>;

  void pump(asio::ip::tcp::socket& from, asio::ip::tcp::socket& to,
            buffer& buf) {
    auto self = shared_from_this();
    from.async_read_some(
      asio::buffer(buf),
      [self, &from, &to, &buf](const std::error_code& ec, std::size_t n) {
        if (ec)
          return self->stop();
        asio::async_write(
          to, asio::buffer(buf.data(), n),
          [self, &from, &to, &buf](const std::error_code& ec, std::size_t) {
            if (ec)
              return self->stop();
            self->pump(from, to, buf);
          });
      });
  }

  void stop() {
    std::error_code ignored;
    target_.close(ignored);
    client_->close();
  }

  std::shared_ptr<plain_conn<asio::ip::tcp::socket>> client_;
  asio::ip::tcp::socket target_;
  buffer up_{};
  buffer down_{};
};

// A CONNECT proxy in front of `target`: answers `answer` and, when it is a
// 200, relays the connection to the target.
inline void connect_proxy(asio::io_context& io, test_server& proxy,
                          const test_server& target,
                          const std::string& answer
                          = "HTTP/1.1 200 Connection established\r\n\r\n") {
  auto port = target.ep().port;
  proxy.on_request([&io, port, answer](const std::shared_ptr<server_conn>& c,
                                       const std::string&) {
    auto conn = std::static_pointer_cast<plain_conn<asio::ip::tcp::socket>>(c);
    c->send(answer, [&io, conn, port, answer] {
      if (answer.find(" 200 ") != std::string::npos)
        std::make_shared<relay>(io, conn)->start(port);
      else
        conn->close();
    });
  });
}

} // namespace bosun::test
