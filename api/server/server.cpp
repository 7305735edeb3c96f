#include "api/server/server.hpp"

#include <caf/event_based_actor.hpp>
#include <chrono>
#include <restinio/all.hpp>

namespace bosun {

namespace {

using namespace std::chrono_literals;

using router_t = restinio::router::express_router_t<>;
using traits_t
  = restinio::single_thread_traits_t<restinio::asio_timer_manager_t,
                                     restinio::null_logger_t, router_t>;
using server_t = restinio::http_server_t<traits_t>;

void reply_text(const restinio::request_handle_t& req,
                restinio::http_status_line_t status, std::string body) {
  req->create_response(std::move(status))
    .append_header(restinio::http_field::content_type,
                   "text/plain; charset=utf-8")
    .set_body(std::move(body))
    .done();
}

std::unique_ptr<router_t> make_router(const server_deps& deps) {
  auto router = std::make_unique<router_t>();
  // Never authenticated, answered in the handler: load balancers and the
  // balena CLI call it first and often.
  router->http_get("/ping", [](auto req, auto) {
    reply_text(req, restinio::status_ok(), "OK");
    return restinio::request_accepted();
  });
  router->http_get(
    "/v1/healthy", [&sys = deps.sys, root = deps.root](auto req, auto) {
      sys.spawn([req, root](caf::event_based_actor* self) {
        self->request(root, 5s, health_atom_v)
          .then(
            [=](const agent_health& h) {
              if (h.healthy)
                reply_text(req, restinio::status_ok(), "OK");
              else
                reply_text(req, restinio::status_internal_server_error(),
                           "Unhealthy");
            },
            [=](const caf::error&) {
              reply_text(req, restinio::status_internal_server_error(),
                         "Unhealthy");
            });
      });
      return restinio::request_accepted();
    });
  router->non_matched_request_handler([](auto req) {
    req->create_response(restinio::status_not_found())
      .append_header(restinio::http_field::content_type, "application/json")
      .set_body(R"({"status":"failed","message":"Not found"})")
      .done();
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
            .request_handler(make_router(deps));
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
