// The HTTP/1.1 client: one connection type per transport (unix, TCP, TLS),
// the exchange, the pool. Over 600 lines: they share the exchange's private
// state machine; the wire format (wire.*), tunnels and proxies are apart.

#include "api/client/client.hpp"

#include "api/client/tunnel.hpp"
#include "api/client/wire.hpp"

#include <algorithm>
#include <array>
#include <asio/connect.hpp>
#include <asio/dispatch.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <cstdint>
#include <poll.h>
#include <sys/un.h>
#include <type_traits>
#include <unordered_map>

namespace bosun::http {

// -- small public helpers -----------------------------------------------------

std::string_view response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (wire::iequals(k, name))
      return v;
  return {};
}

const char* to_string(errc e) {
  switch (e) {
    case errc::refused:
      return "refused";
    case errc::closed:
      return "closed";
    case errc::timeout:
      return "timeout";
    case errc::garbled:
      return "garbled";
    case errc::tls:
      return "tls";
    case errc::cancelled:
      return "cancelled";
  }
  return "unknown";
}

std::string to_string(const endpoint& ep) {
  switch (ep.type) {
    case endpoint::kind::unix_socket:
      return "unix://" + ep.path;
    case endpoint::kind::tcp:
    case endpoint::kind::tls: {
      auto host = ep.host.find(':') == std::string::npos ? ep.host
                                                         : "[" + ep.host + "]";
      return (ep.type == endpoint::kind::tls ? "https://" : "http://") + host
             + ":" + std::to_string(ep.port);
    }
  }
  return "?";
}

std::optional<endpoint> parse_endpoint(std::string_view url, std::string* why) {
  auto fail = [&](const std::string& text) -> std::optional<endpoint> {
    if (why)
      *why = std::string(url) + ": " + text;
    return std::nullopt;
  };
  auto starts_with = [&](std::string_view prefix) {
    return url.substr(0, prefix.size()) == prefix;
  };
  endpoint ep;
  std::string_view rest;
  if (starts_with("unix://") || (!url.empty() && url.front() == '/')) {
    ep.type = endpoint::kind::unix_socket;
    ep.path = std::string(starts_with("unix://") ? url.substr(7) : url);
    if (ep.path.empty() || ep.path.front() != '/')
      return fail("unix socket path must be absolute");
    if (ep.path.size() >= sizeof(sockaddr_un::sun_path))
      return fail("unix socket path is too long");
    if (ep.path.find('\0') != std::string::npos)
      return fail("unix socket path contains NUL");
    return ep;
  }
  uint16_t default_port = 0;
  if (starts_with("http://")) {
    ep.type = endpoint::kind::tcp;
    default_port = 80;
    rest = url.substr(7);
  } else if (starts_with("https://")) {
    ep.type = endpoint::kind::tls;
    default_port = 443;
    rest = url.substr(8);
  } else if (starts_with("tcp://")) {
    ep.type = endpoint::kind::tcp;
    rest = url.substr(6);
  } else {
    return fail("unknown scheme (expected unix://, http://, https:// or "
                "tcp://, or an absolute socket path)");
  }
  if (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos)
    return fail("only scheme, host and port are allowed");
  std::string_view port;
  std::string problem;
  if (!wire::split_host_port(rest, ep.host, port, &problem))
    return fail(problem);
  if (port.empty()) {
    if (default_port == 0)
      return fail("missing port");
    ep.port = default_port;
    return ep;
  }
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9')
      return fail("port is not a number");
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535)
      return fail("port out of range");
  }
  if (value == 0)
    return fail("port out of range");
  ep.port = static_cast<uint16_t>(value);
  return ep;
}

