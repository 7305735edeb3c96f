#include "tools/cloud-sim/device_server.hpp"

#include "tools/cloud-sim/device_api.hpp"
#include "tools/cloud-sim/json.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <cctype>
#include <deque>
#include <http_parser.h>
#include <iostream>
#include <unordered_map>
#include <vector>

namespace bosun::cloud_sim {

using tcp = asio::ip::tcp;

class device_connection;

struct device_server_state {
  device_server_state(asio::io_context& io, model& m, fault_table& f,
                      device_server_options o)
      : io(io), m(m), faults(f), opts(std::move(o)), acceptor(io) {}
  asio::io_context& io;
  model& m;
  fault_table& faults;
  device_server_options opts;
  tcp::acceptor acceptor;
  bool stopped = false;
  uint64_t next_id = 0;
  std::unordered_map<uint64_t, std::weak_ptr<device_connection>> conns;
  // Stalled connections have no pending I/O to keep them alive: this does.
  std::vector<std::shared_ptr<device_connection>> parked;
};

namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

std::string serialize(const device_response& r, bool close) {
  std::string out
    = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  bool bodyless = r.status == 304 || r.status == 204;
  if (!bodyless) {
    if (!r.body.empty())
      out += "Content-Type: application/json\r\n";
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  for (auto& [k, v] : r.headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (close)
    out += "Connection: close\r\n";
  out += "\r\n";
  if (!bodyless)
    out += r.body;
  return out;
}

device_response fault_response(const fault_action& a) {
  device_response r;
  r.status = a.status;
  r.body = a.body.empty() ? json::error("fault injected by cloud-sim") : a.body;
  if (!a.retry_after.empty())
    r.headers.emplace_back("Retry-After", a.retry_after);
  return r;
}

const char* fault_name(action_kind k) {
  switch (k) {
    case action_kind::none:
      return "";
    case action_kind::status:
      return "status";
    case action_kind::delay:
      return "delay";
    case action_kind::drop:
      return "drop";
    case action_kind::hangup:
      return "hangup";
    case action_kind::stall:
      return "stall";
  }
  return "";
}

} // namespace

// One client connection. Requests are answered one at a time, in order; the
// socket is not read while one is being answered, so a stalled request holds
// its connection still. The log stream is handled while it is being parsed.
class device_connection
    : public std::enable_shared_from_this<device_connection> {
public:
  device_connection(std::shared_ptr<device_server_state> s, tcp::socket sock,
                    uint64_t id)
      : s_(std::move(s)), sock_(std::move(sock)), timer_(s_->io), id_(id) {
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
    http_parser_settings_init(&settings_);
    settings_.on_message_begin
      = [](http_parser* p) { return self(p)->begin_message(); };
    settings_.on_url = [](http_parser* p, const char* at, size_t n) {
      self(p)->url_.append(at, n);
      return 0;
    };
    settings_.on_header_field = [](http_parser* p, const char* at, size_t n) {
      auto* c = self(p);
      if (c->in_value_)
        c->commit_header();
      c->field_.append(at, n);
      return 0;
    };
    settings_.on_header_value = [](http_parser* p, const char* at, size_t n) {
      auto* c = self(p);
      c->in_value_ = true;
      c->value_.append(at, n);
      return 0;
    };
    settings_.on_headers_complete = [](http_parser* p) {
      auto* c = self(p);
      c->commit_header();
      return c->headers_done();
    };
    settings_.on_body = [](http_parser* p, const char* at, size_t n) {
      return self(p)->body(at, n);
    };
    settings_.on_message_complete
      = [](http_parser* p) { return self(p)->message_done(); };
  }

  ~device_connection() {
    s_->conns.erase(id_);
  }

  void start() {
    std::error_code ec;
    auto ep = sock_.remote_endpoint(ec);
    if (!ec)
      peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    maybe_read();
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    if (phase_ == stream_phase::running || phase_ == stream_phase::parked) {
      // The client went away mid-stream: the stream got no answer.
      s_->m.count_response(route::log_stream, cur_.uuid, 0, 0);
      log(cur_, 0, "");
    }
    phase_ = stream_phase::none;
    timer_.cancel();
    std::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
  }

  // True while still parked.
  bool faults_changed() {
    if (!parked_ || closed_)
      return false;
    if (s_->faults.stalls(parked_route_))
      return true;
    parked_ = false;
    if (phase_ == stream_phase::parked)
      resume_stream();
    else if (!queue_.empty())
      answer_front();
    return false;
  }

private:
  struct pending {
    device_request req;
    route_match match;
    std::string uuid; // for counters
    uint64_t bytes_in = 0;
    bool keep_alive = true;
    bool too_large = false;
    steady::time_point start;
    const char* fault = "";
    std::optional<device_response> ready; // a finished log stream's answer
  };
  enum class stream_phase { none, parked, running, rejected };

  static device_connection* self(http_parser* p) {
    return static_cast<device_connection*>(p->data);
  }

  // -- parsing ---------------------------------------------------------------

  int begin_message() {
    if (phase_ == stream_phase::rejected)
      return 0; // everything after a rejected stream is discarded
    cur_ = pending{};
    cur_.start = steady::now();
    url_.clear();
    field_.clear();
    value_.clear();
    in_value_ = false;
    header_bytes_ = 0;
    stream_ended_ = false;
    return 0;
  }

  void commit_header() {
    if (!field_.empty()) {
      header_bytes_ += field_.size() + value_.size() + 4;
      for (auto& c : field_)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (field_ == "authorization")
        cur_.req.authorization = value_;
      else if (field_ == "if-none-match")
        cur_.req.if_none_match = value_;
      else if (field_ == "content-encoding")
        cur_.req.content_encoding = value_;
    }
    field_.clear();
    value_.clear();
    in_value_ = false;
  }

  int headers_done() {
    if (phase_ == stream_phase::rejected)
      return 0;
    auto& r = cur_.req;
    r.method = http_method_str(static_cast<http_method>(parser_.method));
    auto q = url_.find('?');
    r.path = percent_decode(std::string_view(url_).substr(0, q), false);
    if (q != std::string::npos)
      r.query = url_.substr(q + 1);
    cur_.match = classify(r.method, r.path);
    cur_.uuid = attribute(s_->m, cur_.match, r.authorization);
    cur_.bytes_in = r.method.size() + url_.size() + header_bytes_ + 13;
    s_->m.count_request(cur_.match.r, cur_.uuid, wall_ms());
    if (cur_.match.r == route::log_stream)
      return start_stream();
    return 0;
  }

  int body(const char* at, size_t n) {
    if (cur_.match.r == route::log_stream)
      return stream_body(at, n);
    cur_.bytes_in += n;
    if (cur_.req.body.size() + n > s_->opts.max_body)
      cur_.too_large = true;
    else
      cur_.req.body.append(at, n);
    return 0;
  }

  int message_done() {
    if (phase_ == stream_phase::rejected)
      return 0;
    cur_.keep_alive = http_should_keep_alive(&parser_) != 0;
    if (cur_.match.r == route::log_stream)
      return stream_done();
    s_->m.count_bytes_in(cur_.match.r, cur_.uuid, cur_.bytes_in);
    queue_.push_back(std::move(cur_));
    cur_ = pending{};
    return 0;
  }

  // -- the log stream --------------------------------------------------------

  int start_stream() {
    if (busy_ || !queue_.empty()) {
      closing_ = true; // a stream pipelined behind a request: unsupported
      return -1;
    }
    s_->m.count_bytes_in(route::log_stream, cur_.uuid, cur_.bytes_in);
    auto a = s_->faults.decide(route::log_stream, steady::now());
    cur_.fault = fault_name(a.kind);
    switch (a.kind) {
      case action_kind::none:
        open_stream();
        return 0;
      case action_kind::status:
        reject(fault_response(a));
        return 0;
      case action_kind::drop:
      case action_kind::hangup: // a stream's request is its whole life
        s_->m.count_response(route::log_stream, cur_.uuid, 0, 0);
        log(cur_, 0, cur_.fault);
        closing_ = true;
        return -1;
      case action_kind::delay: {
        phase_ = stream_phase::parked;
        timer_.expires_after(a.delay);
        timer_.async_wait([me = shared_from_this()](std::error_code ec) {
          if (!ec && !me->closed_)
            me->resume_stream();
        });
        return 0;
      }
      case action_kind::stall:
        phase_ = stream_phase::parked;
        park(route::log_stream);
        return 0;
    }
    return 0;
  }

  void open_stream() {
    if (auto err = check_log_stream(s_->m, cur_.match, cur_.req)) {
      reject(*err);
      return;
    }
    session_ = std::make_unique<log_session>(
      cur_.uuid, cur_.req.content_encoding == "gzip");
    phase_ = stream_phase::running;
  }

  void resume_stream() {
    open_stream();
    if (phase_ == stream_phase::running) {
      std::string backlog;
      backlog.swap(backlog_);
      feed_stream(backlog.data(), backlog.size());
      if (phase_ == stream_phase::running && stream_ended_)
        finish_stream();
    }
    backlog_.clear();
    pump();
    maybe_read();
  }

  int stream_body(const char* at, size_t n) {
    s_->m.count_bytes_in(route::log_stream, cur_.uuid, n);
    cur_.bytes_in += n;
    switch (phase_) {
      case stream_phase::parked:
        backlog_.append(at, n);
        break;
      case stream_phase::running:
        feed_stream(at, n);
        break;
      case stream_phase::none:
      case stream_phase::rejected:
        break;
    }
    return 0;
  }

  void feed_stream(const char* at, size_t n) {
    if (!session_->feed(s_->m, at, n, wall_ms()))
      reject(session_->finish(s_->m, wall_ms())); // corrupt gzip: 400
  }

  int stream_done() {
    if (phase_ == stream_phase::parked)
      stream_ended_ = true;
    else if (phase_ == stream_phase::running)
      finish_stream();
    return 0;
  }

  void finish_stream() {
    cur_.ready = session_->finish(s_->m, wall_ms());
    session_.reset();
    phase_ = stream_phase::none;
    queue_.push_back(std::move(cur_));
    cur_ = pending{};
  }

  // Answers the stream at once and closes; what the client still sends is
  // read and thrown away for a moment, so it sees the answer, not a reset.
  void reject(const device_response& r) {
    session_.reset();
    phase_ = stream_phase::rejected;
    backlog_.clear();
    auto p = std::make_shared<pending>(std::move(cur_));
    cur_ = pending{};
    auto out = std::make_shared<std::string>(serialize(r, true));
    int status = r.status;
    asio::async_write(
      sock_, asio::buffer(*out),
      [me = shared_from_this(), out, p, status](std::error_code ec, size_t n) {
        me->s_->m.count_response(p->match.r, p->uuid, status, n);
        me->log(*p, status, p->fault);
        if (ec || me->closed_)
          return me->close();
        std::error_code ignored;
        me->sock_.shutdown(tcp::socket::shutdown_send, ignored);
        me->timer_.expires_after(std::chrono::seconds(1));
        me->timer_.async_wait([me](std::error_code) { me->close(); });
      });
  }

  // -- answering -------------------------------------------------------------

  void park(route r) {
    parked_ = true;
    parked_route_ = r;
    s_->parked.push_back(shared_from_this());
  }

  void pump() {
    if (busy_ || closed_ || closing_ || queue_.empty())
      return;
    busy_ = true;
    auto& p = queue_.front();
    if (p.ready)
      return respond(*p.ready);
    if (p.too_large)
      return respond({413, json::error("body too large"), {}});
    auto a = s_->faults.decide(p.match.r, steady::now());
    p.fault = fault_name(a.kind);
    switch (a.kind) {
      case action_kind::none:
        return answer_front();
      case action_kind::status:
        return respond(fault_response(a));
      case action_kind::drop:
        s_->m.count_response(p.match.r, p.uuid, 0, 0);
        log(p, 0, p.fault);
        return close();
      case action_kind::delay:
        timer_.expires_after(a.delay);
        timer_.async_wait([me = shared_from_this()](std::error_code ec) {
          if (!ec && !me->closed_)
            me->answer_front();
        });
        return;
      case action_kind::stall:
        park(p.match.r);
        return;
      case action_kind::hangup:
        if (a.delay.count() == 0)
          return hang_up();
        timer_.expires_after(a.delay);
        timer_.async_wait([me = shared_from_this()](std::error_code ec) {
          if (!ec && !me->closed_)
            me->hang_up();
        });
        return;
    }
  }

  // The request is handled as usual, but its answer never leaves: the
  // connection closes instead.
  void hang_up() {
    auto& p = queue_.front();
    handle(s_->m, p.match, p.req, wall_ms());
    s_->m.count_response(p.match.r, p.uuid, 0, 0);
    log(p, 0, p.fault);
    close();
  }

  void answer_front() {
    auto& p = queue_.front();
    respond(handle(s_->m, p.match, p.req, wall_ms()));
  }

  void respond(const device_response& r) {
    auto& p = queue_.front();
    bool close_after = !p.keep_alive;
    out_ = serialize(r, close_after);
    int status = r.status;
    asio::async_write(sock_, asio::buffer(out_),
                      [me = shared_from_this(), status,
                       close_after](std::error_code ec, size_t n) {
                        if (me->queue_.empty())
                          return;
                        auto& p = me->queue_.front();
                        me->s_->m.count_response(p.match.r, p.uuid, status, n);
                        me->log(p, status, p.fault);
                        me->queue_.pop_front();
                        me->busy_ = false;
                        if (ec || close_after)
                          return me->close();
                        me->pump();
                        me->maybe_read();
                      });
  }

  // -- reading ---------------------------------------------------------------

  void maybe_read() {
    if (reading_ || closed_ || closing_ || busy_ || !queue_.empty()
        || phase_ == stream_phase::parked)
      return;
    reading_ = true;
    sock_.async_read_some(asio::buffer(buf_), [me = shared_from_this()](
                                                std::error_code ec, size_t n) {
      me->reading_ = false;
      if (ec || me->closed_)
        return me->close();
      me->consume(n);
    });
  }

  void consume(size_t n) {
    size_t done = http_parser_execute(&parser_, &settings_, buf_.data(), n);
    if (closing_)
      return close();
    if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK || done != n) {
      if (phase_ != stream_phase::rejected && !busy_ && queue_.empty()) {
        if (cur_.req.method.empty()) // not counted yet: it never parsed
          s_->m.count_request(route::other, "", wall_ms());
        cur_.fault = "";
        reject({400,
                json::error(http_errno_description(
                  static_cast<http_errno>(parser_.http_errno))),
                {}});
      } else if (phase_ != stream_phase::rejected) {
        close();
      }
      return;
    }
    pump();
    maybe_read();
  }

  void log(const pending& p, int status, const char* fault) {
    if (!s_->opts.verbose)
      return;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                steady::now() - p.start)
                .count();
    std::cerr << "[cloud-sim] " << peer_ << " " << p.req.method << " "
              << p.req.path << (p.req.query.empty() ? "" : "?") << p.req.query
              << " -> "
              << (status == 0 ? std::string("no answer")
                              : std::to_string(status))
              << " (" << name_of(p.match.r) << ", " << ms << " ms"
              << (p.uuid.empty() ? "" : ", device ") << p.uuid
              << (*fault != '\0' ? ", fault " : "") << fault << ")\n";
  }

