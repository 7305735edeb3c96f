#include "actors/engine/engine_logic.hpp"

#include "api/docker/codec.hpp"

#include <algorithm>
#include <cstdio>

namespace bosun::engine_logic {

caf::error from_status(int status, std::string_view body,
                       std::string_view what) {
  auto msg = std::string{};
  if (!body.empty())
    msg = docker::error_message(body);
  if (msg.empty()) {
    msg = what.empty() ? std::string{"HTTP "} + std::to_string(status)
                       : std::string{what};
  }
  if (status == 304)
    return caf::make_error(engine_errc::not_modified, std::move(msg));
  if (status == 404)
    return caf::make_error(engine_errc::not_found, std::move(msg));
  if (status == 409)
    return caf::make_error(engine_errc::conflict, std::move(msg));
  if (status >= 500)
    return caf::make_error(engine_errc::server_error, std::move(msg));
  if (status >= 400 && status != 400)
    msg = "HTTP " + std::to_string(status) + ": " + msg;
  return caf::make_error(engine_errc::bad_request, std::move(msg));
}

caf::error from_transport(const http::error& err) {
  switch (err.code) {
    case http::errc::timeout:
      return caf::make_error(engine_errc::timeout, err.message);
    case http::errc::garbled:
      return caf::make_error(engine_errc::protocol, err.message);
    case http::errc::refused:
    case http::errc::closed:
    case http::errc::tls:
    case http::errc::cancelled:
      break;
  }
  return caf::make_error(engine_errc::unavailable, err.message);
}

bool means_down(const http::error& err) {
  return err.code == http::errc::refused || err.code == http::errc::closed;
}

std::chrono::milliseconds backoff_delay(uint32_t attempt,
                                        std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max) {
  auto d = initial;
  for (uint32_t i = 0; i < attempt && d < max; ++i)
    d *= 2;
  return std::min(d, max);
}

std::string resume_since(int64_t time_nano) {
  auto t = time_nano + 1;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%lld.%09lld",
                static_cast<long long>(t / 1000000000),
                static_cast<long long>(t % 1000000000));
  return buf;
}

std::string with_since(std::string target, std::string_view since) {
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += "since=";
  target += since;
  return target;
}

} // namespace bosun::engine_logic