namespace {

using io_handler = std::function<void(const std::error_code&, std::size_t)>;
using connect_handler = std::function<void(std::optional<error>)>;

// What every request of one client shares; outlives the client while
// requests are in flight.
struct shared_ctx {
  shared_ctx(asio::io_context& io, endpoint ep, client_options opts)
      : io(io), ep(std::move(ep)), opts(std::move(opts)) {}
  asio::io_context& io;
  endpoint ep;
  client_options opts;
  // to_string(ep), and " via proxy <proxy>": every error message's prefix
  std::string name;
  std::optional<proxy_server> via; // TCP and TLS only
  std::shared_ptr<asio::ssl::context> tls;
  std::optional<error> setup_error; // fails every request when set
};

using ctx_ptr = std::shared_ptr<const shared_ctx>;

error refused(const shared_ctx& ctx, const std::error_code& ec) {
  std::string msg = ctx.name + ": connection refused";
  if (ec != asio::error::connection_refused)
    msg += " (" + ec.message() + ")";
  return {errc::refused, std::move(msg)};
}

// One transport connection. Its handlers keep it alive; close() cancels
// whatever is pending (the handler sees operation_aborted) and is idempotent.
class connection : public std::enable_shared_from_this<connection> {
public:
  virtual ~connection() = default;
  virtual void async_connect(connect_handler h) = 0;
  virtual void async_write(asio::const_buffer b, io_handler h) = 0;
  virtual void async_read_some(asio::mutable_buffer b, io_handler h) = 0;
  virtual void close() = 0;
  // An idle keep-alive connection is reusable only while the peer has sent
  // nothing since the last response, not even EOF. Checked without blocking;
  // a peer closing right after the check is handled by the retry.
  virtual bool idle_usable() = 0;

protected:
  // POLLHUP and POLLERR are reported whatever `events` asks for.
  static bool quiet(int fd, short events) {
    pollfd pfd{fd, events, 0};
    return ::poll(&pfd, 1, 0) == 0;
  }
};

template <class Stream>
class basic_connection : public connection {
public:
  static constexpr bool tls
    = std::is_same_v<Stream, asio::ssl::stream<asio::ip::tcp::socket>>;

  template <class... Args>
  explicit basic_connection(ctx_ptr ctx, Args&&... args)
      : ctx_(std::move(ctx)), stream_(std::forward<Args>(args)...) {}

  void async_write(asio::const_buffer b, io_handler h) override {
    asio::async_write(stream_, b, std::move(h));
  }

  void async_read_some(asio::mutable_buffer b, io_handler h) override {
    stream_.async_read_some(b, std::move(h));
  }

  void close() override {
    closed_ = true;
    std::error_code ignored;
    stream_.lowest_layer().close(ignored);
  }

  bool idle_usable() override {
    auto& s = stream_.lowest_layer();
    // Plain HTTP: any byte is unsolicited. TLS may legitimately deliver
    // records while idle (TLS 1.3 session tickets), so only a FIN counts.
    short events = tls ? POLLRDHUP : POLLIN | POLLRDHUP;
    return !closed_ && s.is_open() && quiet(s.native_handle(), events);
  }

protected:
  ctx_ptr ctx_;
  Stream stream_;
  bool closed_ = false;
};

class unix_connection final
    : public basic_connection<asio::local::stream_protocol::socket> {
public:
  explicit unix_connection(const ctx_ptr& ctx)
      : basic_connection(ctx, ctx->io) {}

  void async_connect(connect_handler h) override {
    const auto& path = ctx_->ep.path;
    if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
      // Asio would throw; report it as the refusal it amounts to.
      asio::post(ctx_->io, [h = std::move(h), ctx = ctx_] {
        h(error{errc::refused,
                ctx->name + ": connection refused (invalid socket path)"});
      });
      return;
    }
    auto self = shared_from_this();
    stream_.async_connect(
      asio::local::stream_protocol::endpoint(path),
      [this, self, h = std::move(h)](const std::error_code& ec) {
        if (ec)
          return h(ec == asio::error::operation_aborted
                     ? error{errc::cancelled, ctx_->name + ": cancelled"}
                     : refused(*ctx_, ec));
        h(std::nullopt);
      });
  }
};

