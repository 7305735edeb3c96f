#pragma once

// HTTP/1.1 client over Asio, to unix sockets, TCP and TLS.
//
// Everything runs on the io_context's one thread: callbacks are invoked there,
// exactly once per request (stream callbacks: on_head at most once, on_data
// any number of times, on_end exactly once). Callers that are actors turn the
// callback into a message to themselves; this library knows nothing of CAF.
//
// Thread-safety: a client may be created on any thread, but send()/stream()/
// close() must be called on the io thread (use asio::post from elsewhere).
#include "api/client/proxy.hpp"

#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace bosun::http {

// Where a client connects: "unix:///var/run/docker.sock", "http://host:port",
// "https://host[:port]". A bare path ("/run/docker.sock") means unix.
struct endpoint {
  enum class kind { unix_socket, tcp, tls };
  kind type = kind::unix_socket;
  std::string path; // unix socket path
  std::string host; // tcp/tls host name or address; also the Host header
  uint16_t port = 0;
};

// Parses an endpoint URL; std::nullopt with `why` set when it is not one.
// Also accepts "tcp://host:port" (DOCKER_HOST style, plain HTTP). URLs may end
// in "/" but carry no other path, query or user info.
std::optional<endpoint> parse_endpoint(std::string_view url,
                                       std::string* why = nullptr);

// The endpoint as a URL ("unix:///var/run/docker.sock", "https://host:443"),
// as error messages name it.
std::string to_string(const endpoint& ep);

using header_list = std::vector<std::pair<std::string, std::string>>;

struct request {
  std::string method = "GET";
  std::string target = "/"; // path and query, already escaped
  header_list headers;      // Host and Content-Length are added when absent
  std::string body;
  // Whole exchange for send(); for stream(), time to the response head and
  // the longest allowed silence between body pieces. 0 = no limit (the
  // connect phase stays bounded by client_options::connect_timeout).
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // A request that meets a reused keep-alive connection closed by the peer
  // before any answer is sent once more on a new connection (the peer most
  // likely closed it for idleness). Off when the peer must never see the
  // request twice: a peer that read it and then closed looks the same.
  bool resend_on_stale = true;
};

struct response {
  int status = 0;
  header_list headers;
  std::string body; // de-chunked
  // Case-insensitive lookup; empty when absent.
  std::string_view header(std::string_view name) const;
};

enum class errc {
  refused = 1, // nothing listens at the endpoint (ECONNREFUSED, ENOENT, DNS)
  closed,      // the peer closed or reset before the response completed
  timeout,     // the request's timeout passed
  garbled,     // the peer's bytes are not valid HTTP, or the request could
               // not be encoded (CR/LF in a header, target without '/')
  tls,         // TLS handshake or verification failed
  cancelled,   // close() or cancel() was called
};
const char* to_string(errc);

struct error {
  errc code;
  std::string message; // human-readable, names the endpoint and the cause
};

template <class T>
struct result {
  std::optional<error> err; // set on failure; then `value` is meaningless
  T value{};
  explicit operator bool() const {
    return !err;
  }
};

struct stream_callbacks {
  std::function<void(int status, const header_list&)> on_head;
  std::function<void(std::string_view piece)> on_data; // de-chunked bytes
  // Called once: no error when the body ended normally.
  std::function<void(std::optional<error>)> on_end;
};

class stream_handle {
public:
  stream_handle() = default;
  explicit stream_handle(std::function<void()> cancel,
                         std::function<void(bool)> pause = {})
      : cancel_(std::move(cancel)), pause_(std::move(pause)) {}
  // Ends the stream: on_end is called with errc::cancelled (on the io thread,
  // never from inside cancel() itself), unless the stream already ended; no
  // on_data follows a cancel() made on the io thread. Callable from any
  // thread while the io_context exists; a no-op on a default handle.
  void cancel() {
    if (cancel_)
      cancel_();
  }
  // Flow control: pause() stops reading the body from the connection (the
  // peer and the kernel hold the rest) until resume(); the silence timeout
  // does not run meanwhile, and a cancel() still ends the stream. Bytes read
  // before the pause took effect may still arrive: from a pause() made on the
  // io thread inside on_data, the rest of that read (at most 16 KiB). Takes
  // effect once the head has arrived. Same threads as cancel(); idempotent.
  void pause() {
    if (pause_)
      pause_(true);
  }
  void resume() {
    if (pause_)
      pause_(false);
  }

private:
  std::function<void()> cancel_;
  std::function<void(bool)> pause_;
};

struct client_options {
  std::size_t max_idle_connections = 4; // keep-alive pool size
  // A pooled keep-alive connection idle this long is closed (0: kept until
  // the peer closes it or it is taken). The cloud client sets one
  // (actors/cloud/http_transport.hpp says why).
  std::chrono::milliseconds idle_timeout{0};
  // Resolve + connect (+ TLS handshake); 0 = only the request timeout.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  bool verify_tls = true; // system CA store
  std::string user_agent; // sent when not empty
  // PEM certificates trusted in addition to the system store (e.g. the
  // decoded balenaRootCA of config.json); a bad PEM fails requests with tls.
  std::string extra_ca_pem;
  // The HTTP proxy for TCP and TLS endpoints (proxy_for() in proxy.hpp reads
  // it from the environment); unix sockets never use one. TLS goes through a
  // CONNECT tunnel (the connect timeout covers the proxy's connect, CONNECT
  // and the handshake with the target, whose name is the one verified);
  // plain HTTP goes to the proxy as absolute-form requests. Error messages
  // then name both: "https://api.example.com:443 via proxy
  // http://10.0.0.1:3128: connection refused". A proxy that refuses the
  // tunnel fails the request with errc::refused and its status; a setting
  // with an error fails every request with errc::refused.
  proxy_setting proxy;
};

class client : public std::enable_shared_from_this<client> {
public:
  static std::shared_ptr<client> make(asio::io_context& io, endpoint ep,
                                      client_options opts = {});
  virtual ~client() = default;

  // Sends a request and buffers the whole response body. Reuses an idle
  // keep-alive connection when one is available.
  virtual void send(request req, std::function<void(result<response>)> done)
    = 0;

  // Sends a request whose body is read incrementally (events, logs, pull
  // progress). The connection is not returned to the pool.
  virtual stream_handle stream(request req, stream_callbacks cbs) = 0;

  // Cancels everything in flight (callbacks get errc::cancelled) and closes
  // idle connections. The client stays usable.
  //
  // Destroying the client (dropping the last shared_ptr, on any thread) does
  // the same: requests in flight are cancelled, and their callbacks still run
  // once, later, on the io thread with errc::cancelled. Callbacks are dropped
  // without being called only when the io_context stops running for good
  // (its pending handlers are destroyed, never invoked).
  virtual void close() = 0;

  virtual const endpoint& where() const = 0;
};

} // namespace bosun::http
