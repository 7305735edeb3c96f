#include "api/client/wire.hpp"

#include <algorithm>
#include <cctype>

namespace bosun::http::wire {

namespace {

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool has_header(const header_list& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [name](const auto& h) { return iequals(h.first, name); });
}

bool framing_safe(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == s.npos;
}

bool token_safe(std::string_view s) {
  return !s.empty() && framing_safe(s) && s.find_first_of(" \t:") == s.npos;
}

void append_header(std::string& out, std::string_view name,
                   std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

} // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

bool split_host_port(std::string_view s, std::string& host,
                     std::string_view& port, std::string* why) {
  auto fail = [why](const char* text) {
    if (why)
      *why = text;
    return false;
  };
  port = {};
  std::string_view name;
  bool colon = false;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos)
      return fail("unterminated IPv6 address");
    name = s.substr(1, close - 1);
    auto rest = s.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return fail("junk after IPv6 address");
    colon = !rest.empty();
    port = colon ? rest.substr(1) : rest;
  } else {
    auto at = s.find(':');
    name = s.substr(0, at);
    colon = at != std::string_view::npos;
    if (colon)
      port = s.substr(at + 1);
  }
  if (colon && port.empty())
    return fail("empty port");
  if (name.empty())
    return fail("missing host");
  if (name.find_first_of(std::string_view(" \t\r\n[]@\0", 8))
      != std::string_view::npos)
    return fail("invalid host");
  host = std::string(name);
  return true;
}

std::string host_header(const endpoint& ep) {
  if (ep.type == endpoint::kind::unix_socket)
    return ep.host.empty() ? "localhost" : ep.host;
  std::string out
    = ep.host.find(':') == std::string::npos ? ep.host : "[" + ep.host + "]";
  auto default_port = ep.type == endpoint::kind::tls ? 443 : 80;
  if (ep.port != 0 && ep.port != default_port)
    out += ":" + std::to_string(ep.port);
  return out;
}

bool encode(const request& req, const endpoint& ep, std::string_view user_agent,
            std::string& out, std::string* why, const proxy_server* via) {
  auto fail = [why](std::string text) {
    if (why)
      *why = std::move(text);
    return false;
  };
  if (!token_safe(req.method) || req.method.find('/') != std::string::npos)
    return fail("invalid request method '" + req.method + "'");
  if (req.target.empty() || req.target[0] != '/' || !framing_safe(req.target)
      || req.target.find_first_of(" \t") != std::string::npos)
    return fail("invalid request target (must start with '/' and contain no "
                "spaces or line breaks)");
  for (const auto& [name, value] : req.headers) {
    if (!token_safe(name))
      return fail("invalid header name '" + name + "'");
    if (!framing_safe(value))
      return fail("header " + name + " contains a line break");
  }
  if (!framing_safe(user_agent))
    return fail("user agent contains a line break");
  if (via && !framing_safe(via->authorization))
    return fail("proxy credentials contain a line break");
  out.clear();
  out.reserve(128 + req.target.size() + req.body.size());
  out.append(req.method).append(" ");
  if (via)
    out.append("http://").append(host_header(ep));
  out.append(req.target).append(" HTTP/1.1\r\n");
  if (!has_header(req.headers, "Host"))
    append_header(out, "Host", host_header(ep));
  if (!user_agent.empty() && !has_header(req.headers, "User-Agent"))
    append_header(out, "User-Agent", user_agent);
  if (via && !via->authorization.empty()
      && !has_header(req.headers, "Proxy-Authorization"))
    append_header(out, "Proxy-Authorization", via->authorization);
  for (const auto& [name, value] : req.headers)
    append_header(out, name, value);
  bool wants_length = !req.body.empty() || req.method == "POST"
                      || req.method == "PUT" || req.method == "PATCH";
  if (wants_length && !has_header(req.headers, "Content-Length")
      && !has_header(req.headers, "Transfer-Encoding"))
    append_header(out, "Content-Length", std::to_string(req.body.size()));
  out.append("\r\n");
  out.append(req.body);
  return true;
}