// Resolves and connects a TCP socket, trying each resolved address in turn.
template <class Stream>
class tcp_base : public basic_connection<Stream> {
public:
  template <class... Args>
  explicit tcp_base(ctx_ptr ctx, Args&&... args)
      : basic_connection<Stream>(ctx, std::forward<Args>(args)...),
        resolver_(ctx->io) {}

  void close() override {
    resolver_.cancel();
    basic_connection<Stream>::close();
  }

protected:
  void connect_tcp(connect_handler h) {
    auto self = this->shared_from_this();
    // Behind a proxy only the proxy's name is resolved here.
    const auto& via = this->ctx_->via;
    const auto& host = via ? via->host : this->ctx_->ep.host;
    auto port = via ? via->port : this->ctx_->ep.port;
    resolver_.async_resolve(
      host, std::to_string(port),
      [this, self, h = std::move(h)](
        const std::error_code& ec,
        const asio::ip::tcp::resolver::results_type& results) mutable {
        if (this->closed_ || ec == asio::error::operation_aborted)
          return h(error{errc::cancelled, this->ctx_->name + ": cancelled"});
        if (ec)
          return h(error{errc::refused,
                         this->ctx_->name
                           + (this->ctx_->via ? ": cannot resolve the proxy ("
                                              : ": cannot resolve host (")
                           + ec.message() + ")"});
        asio::async_connect(
          this->stream_.lowest_layer(), results,
          [this, self, h = std::move(h)](const std::error_code& ec,
                                         const asio::ip::tcp::endpoint&) {
            if (this->closed_ || ec == asio::error::operation_aborted)
              return h(
                error{errc::cancelled, this->ctx_->name + ": cancelled"});
            if (ec)
              return h(refused(*this->ctx_, ec));
            std::error_code ignored;
            this->stream_.lowest_layer().set_option(
              asio::ip::tcp::no_delay(true), ignored);
            h(std::nullopt);
          });
      });
  }

  asio::ip::tcp::resolver resolver_;
};

class tcp_connection final : public tcp_base<asio::ip::tcp::socket> {
public:
  explicit tcp_connection(const ctx_ptr& ctx) : tcp_base(ctx, ctx->io) {}

  void async_connect(connect_handler h) override {
    connect_tcp(std::move(h));
  }
};

class tls_connection final
    : public tcp_base<asio::ssl::stream<asio::ip::tcp::socket>> {
public:
  explicit tls_connection(const ctx_ptr& ctx)
      : tcp_base(ctx, ctx->io, *ctx->tls) {}

  void async_connect(connect_handler h) override {
    auto self = shared_from_this();
    connect_tcp(
      [this, self, h = std::move(h)](std::optional<error> err) mutable {
        if (err)
          return h(std::move(err));
        if (!ctx_->via)
          return handshake(std::move(h));
        async_tunnel(
          stream_.next_layer(), ctx_->ep, *ctx_->via, ctx_->opts.user_agent,
          ctx_->name,
          [this, self, h = std::move(h)](std::optional<error> err) mutable {
            if (closed_)
              return h(error{errc::cancelled, ctx_->name + ": cancelled"});
            if (err)
              return h(std::move(err));
            handshake(std::move(h));
          });
      });
  }

private:
  void handshake(connect_handler h) {
    const auto& host = ctx_->ep.host;
    std::error_code not_ip;
    asio::ip::make_address(host, not_ip);
    // SNI carries names only (RFC 6066), never addresses.
    if (not_ip
        && !SSL_set_tlsext_host_name(stream_.native_handle(), host.c_str()))
      return h(error{errc::tls, ctx_->name + ": cannot set TLS server name"});
    std::error_code ignored;
    if (ctx_->opts.verify_tls) {
      stream_.set_verify_mode(asio::ssl::verify_peer, ignored);
      // The stream is ours, so the callback (run inside the handshake) may
      // note why it refused: OpenSSL only says "unspecified" for this.
      stream_.set_verify_callback(
        [this, check = asio::ssl::host_name_verification(host)](
          bool preverified, asio::ssl::verify_context& vc) {
          bool ok = check(preverified, vc);
          if (preverified && !ok)
            name_mismatch_ = true;
          return ok;
        },
        ignored);
    } else {
      stream_.set_verify_mode(asio::ssl::verify_none, ignored);
    }
    auto self = shared_from_this();
    stream_.async_handshake(
      asio::ssl::stream_base::client,
      [this, self, h = std::move(h)](const std::error_code& ec) {
        if (closed_ || ec == asio::error::operation_aborted)
          return h(error{errc::cancelled, ctx_->name + ": cancelled"});
        if (!ec)
          return h(std::nullopt);
        std::string msg
          = ctx_->name + ": TLS handshake failed: " + ec.message();
        auto verdict = SSL_get_verify_result(stream_.native_handle());
        if (name_mismatch_)
          msg += " (the certificate is not valid for " + ctx_->ep.host + ")";
        else if (verdict != X509_V_OK)
          msg
            += std::string(" (") + X509_verify_cert_error_string(verdict) + ")";
        h(error{errc::tls, std::move(msg)});
      });
  }

  bool name_mismatch_ = false;
};