  std::shared_ptr<device_server_state> s_;
  tcp::socket sock_;
  asio::steady_timer timer_;
  uint64_t id_;
  std::string peer_;
  http_parser parser_{};
  http_parser_settings settings_{};
  std::array<char, 16384> buf_{};
  bool reading_ = false;
  bool busy_ = false;    // the queue's front is being answered
  bool closing_ = false; // decided inside a parser callback
  bool closed_ = false;
  bool parked_ = false;
  route parked_route_ = route::other;

  pending cur_; // being parsed
  std::string url_, field_, value_;
  bool in_value_ = false;
  size_t header_bytes_ = 0;
  std::deque<pending> queue_; // parsed, to answer in order
  std::string out_;

  stream_phase phase_ = stream_phase::none;
  std::unique_ptr<log_session> session_;
  std::string backlog_;       // stream body that came while parked
  bool stream_ended_ = false; // ...and the stream ended while parked
};

namespace {

void accept(const std::shared_ptr<device_server_state>& s) {
  s->acceptor.async_accept([s](std::error_code ec, tcp::socket sock) {
    if (s->stopped)
      return;
    if (!ec) {
      auto c
        = std::make_shared<device_connection>(s, std::move(sock), ++s->next_id);
      s->conns[s->next_id] = c;
      c->start();
    }
    accept(s);
  });
}

} // namespace

