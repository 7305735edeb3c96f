#pragma once

// The HTTP/1.1 wire format, without I/O: request encoding and an incremental
// response parser over http_parser. Pure, so every byte split is unit tested.
#include "api/client/client.hpp"

#include <cstddef>
#include <http_parser.h>
#include <string>
#include <string_view>

namespace bosun::http::wire {

bool iequals(std::string_view a, std::string_view b);

// Splits "host", "host:port", "[v6]" or "[v6]:port" (a URL's authority
// without user info) into the host, without brackets, and the port's text,
// empty when absent. false with `why` set when a bracket is unmatched, a ':'
// has no port after it, or the host is missing or holds blanks, CR, LF, NUL,
// brackets or '@'.
bool split_host_port(std::string_view s, std::string& host,
                     std::string_view& port, std::string* why);

// The Host header for `ep`: "localhost" for unix sockets (Docker rejects
// requests without one), host[:port] otherwise, the port only when it is not
// the scheme's default and IPv6 literals in brackets.
std::string host_header(const endpoint& ep);

// Encodes `req`, adding Host, User-Agent (when `user_agent` is not empty) and
// Content-Length (when the body is not empty or the method is POST, PUT or
// PATCH) unless the caller set them. Returns false with `why` set when a
// field would break the framing (CR, LF or NUL in it, an empty method, or a
// target not starting with '/'): such bytes must never reach the peer.
// With `via` (a plain HTTP target behind that proxy) the request line carries
// the absolute form ("GET http://host:8080/path HTTP/1.1") and the proxy's
// credentials go in Proxy-Authorization.
bool encode(const request& req, const endpoint& ep, std::string_view user_agent,
            std::string& out, std::string* why,
            const proxy_server* via = nullptr);

// Receives what response_parser finds, as it finds it.
class response_sink {
public:
  virtual ~response_sink() = default;
  virtual void on_head(int status, header_list& headers) = 0;
  // A piece of the de-chunked body. Returns false to stop parsing.
  virtual bool on_body(std::string_view piece) = 0;
};

// Parses one response incrementally; construct a fresh one per response.
class response_parser {
public:
  enum class state {
    more,     // needs more bytes
    complete, // the response ended; see keep_alive() and surplus()
    failed,   // not HTTP; see error()
    stopped,  // the sink returned false
    truncated // the peer closed before the response ended
  };

  // `head_request`: the response to HEAD has no body, whatever it announces.
  explicit response_parser(response_sink& sink, bool head_request = false);
  response_parser(const response_parser&) = delete;
  response_parser& operator=(const response_parser&) = delete;

  // Feeds bytes as they were read. After `complete`, further bytes only count
  // as surplus (they make the connection unusable for keep-alive).
  state feed(std::string_view bytes);

  // The peer closed the connection: ends an EOF-delimited body (complete);
  // otherwise the response is truncated (see saw_bytes()).
  state feed_eof();

  bool saw_bytes() const {
    return saw_bytes_;
  }
  bool saw_head() const {
    return saw_head_;
  }
  // Whether the connection may carry another request (after `complete`).
  bool keep_alive() const {
    return keep_alive_ && surplus_ == 0;
  }
  std::size_t surplus() const {
    return surplus_;
  }
  // "HPE_INVALID_STATUS: invalid HTTP status code" after `failed`.
  const std::string& error() const {
    return error_;
  }

private:
  static int on_header_field(http_parser* p, const char* at, std::size_t n);
  static int on_header_value(http_parser* p, const char* at, std::size_t n);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, std::size_t n);
  static int on_message_complete(http_parser* p);
  state run(const char* data, std::size_t n);

  response_sink& sink_;
  bool head_request_;
  http_parser parser_;
  http_parser_settings settings_;
  header_list headers_;
  bool in_value_ = false;
  bool interim_ = false; // a 1xx response, skipped
  bool saw_bytes_ = false;
  bool saw_head_ = false;
  bool complete_ = false;
  bool stopped_ = false;
  bool keep_alive_ = false;
  std::size_t surplus_ = 0;
  std::string error_;
};

} // namespace bosun::http::wire