std::shared_ptr<connection> make_connection(const ctx_ptr& ctx) {
  switch (ctx->ep.type) {
    case endpoint::kind::unix_socket:
      return std::make_shared<unix_connection>(ctx);
    case endpoint::kind::tcp:
      return std::make_shared<tcp_connection>(ctx);
    case endpoint::kind::tls:
      return std::make_shared<tls_connection>(ctx);
  }
  return nullptr;
}

bool peer_closed(const std::error_code& ec) {
  // A TLS peer that closes without close_notify: the usual way servers end
  // connections, so it counts as an ordinary EOF.
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

std::string millis(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

class client_impl;

// One request/response. Owned by the handlers it has pending; the client
// tracks it weakly (to cancel it) and it tracks the client weakly (to return
// the connection to the pool).
class exchange : public std::enable_shared_from_this<exchange>,
                 private wire::response_sink {
public:
  using clock = std::chrono::steady_clock;

  exchange(ctx_ptr ctx, std::weak_ptr<client_impl> owner, uint64_t id,
           request req, std::function<void(result<response>)> done,
           stream_callbacks cbs)
      : ctx_(std::move(ctx)), owner_(std::move(owner)), id_(id),
        req_(std::move(req)), streaming_(!done), done_cb_(std::move(done)),
        cbs_(std::move(cbs)),
        parser_(std::make_unique<wire::response_parser>(
          static_cast<wire::response_sink&>(*this), req_.method == "HEAD")),
        timer_(ctx_->io) {
    for (const auto& [k, v] : req_.headers)
      if (wire::iequals(k, "Connection") && wire::iequals(v, "close"))
        request_says_close_ = true;
  }

  uint64_t id() const {
    return id_;
  }

  // `idle`: a pooled connection to try first, or null.
  void start(std::shared_ptr<connection> idle) {
    std::string why;
    if (ctx_->setup_error)
      return fail_soon(*ctx_->setup_error);
    // Plain HTTP behind a proxy: absolute-form requests to the proxy (TLS
    // targets are tunnelled, so their requests are ordinary).
    const proxy_server* absolute
      = ctx_->ep.type == endpoint::kind::tcp && ctx_->via ? &*ctx_->via
                                                          : nullptr;
    if (!wire::encode(req_, ctx_->ep, ctx_->opts.user_agent, wire_, &why,
                      absolute))
      return fail_soon(
        error{errc::garbled, ctx_->name + ": cannot send request: " + why});
    req_.body.clear();
    req_.body.shrink_to_fit(); // the encoded copy in wire_ is what is sent
    if (req_.timeout.count() > 0)
      overall_ = clock::now() + req_.timeout;
    if (!idle)
      return connect();
    conn_ = std::move(idle);
    reused_ = true;
    ++attempt_;
    arm_overall();
    write();
  }

  // Ends the exchange with `e`: the pending operation is cancelled and the
  // callback runs later from the io_context, never from inside abort().
  void abort(error e) {
    if (done_ || aborted_)
      return;
    aborted_ = std::move(e);
    if (conn_)
      conn_->close();
    ++timer_gen_;
    timer_.cancel();
    asio::post(ctx_->io,
               [self = shared_from_this()] { self->finish(*self->aborted_); });
  }

  void cancel(const char* why) {
    abort(error{errc::cancelled, ctx_->name + ": " + why + " (" + req_.method
                                   + " " + req_.target + ")"});
  }

  // Streams' flow control (stream_handle::pause/resume): while paused, a
  // read that completes in the streaming phase issues no next read.
  void set_paused(bool on) {
    if (!streaming_ || done_ || aborted_ || paused_ == on)
      return;
    paused_ = on;
    if (phase_ == phase::streaming)
      touch_idle_deadline(); // clears it while paused
    if (!on && parked_) {
      auto keep = std::move(parked_);
      read();
    }
  }

private:
  enum class phase { connecting, waiting, streaming };

  bool stale(uint64_t attempt) const {
    return done_ || aborted_ || attempt != attempt_;
  }

  void fail_soon(error e) {
    asio::post(ctx_->io, [self = shared_from_this(), e = std::move(e)] {
      self->finish(e);
    });
  }

  void connect() {
    ++attempt_;
    reused_ = false;
    phase_ = phase::connecting;
    conn_ = make_connection(ctx_);
    if (ctx_->opts.connect_timeout.count() > 0) {
      connect_deadline_ = clock::now() + ctx_->opts.connect_timeout;
      set_deadline(overall_ ? std::min(*overall_, *connect_deadline_)
                            : *connect_deadline_);
    } else if (overall_) {
      set_deadline(*overall_);
    }
    conn_->async_connect(
      [self = shared_from_this(), a = attempt_](std::optional<error> err) {
        if (self->stale(a))
          return;
        if (err)
          return self->finish(std::move(err));
        self->arm_overall();
        self->write();
      });
  }

  void arm_overall() {
    phase_ = phase::waiting;
    if (overall_)
      set_deadline(*overall_);
    else
      clear_deadline();
  }

  void write() {
    conn_->async_write(asio::buffer(wire_),
                       [self = shared_from_this(),
                        a = attempt_](const std::error_code& ec, std::size_t) {
                         if (self->stale(a))
                           return;
                         if (!ec)
                           return self->read();
                         if (self->can_retry())
                           return self->retry();
                         self->finish(self->closed_error(
                           "sending the request failed: " + ec.message()));
                       });
  }

  void read() {
    conn_->async_read_some(asio::buffer(buf_),
                           [self = shared_from_this(), a = attempt_](
                             const std::error_code& ec, std::size_t n) {
                             if (!self->stale(a))
                               self->on_read(ec, n);
                           });
  }

  void on_read(const std::error_code& ec, std::size_t n) {
    using state = wire::response_parser::state;
    if (!ec) {
      auto st = parser_->feed(std::string_view(buf_.data(), n));
      if (aborted_)
        return; // a callback cancelled us; finish is on its way
      switch (st) {
        case state::more:
          if (paused_ && phase_ == phase::streaming) {
            parked_ = shared_from_this(); // set_paused(false) reads on
            return;
          }
          return read();
        case state::complete:
          return complete();
        case state::failed:
          return finish(
            error{errc::garbled, ctx_->name + ": garbled response to " + what()
                                   + ": " + parser_->error()});
        case state::stopped:
        case state::truncated:
          return finish(closed_error("response parsing stopped"));
      }
    }
    if (peer_closed(ec)) {
      auto st = parser_->feed_eof();
      if (aborted_)
        return;
      if (st == state::complete)
        return complete();
    }
    if (can_retry())
      return retry();
    if (peer_closed(ec))
      return finish(closed_error(parser_->saw_bytes()
                                   ? "peer closed the connection mid-response"
                                   : "peer closed the connection before "
                                     "responding"));
    finish(closed_error("reading the response failed: " + ec.message()));
  }

  // Docker (and most servers) close idle keep-alive connections whenever
  // they like; a request that meets such a connection never reached the
  // server's handler, so sending it again is safe even when not idempotent.
  bool can_retry() const {
    return req_.resend_on_stale && reused_ && !retried_
           && !parser_->saw_bytes();
  }

  void retry() {
    retried_ = true;
    conn_->close();
    conn_.reset();
    connect();
  }

  void complete();

  void finish(std::optional<error> err);

  error closed_error(const std::string& why) const {
    return {errc::closed, ctx_->name + ": " + why + " (" + what() + ")"};
  }

  std::string what() const {
    return req_.method + " " + req_.target;
  }

  // -- timeouts: one timer, re-armed lazily -----------------------------------

  void set_deadline(clock::time_point at) {
    deadline_ = at;
    // A wait due no later than `at` re-waits for the rest when it fires.
    if (timer_armed_ && timer_.expiry() <= at)
      return;
    timer_armed_ = true;
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this(),
                       gen = ++timer_gen_](const std::error_code& ec) {
      if (gen != self->timer_gen_)
        return;
      self->timer_armed_ = false;
      if (ec || !self->deadline_ || self->done_ || self->aborted_)
        return;
      if (clock::now() < *self->deadline_)
        return self->set_deadline(*self->deadline_);
      self->abort(self->timeout_error());
    });
  }

  void clear_deadline() {
    deadline_.reset();
  }

  error timeout_error() const {
    std::string msg = ctx_->name + ": ";
    switch (phase_) {
      case phase::connecting:
        if (connect_deadline_
            && (!overall_ || *connect_deadline_ <= *overall_)) {
          msg += "timed out connecting after "
                 + millis(ctx_->opts.connect_timeout);
          break;
        }
        [[fallthrough]];
      case phase::waiting:
        msg += streaming_ ? "no response head" : "no complete response";
        msg += " to " + what() + " within " + millis(req_.timeout);
        break;
      case phase::streaming:
        msg += "stream " + what() + " idle for " + millis(req_.timeout);
        break;
    }
    return {errc::timeout, std::move(msg)};
  }

  // The silence timeout of a stream; none while paused.
  void touch_idle_deadline() {
    if (paused_ || req_.timeout.count() == 0)
      clear_deadline();
    else
      set_deadline(clock::now() + req_.timeout);
  }

  // -- response_sink ----------------------------------------------------------

  void on_head(int status, header_list& headers) override {
    if (aborted_)
      return;
    if (!streaming_) {
      resp_.status = status;
      resp_.headers = std::move(headers);
      return;
    }
    phase_ = phase::streaming;
    touch_idle_deadline();
    if (cbs_.on_head)
      cbs_.on_head(status, headers);
  }

  bool on_body(std::string_view piece) override {
    if (aborted_)
      return false;
    if (!streaming_) {
      resp_.body.append(piece);
      return true;
    }
    touch_idle_deadline();
    if (cbs_.on_data)
      cbs_.on_data(piece);
    return !aborted_;
  }

  ctx_ptr ctx_;
  std::weak_ptr<client_impl> owner_;
  uint64_t id_;
  request req_;
  bool streaming_;
  std::function<void(result<response>)> done_cb_;
  stream_callbacks cbs_;
  response resp_;
  std::unique_ptr<wire::response_parser> parser_;
  std::string wire_;
  std::shared_ptr<connection> conn_;
  std::array<char, std::size_t{16} * 1024> buf_;

  bool request_says_close_ = false;
  bool paused_ = false; // stream flow control
  // Paused with no read pending: then nothing else holds us until
  // set_paused(false) or finish() (a cancel) lets go.
  std::shared_ptr<exchange> parked_;
  bool done_ = false;
  std::optional<error> aborted_;
  bool reused_ = false;
  bool retried_ = false;
  uint64_t attempt_ = 0; // handlers of an earlier connection are ignored
  phase phase_ = phase::connecting;

  asio::steady_timer timer_;
  uint64_t timer_gen_ = 0;
  bool timer_armed_ = false;
  std::optional<clock::time_point> deadline_;
  std::optional<clock::time_point> overall_;
  std::optional<clock::time_point> connect_deadline_;
};