device_server::device_server(asio::io_context& io, model& m,
                             fault_table& faults, device_server_options opts)
    : state_(
      std::make_shared<device_server_state>(io, m, faults, std::move(opts))) {
  tcp::endpoint ep(asio::ip::make_address(state_->opts.address),
                   state_->opts.port);
  auto& a = state_->acceptor;
  a.open(ep.protocol());
  a.set_option(tcp::acceptor::reuse_address(true));
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
  accept(state_);
}

device_server::~device_server() {
  try {
    stop();
  } catch (...) { // NOLINT(bugprone-empty-catch): nothing left to do
  }
}

uint16_t device_server::port() const {
  std::error_code ec;
  return state_->acceptor.local_endpoint(ec).port();
}

void device_server::stop() {
  if (state_->stopped)
    return;
  state_->stopped = true;
  std::error_code ec;
  state_->acceptor.close(ec);
  std::vector<std::shared_ptr<device_connection>> live;
  for (auto& [id, w] : state_->conns)
    if (auto c = w.lock())
      live.push_back(std::move(c));
  for (auto& c : live)
    c->close();
  state_->parked.clear();
}

void device_server::faults_changed() {
  auto parked = std::move(state_->parked);
  state_->parked.clear();
  for (auto& c : parked)
    if (c->faults_changed())
      state_->parked.push_back(c);
}

} // namespace bosun::cloud_sim
