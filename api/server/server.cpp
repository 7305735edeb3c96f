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
// The router behind a body-size check (the default handler type is a
// std::function, which holds both).
using traits_t
  = restinio::single_thread_traits_t<restinio::asio_timer_manager_t,
                                     restinio::null_logger_t>;
using server_t = restinio::http_server_t<traits_t>;

constexpr std::size_t mib = 1024 * 1024;
// The largest body read at all: beyond it RESTinio closes the connection
// without an answer. Below it, each route's own limit answers 413.
constexpr std::size_t max_read_body = 16 * mib;

// A target state may be large; every other body is small.
std::size_t body_limit(restinio::string_view_t path) {
  return path == "/v2/local/target-state" ? 10 * mib : mib;
}

// A route's handler behind the check its access says: open routes answer
// at once; every other one only with a known key (or in local mode).
void dispatch(const route_context& ctx, const route_entry& e,
              restinio::request_handle_t req, route_params params) {
  if (e.access == route_access::open) {
    e.handler(route_call{nullptr, ctx, req, params, auth::scope::everything()});
    return;
  }
  auto p = std::make_shared<route_params>(std::move(params));
  with_auth(ctx, req, [&e, ctx, req, p](auto* self, const auth::scope& s) {
    e.handler(route_call{self, ctx, req, *p, s});
  });
}

std::unique_ptr<router_t> make_router(const route_context& ctx) {
  auto router = std::make_unique<router_t>();
  for (const auto& e : device_api_routes())
    router->add_handler(e.method, e.path, [ctx, &e](auto req, auto params) {
      dispatch(ctx, e, std::move(req), std::move(params));
      return restinio::request_accepted();
    });
  // balena authenticates before routing: without a valid key an unknown
  // route is 401, with one it is 404.
  router->non_matched_request_handler([ctx](auto req) {
    with_auth(ctx, req, [req](auto*, const auth::scope&) {
      reply_failed(req, restinio::status_not_found(), "Not found");
    });
    return restinio::request_accepted();
  });
  return router;
}

// The router throws on a path it cannot normalize (a malformed %-escape or
// UTF-8 sequence), and RESTinio then closes the connection unanswered.
bool routable(restinio::string_view_t path) {
  try {
    (void)restinio::utils::uri_normalization::unreserved_chars::
      estimate_required_capacity(path);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace

void add_route(route_table& t, restinio::http_method_id_t method,
               std::string path, std::function<void(const route_call&)> h) {
  t.push_back({method, std::move(path), route_access::key, std::move(h)});
}

void add_open_route(route_table& t, restinio::http_method_id_t method,
                    std::string path,
                    std::function<void(const route_call&)> h) {
  t.push_back({method, std::move(path), route_access::open, std::move(h)});
}

const route_table& device_api_routes() {
  static const route_table table = [] {
    route_table t;
    add_health_routes(t);
    add_local_routes(t);
    add_logs_routes(t);
    add_cloud_routes(t);
    add_v1_routes(t);
    add_v2_routes(t);
    add_host_routes(t);
    add_telemetry_routes(t);
    return t;
  }();
  return table;
}

restinio::default_request_handler_t make_handler(const route_context& ctx) {
  std::shared_ptr<router_t> router = make_router(ctx);
  return [router](restinio::request_handle_t req) {
    if (!routable(req->header().path())) {
      reply_failed(req, restinio::status_bad_request(),
                   "Malformed request path");
      return restinio::request_accepted();
    }
    auto limit = body_limit(req->header().path());
    if (req->body().size() > limit) {
      reply_failed(req, restinio::status_payload_too_large(),
                   "The request body is larger than "
                     + std::to_string(limit / mib) + " MiB");
      return restinio::request_accepted();
    }
    return (*router)(std::move(req));
  };
}

namespace {

class restinio_server final : public api_server {
public:
  restinio_server(asio::io_context& io, const server_options& opts,
                  const server_deps& deps)
      : server_(restinio::external_io_context(io), [&](auto& s) {
          s.port(opts.port)
            .address(opts.address)
            // Device API actions wait for containers to stop (up to their
            // stop timeout) before they answer.
            .handle_request_timeout(120s)
            .read_next_http_message_timelimit(60s)
            // How long one write may wait for a client that does not read.
            // It is the server's, not a response's (RESTinio 0.6), and the
            // /v2/local/logs stream needs it long: a follower paused for
            // minutes (`balena logs` in a suspended terminal) keeps its
            // stream, as with the Supervisor; meanwhile bosun holds one
            // write (a batch of its 512 KiB queue) and the queue, which
            // drops and counts. Other responses are held whole as long by a
            // client that never reads them: that costs a connection and
            // one answer's bytes for 5 minutes.
            .write_http_response_timelimit(5min)
            .incoming_http_msg_limits(
              restinio::incoming_http_msg_limits_t{}.max_body_size(
                max_read_body))
            .request_handler(make_handler(route_context{
              deps.sys, deps.root, opts, deps.log, quiet_fn(io, deps)}));
        }) {}

  // POST /v1/reboot|shutdown accepted: close the listener on the io
  // thread (RESTinio's close only closes the acceptor; connections in
  // flight finish).
  std::function<void()> quiet_fn(asio::io_context& io,
                                 const server_deps& deps) {
    auto log = deps.log;
    return [this, &io, log] {
      asio::post(io, [this, log] {
        if (quiet_)
          return;
        quiet_ = true;
        server_.close_async(
          [log] { log->info("api", "Stopped Supervisor API"); },
          [](std::exception_ptr) {});
      });
    };
  }

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
  bool quiet_ = false; // io thread only
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