class client_impl final : public client {
public:
  explicit client_impl(ctx_ptr ctx) : ctx_(std::move(ctx)) {}

  // May run on any thread: everything that touches sockets moves to the io
  // thread, where the exchanges are cancelled as close() would.
  ~client_impl() override {
    if (inflight_.empty() && idle_.empty() && !reaper_)
      return;
    asio::post(ctx_->io,
               [inflight = std::move(inflight_), idle = std::move(idle_),
                reaper = std::move(reaper_)] {
                 for (const auto& [id, weak] : inflight)
                   if (auto ex = weak.lock())
                     ex->cancel("client destroyed");
                 for (const auto& c : idle)
                   c.conn->close();
                 if (reaper)
                   reaper->cancel();
               });
  }

  void send(request req, std::function<void(result<response>)> done) override {
    if (!done)
      done = [](const result<response>&) {};
    auto ex = make_exchange(std::move(req), std::move(done), {});
    ex->start(take_idle());
  }

  stream_handle stream(request req, stream_callbacks cbs) override {
    auto ex = make_exchange(std::move(req), nullptr, std::move(cbs));
    // Streams always get their own connection: it is not returned anyway.
    ex->start(nullptr);
    std::weak_ptr<exchange> weak = ex;
    auto& io = ctx_->io;
    return stream_handle(
      [weak, &io] {
        asio::dispatch(io, [weak] {
          if (auto ex = weak.lock())
            ex->cancel("stream cancelled");
        });
      },
      [weak, &io](bool on) {
        asio::dispatch(io, [weak, on] {
          if (auto ex = weak.lock())
            ex->set_paused(on);
        });
      });
  }