// -- response_parser ----------------------------------------------------------

response_parser::response_parser(response_sink& sink, bool head_request)
    : sink_(sink), head_request_(head_request) {
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  http_parser_settings_init(&settings_);
  settings_.on_header_field = &response_parser::on_header_field;
  settings_.on_header_value = &response_parser::on_header_value;
  settings_.on_headers_complete = &response_parser::on_headers_complete;
  settings_.on_body = &response_parser::on_body;
  settings_.on_message_complete = &response_parser::on_message_complete;
}

int response_parser::on_header_field(http_parser* p, const char* at,
                                     std::size_t n) {
  auto* self = static_cast<response_parser*>(p->data);
  if (self->in_value_ || self->headers_.empty()) {
    self->headers_.emplace_back();
    self->in_value_ = false;
  }
  self->headers_.back().first.append(at, n);
  return 0;
}

int response_parser::on_header_value(http_parser* p, const char* at,
                                     std::size_t n) {
  auto* self = static_cast<response_parser*>(p->data);
  self->in_value_ = true;
  // A value without a field cannot happen: http_parser rejects it.
  if (!self->headers_.empty())
    self->headers_.back().second.append(at, n);
  return 0;
}

int response_parser::on_headers_complete(http_parser* p) {
  auto* self = static_cast<response_parser*>(p->data);
  // 100 Continue and 102/103 come before the real response: skip them.
  if (p->status_code / 100 == 1 && p->status_code != 101) {
    self->interim_ = true;
    self->headers_.clear();
    self->in_value_ = false;
    return 0;
  }
  self->saw_head_ = true;
  self->sink_.on_head(static_cast<int>(p->status_code), self->headers_);
  // 1 tells http_parser that this response has no body.
  return self->head_request_ ? 1 : 0;
}

int response_parser::on_body(http_parser* p, const char* at, std::size_t n) {
  auto* self = static_cast<response_parser*>(p->data);
  if (self->sink_.on_body(std::string_view(at, n)))
    return 0;
  self->stopped_ = true;
  return 1;
}

int response_parser::on_message_complete(http_parser* p) {
  auto* self = static_cast<response_parser*>(p->data);
  if (self->interim_) {
    self->interim_ = false;
    return 0;
  }
  self->complete_ = true;
  self->keep_alive_ = http_should_keep_alive(p) != 0;
  // Stop here: whatever follows belongs to no request of ours.
  http_parser_pause(p, 1);
  return 0;
}

response_parser::state response_parser::run(const char* data, std::size_t n) {
  auto parsed = http_parser_execute(&parser_, &settings_, data, n);
  if (stopped_)
    return state::stopped;
  if (complete_) {
    surplus_ += n - std::min(parsed, n);
    return state::complete;
  }
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err != HPE_OK || parsed != n) {
    error_
      = std::string(http_errno_name(err)) + ": " + http_errno_description(err);
    return state::failed;
  }
  return state::more;
}

response_parser::state response_parser::feed(std::string_view bytes) {
  if (!error_.empty())
    return state::failed;
  if (stopped_)
    return state::stopped;
  if (complete_) {
    surplus_ += bytes.size();
    return state::complete;
  }
  if (bytes.empty())
    return state::more;
  saw_bytes_ = true;
  return run(bytes.data(), bytes.size());
}

response_parser::state response_parser::feed_eof() {
  if (complete_)
    return state::complete;
  if (!error_.empty())
    return state::failed;
  if (stopped_)
    return state::stopped;
  // A zero-length execute ends an EOF-delimited body; anywhere else it is
  // an error (HPE_INVALID_EOF_STATE), which here means truncation.
  http_parser_execute(&parser_, &settings_, nullptr, 0);
  if (stopped_)
    return state::stopped;
  return complete_ ? state::complete : state::truncated;
}

} // namespace bosun::http::wire
