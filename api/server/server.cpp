#include "api/server/server.hpp"

#include "api/server/routes.hpp"

#include <chrono>
#include <restinio/all.hpp>

namespace bosun {

using namespace std::chrono_literals;

void reply_text(const restinio::request_handle_t& req,
                restinio::http_status_line_t status, std::string body) {
  req->create_response(std::move(status))
    .append_header(restinio::http_field::content_type,
                   "text/plain; charset=utf-8")
    .set_body(std::move(body))
    .done();
}

void reply_json(const restinio::request_handle_t& req,
                restinio::http_status_line_t status, std::string body) {
  req->create_response(std::move(status))
    .append_header(restinio::http_field::content_type,
                   "application/json; charset=utf-8")
    .set_body(std::move(body))
    .done();
}

void reply_failed(const restinio::request_handle_t& req,
                  restinio::http_status_line_t status,
                  const std::string& message) {
  reply_json(req, std::move(status), failed_json(message));
}

namespace {

// The one TU that instantiates the server: http_server_t is the most
// expensive template in the build (STACK.md), routes live elsewhere.
using traits_t
  = restinio::single_thread_traits_t<restinio::asio_timer_manager_t,
                                     restinio::null_logger_t, router_t>;
using server_t = restinio::http_server_t<traits_t>;

std::unique_ptr<router_t> make_router(const route_context& ctx) {
  auto router = std::make_unique<router_t>();
  add_health_routes(*router, ctx);
  add_local_routes(*router, ctx);
  add_logs_routes(*router, ctx);
  router->non_matched_request_handler([](auto req) {
    reply_failed(req, restinio::status_not_found(), "Not found");
    return restinio::request_accepted();
  });
  return router;
}

class restinio_server final : public api_server {
public:
  restinio_server(asio::io_context& io, const server_options& opts,
                  const server_deps& deps)
      : server_(restinio::external_io_context(io), [&](auto& s) {
          s.port(opts.port)
            .address(opts.address)
            .handle_request_timeout(10s)
            .read_next_http_message_timelimit(60s)
            .write_http_response_timelimit(10s)
            .request_handler(
              make_router(route_context{deps.sys, deps.root, opts, deps.log}));
        }) {}

  void open(std::function<void(const std::string&)> on_error) {
    server_.open_async([] {},
                       [on_error](std::exception_ptr ex) {
                         try {
                           std::rethrow_exception(ex);
                         } catch (const std::exception& e) {
                           on_error(e.what());
                         }
                       });
  }

  void close(std::function<void()> done) override {
    server_.close_async([done] { done(); },
                        [done](std::exception_ptr) { done(); });
  }

private:
  server_t server_;
};

} // namespace

std::unique_ptr<api_server>
api_server::start(asio::io_context& io, server_options opts, server_deps deps,
                  std::function<void(const std::string&)> on_error) {
  auto s = std::make_unique<restinio_server>(io, opts, deps);
  s->open(std::move(on_error));
  return s;
}

} // namespace bosun