  void close() override {
    auto inflight = std::move(inflight_);
    inflight_.clear();
    for (const auto& [id, weak] : inflight)
      if (auto ex = weak.lock())
        ex->cancel("client closed");
    for (const auto& c : idle_)
      c.conn->close();
    idle_.clear();
    if (reaper_)
      reaper_->cancel();
    reaping_ = false;
  }

  const endpoint& where() const override {
    return ctx_->ep;
  }

  void put_idle(std::shared_ptr<connection> c) {
    if (idle_.size() >= ctx_->opts.max_idle_connections) {
      c->close();
      return;
    }
    idle_.push_back({std::move(c), clock::now()});
    if (!reaping_ && ctx_->opts.idle_timeout.count() > 0)
      reap_after(ctx_->opts.idle_timeout);
  }

  void forget(uint64_t id) {
    inflight_.erase(id);
  }

private:
  std::shared_ptr<exchange>
  make_exchange(request req, std::function<void(result<response>)> done,
                stream_callbacks cbs) {
    auto self = std::static_pointer_cast<client_impl>(shared_from_this());
    auto ex = std::make_shared<exchange>(ctx_, self, next_id_++, std::move(req),
                                         std::move(done), std::move(cbs));
    inflight_.emplace(ex->id(), ex);
    return ex;
  }

