#pragma once

// Shared by the route files: the router type, the context every handler
// gets, and the helpers that answer requests. Each routes_*.cpp registers
// its routes with add_*_routes(router, ctx); server.cpp owns the server.
#include "actors/logger.hpp"
#include "api/server/json.hpp"
#include "api/server/server.hpp"
#include "messages/root.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <chrono>
#include <memory>
#include <restinio/request_handler.hpp>
#include <restinio/router/express.hpp>
#include <string>

namespace bosun {

using router_t = restinio::router::express_router_t<>;
using route_params = restinio::router::route_params_t;

struct route_context {
  caf::actor_system& sys;
  root_actor root;
  server_options opts;
  std::shared_ptr<const logger> log;
};

void reply_text(const restinio::request_handle_t& req,
                restinio::http_status_line_t status, std::string body);

void reply_json(const restinio::request_handle_t& req,
                restinio::http_status_line_t status, std::string body);

// balena's error shape: {"status":"failed","message":"..."}.
void reply_failed(const restinio::request_handle_t& req,
                  restinio::http_status_line_t status,
                  const std::string& message);

// Asks the core actor `name` (its current handle, from root) through a
// short-lived actor; `f(self, handle)` must answer the request on every path.
template <class Handle, class F>
void with_actor(const route_context& ctx, std::string name,
                restinio::request_handle_t req, F f) {
  using namespace std::chrono_literals;
  auto root = ctx.root;
  ctx.sys.spawn([root, name, req, f](caf::event_based_actor* self) {
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

// /ping, /v1/healthy.
void add_health_routes(router_t& router, const route_context& ctx);
// /v2/local/target-state (GET, POST).
void add_local_routes(router_t& router, const route_context& ctx);
// /v2/local/logs (GET): the NDJSON log stream.
void add_logs_routes(router_t& router, const route_context& ctx);

} // namespace bosun
