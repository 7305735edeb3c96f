#pragma once

// Requests for the device API's request handler (api/server/routes.hpp
// make_handler) without a socket: a connection that records what the
// handlers write, and the request that carries it. Used by the handler's
// unit tests and the request fuzzer (tests/fuzz).
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <restinio/all.hpp>
#include <string>

namespace bosun::test {

// Records the responses written to it (their in-memory parts); one request
// per connection.
class recording_connection final : public restinio::impl::connection_base_t {
public:
  recording_connection() : connection_base_t(1) {}

  void write_response_parts(restinio::request_id_t,
                            restinio::response_output_flags_t,
                            restinio::write_group_t wg) override {
    std::string text;
    for (const auto& item : wg.items())
      if (item.write_type()
          == restinio::writable_item_type_t::trivial_write_operation) {
        auto buf = item.buf();
        text.append(static_cast<const char*>(buf.data()), buf.size());
      }
    std::lock_guard<std::mutex> guard{mx_};
    ++writes_;
    text_ += text;
    cv_.notify_all();
  }

  void check_timeout(
    std::shared_ptr<restinio::tcp_connection_ctx_base_t>&) override {}

  // True when something was written within `d`.
  bool wait(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock{mx_};
    return cv_.wait_for(lock, d, [this] { return writes_ > 0; });
  }

  // Everything written so far: status line, headers, body.
  std::string text() {
    std::lock_guard<std::mutex> guard{mx_};
    return text_;
  }

private:
  std::mutex mx_;
  std::condition_variable cv_;
  int writes_ = 0;
  std::string text_;
};

// A request for `target` (path and query) whose answer goes to `conn`.
inline restinio::request_handle_t
make_request(std::shared_ptr<recording_connection> conn,
             restinio::http_method_id_t method, std::string target,
             std::string body = {},
             restinio::http_header_fields_t fields = {}) {
  restinio::http_request_header_t header{method, std::move(target)};
  for (const auto& f : fields)
    header.set_field(f);
  restinio::no_extra_data_factory_t extra;
  return std::make_shared<restinio::request_t>(1, std::move(header),
                                               std::move(body), std::move(conn),
                                               restinio::endpoint_t{}, extra);
}

} // namespace bosun::test