  // The most recently used connection first: the least likely to have been
  // closed by the peer for idleness.
  std::shared_ptr<connection> take_idle() {
    while (!idle_.empty()) {
      auto c = std::move(idle_.back().conn);
      idle_.pop_back();
      if (c->idle_usable())
        return c;
      c->close();
    }
    return nullptr;
  }

  // Closes the pooled connections idle for idle_timeout, `d` from now and
  // then when the oldest one left is due. The oldest are first (put_idle
  // appends; take_idle takes the newest).
  void reap_after(std::chrono::milliseconds d) {
    if (!reaper_)
      reaper_ = std::make_shared<asio::steady_timer>(ctx_->io);
    reaping_ = true;
    reaper_->expires_after(d);
    std::weak_ptr<client_impl> weak
      = std::static_pointer_cast<client_impl>(shared_from_this());
    reaper_->async_wait([weak](const std::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self)
        return;
      self->reap();
    });
  }

  void reap() {
    reaping_ = false;
    auto timeout = ctx_->opts.idle_timeout;
    auto now = clock::now();
    auto due = idle_.begin();
    while (due != idle_.end() && now - due->since >= timeout)
      (due++)->conn->close();
    idle_.erase(idle_.begin(), due);
    if (!idle_.empty())
      reap_after(std::chrono::duration_cast<std::chrono::milliseconds>(
                   idle_.front().since + timeout - now)
                 + std::chrono::milliseconds{1});
  }

  using clock = std::chrono::steady_clock;
  struct idle_conn {
    std::shared_ptr<connection> conn;
    clock::time_point since; // when it went back to the pool
  };

  ctx_ptr ctx_;
  std::vector<idle_conn> idle_;
  // Closes idle connections (client_options::idle_timeout); created on the
  // io thread when first needed.
  std::shared_ptr<asio::steady_timer> reaper_;
  bool reaping_ = false;
  std::unordered_map<uint64_t, std::weak_ptr<exchange>> inflight_;
  uint64_t next_id_ = 1;
};

