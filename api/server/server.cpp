#include "api/server/server.hpp"

#include "api/cloud/target_codec.hpp"
#include "api/server/json.hpp"
#include "messages/app_manager.hpp"

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

void reply_json(const restinio::request_handle_t& req,
                restinio::http_status_line_t status, std::string body) {
  req->create_response(std::move(status))
    .append_header(restinio::http_field::content_type,
                   "application/json; charset=utf-8")
    .set_body(std::move(body))
    .done();
}

// balena's error shape: {"status":"failed","message":"..."}.
void reply_failed(const restinio::request_handle_t& req,
                  restinio::http_status_line_t status,
                  const std::string& message) {
  reply_json(req, std::move(status), failed_json(message));
}

// Asks the core actor `name` (its current handle, from root) with `f`, which
// gets the typed handle and must answer the request on every path.
template <class Handle, class F>
void with_actor(caf::actor_system& sys, root_actor root, std::string name,
                restinio::request_handle_t req, F f) {
  sys.spawn([root, name, req, f](caf::event_based_actor* self) {
    self->request(root, 5s, caf::get_atom_v, name)
      .then(
        [=](const caf::actor& a) {
          if (!a) {
            reply_failed(req, restinio::status_service_unavailable(),
                         name + " is restarting; try again");
            return;
          }
          f(self, caf::actor_cast<Handle>(a));
        },
        [=](const caf::error& e) {
          reply_failed(req, restinio::status_service_unavailable(),
                       self->system().render(e));
        });
  });
}

std::unique_ptr<router_t> make_router(const server_deps& deps,
                                      const server_options& opts) {
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
  auto& sys = deps.sys;
  auto root = deps.root;
  router->http_get("/v2/local/target-state", [&sys, root](auto req, auto) {
    with_actor<app_manager_actor>(
      sys, root, "app_manager", req, [req](auto* self, auto am) {
        self->request(am, 5s, caf::get_atom_v, target_atom_v)
          .then(
            [req](const std::optional<target_state>& t) {
              target_state empty;
              empty.source = target_source::local;
              reply_json(req, restinio::status_ok(),
                         cloud::encode_local_target(t ? *t : empty));
            },
            [req, self](const caf::error& e) {
              reply_failed(req, restinio::status_service_unavailable(),
                           self->system().render(e));
            });
      });
    return restinio::request_accepted();
  });
  router->http_post(
    "/v2/local/target-state",
    [&sys, root, local = opts.local_mode](auto req, auto) {
      if (!local) {
        reply_failed(req, restinio::status_bad_request(),
                     "Target state can only set when device is in local "
                     "mode");
        return restinio::request_accepted();
      }
      auto decoded = cloud::decode_local_target(req->body());
      if (!decoded) {
        reply_failed(req, restinio::status_bad_request(),
                     decoded.error.to_string());
        return restinio::request_accepted();
      }
      apply_target cmd;
      cmd.target = std::move(decoded->target);
      cmd.force = query_truthy(req, "force");
      with_actor<app_manager_actor>(
        sys, root, "app_manager", req, [req, cmd](auto* self, auto am) {
          self->request(am, 30s, cmd)
            .then(
              [req](uint64_t) {
                reply_json(req, restinio::status_ok(),
                           R"({"status":"success","message":"OK"})");
              },
              [req, self](const caf::error& e) {
                reply_failed(req, restinio::status_service_unavailable(),
                             self->system().render(e));
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
            .request_handler(make_router(deps, opts));
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
