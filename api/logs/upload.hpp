#pragma once

// The cloud log stream's connection: one long-lived HTTP/1.1 POST whose
// chunked body is written piece by piece while the request is open
// (api/client only sends whole bodies). Over TCP or TLS (or a unix socket,
// for tests), on the shared io_context.
//
// Per reference/state.md "Logs": the headers go first; data may follow only
// after a grace period without an answer. *Any* answer, error, timeout or
// close is a failure, except the answer to finish().
//
// Behind an HTTP proxy (target::proxy), TLS goes through a CONNECT tunnel
// and plain HTTP to the proxy in absolute form, as in api/client.
//
// Threads: events are called on the io thread; a connection's methods may be
// called from any thread (they post to the io thread). Destroying the
// connection object closes it, without further events.
#include "api/client/client.hpp"

#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace bosun::log_upload {

struct target {
  http::endpoint ep;
  std::string path;    // "/device/v2/<uuid>/log-stream"
  std::string api_key; // sent as "Authorization: Bearer <api_key>"
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  // After the headers, before opened(): an early answer (401, 404…) costs
  // no lines.
  std::chrono::milliseconds grace{std::chrono::seconds(5)};
  // One write() (the peer not reading for this long is a failure), and the
  // wait for the answer after finish().
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
  bool verify_tls = true; // system CA store, host name checked
  std::string user_agent; // sent when not empty
  // The HTTP proxy, if any (ignored for unix sockets); a setting with an
  // error fails every connection with it.
  http::proxy_setting proxy;
};

struct events {
  // The headers are out and the grace period passed without an answer.
  std::function<void()> opened;
  // One write() is on the wire; `bytes` is the data given to it.
  std::function<void(size_t bytes)> written;
  // The stream ended: std::nullopt after finish() got a 2xx answer, else
  // why ("cloud answered 401 Unauthorized", "connection refused", …).
  std::function<void(std::optional<std::string> error)> closed;
};

class connection {
public:
  virtual ~connection() = default;
  // Sends `data` (gzip bytes) as one chunk. Writes go out in order.
  virtual void write(std::string data) = 0;
  // Sends `data` (the gzip trailer) and the last chunk, then waits for the
  // answer: closed(nullopt) on 2xx.
  virtual void finish(std::string data) = 0;
  // Ends it now; no event follows.
  virtual void close() = 0;
};

using factory = std::function<std::unique_ptr<connection>(events)>;

// Connections to `t` on `io`.
factory asio_factory(asio::io_context& io, target t);

// The log stream target for a device: `endpoint` is logsEndpoint or
// apiEndpoint ("https://api.balena-cloud.com"), through the proxy `env`
// names for it (http::proxy_for). std::nullopt with `why` set when the
// endpoint is not a URL we can connect to.
std::optional<target>
device_target(const std::string& endpoint, const std::string& uuid,
              const std::string& api_key, std::string* why = nullptr,
              const http::env_lookup& env = http::process_env);

// The request head, without the body: POST, Host, Authorization,
// Content-Type application/x-ndjson, Content-Encoding gzip,
// Transfer-Encoding chunked; for plain HTTP behind a proxy, the absolute
// form and Proxy-Authorization. std::nullopt with `why` when a field holds CR,
// LF or NUL.
std::optional<std::string> request_head(const target& t,
                                        std::string* why = nullptr);

// One chunk of a chunked body: "<hex size>\r\n<data>\r\n" ("" for no data:
// an empty chunk would end the body).
std::string chunk_header(size_t size);

} // namespace bosun::log_upload