void exchange::complete() {
  ++timer_gen_;
  timer_.cancel();
  // Streams keep their connection to themselves (see client::stream).
  if (!streaming_ && parser_->keep_alive() && !request_says_close_)
    if (auto owner = owner_.lock())
      owner->put_idle(std::move(conn_));
  finish(std::nullopt);
}

void exchange::finish(std::optional<error> err) {
  if (done_)
    return;
  done_ = true;
  auto keep = std::move(parked_);
  ++timer_gen_;
  timer_.cancel();
  if (conn_) {
    conn_->close();
    conn_.reset();
  }
  if (auto owner = owner_.lock())
    owner->forget(id_);
  if (streaming_) {
    auto on_end = std::move(cbs_.on_end);
    cbs_ = {};
    if (on_end)
      on_end(std::move(err));
    return;
  }
  auto done = std::move(done_cb_);
  done_cb_ = nullptr;
  result<response> r;
  if (err)
    r.err = std::move(err);
  else
    r.value = std::move(resp_);
  if (done)
    done(std::move(r));
}

std::shared_ptr<asio::ssl::context> make_tls_context(const client_options& o,
                                                     std::string& problem) {
  auto tls
    = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  tls->set_options(asio::ssl::context::default_workarounds
                   | asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3
                   | asio::ssl::context::no_tlsv1
                   | asio::ssl::context::no_tlsv1_1);
  std::error_code ec;
  tls->set_default_verify_paths(ec);
  if (ec)
    problem = "cannot load the system CA store: " + ec.message();
  if (!o.extra_ca_pem.empty()) {
    tls->add_certificate_authority(asio::buffer(o.extra_ca_pem), ec);
    if (ec)
      problem = "invalid extra CA certificate: " + ec.message();
  }
  return tls;
}

} // namespace

std::shared_ptr<client> client::make(asio::io_context& io, endpoint ep,
                                     client_options opts) {
  auto ctx = std::make_shared<shared_ctx>(io, std::move(ep), std::move(opts));
  ctx->name = to_string(ctx->ep);
  if (ctx->ep.type != endpoint::kind::unix_socket) {
    const auto& proxy = ctx->opts.proxy;
    if (proxy.server) {
      ctx->via = proxy.server;
      ctx->name += " via proxy " + to_string(*proxy.server);
    }
    if (!proxy.error.empty())
      ctx->setup_error = error{errc::refused, ctx->name + ": " + proxy.error};
  }
  if (ctx->ep.type == endpoint::kind::tls) {
    std::string problem;
    ctx->tls = make_tls_context(ctx->opts, problem);
    if (!problem.empty() && !ctx->setup_error)
      ctx->setup_error = error{errc::tls, ctx->name + ": " + problem};
  }
  return std::make_shared<client_impl>(std::move(ctx));
}

} // namespace bosun::http
