// The v1 routes (reference/api.md): each decodes its input, checks the
// key's scope, asks the owning actor and words the answer as balena does.
// /v1/healthy and /v1/update live elsewhere.
#include "api/server/host_info.hpp"
#include "api/server/route_util.hpp"

namespace bosun {

namespace {

using namespace std::chrono_literals;

// Actions may wait for a container to stop (its stop timeout) and for the
// app's containers to go.
constexpr auto action_timeout = 100s;

void reply_json_failed_401(const restinio::request_handle_t& req,
                           const char* message) {
  reply_failed(req, restinio::status_unauthorized(), message);
}

// POST /v1/restart and /v1/purge: appId in the body.
void app_action_route(router_t& router, const route_context& ctx,
                      const char* path, app_action_kind kind) {
  router.http_post(path, [ctx, kind](auto req, auto) {
    auto body = body_fields(req);
    if (!body)
      return restinio::request_accepted();
    auto app_id = api::check_int(*body, "appId");
    bool purge = kind == app_action_kind::purge;
    if (!app_id) {
      reply_text(req, restinio::status_bad_request(),
                 purge ? "Invalid or missing appId" : "Missing app id");
      return restinio::request_accepted();
    }
    app_action cmd{kind, *app_id, api::check_truthy(*body, "force")};
    with_auth(ctx, req,
              [ctx, req, cmd, purge](auto* self, const auth::scope& scope) {
                if (!scope.allows(cmd.app_id))
                  return reply_json_failed_401(req, "Unauthorized");
                ask_core<app_manager_actor>(
                  self, ctx, "app_manager", req,
                  [self, req, cmd, purge](app_manager_actor am) {
                    self->request(am, action_timeout, cmd)
                      .then(
                        [req, purge] {
                          if (purge)
                            reply_json(req, restinio::status_ok(),
                                       R"({"Data":"OK","Error":""})");
                          else
                            reply_text(req, restinio::status_ok(), "OK");
                        },
                        [self, req](const caf::error& e) {
                          reply_action_error(self, req, e);
                        });
                  });
              });
    return restinio::request_accepted();
  });
}

// POST /v1/apps/:appId/stop|start.
void service_action_route(router_t& router, const route_context& ctx,
                          const char* path, service_action_kind kind) {
  router.http_post(path, [ctx, kind](auto req, auto params) {
    auto body = body_fields(req);
    if (!body)
      return restinio::request_accepted();
    auto app_id = api::check_int(std::string(params["appId"]));
    if (!app_id) {
      reply_text(req, restinio::status_bad_request(), "Invalid app id");
      return restinio::request_accepted();
    }
    service_action cmd;
    cmd.kind = kind;
    cmd.app_id = *app_id;
    cmd.force = api::check_truthy(*body, "force");
    with_auth(ctx, req, [ctx, req, cmd](auto* self, const auth::scope& scope) {
      if (!scope.allows(cmd.app_id))
        return reply_text(req, restinio::status_unauthorized(), "Unauthorized");
      ask_core<app_manager_actor>(
        self, ctx, "app_manager", req, [self, req, cmd](app_manager_actor am) {
          self->request(am, action_timeout, cmd)
            .then(
              [req](const service_action_done& d) {
                reply_json(req, restinio::status_ok(),
                           api::encode_container_action(d.container_id));
              },
              [self, req](const caf::error& e) {
                // v1 keeps balena's 400s where v2 says 404.
                if (e == apps_errc::app_not_found
                    || e == apps_errc::service_required
                    || e == apps_errc::service_not_found)
                  return reply_text(req, restinio::status_bad_request(),
                                    error_message(self, e));
                if (e == apps_errc::target_service_not_found)
                  return reply_text(req, restinio::status_not_found(),
                                    error_message(self, e));
                reply_action_error(self, req, e);
              });
        });
    });
    return restinio::request_accepted();
  });
}

} // namespace

void add_v1_routes(router_t& router, const route_context& ctx) {
  // Host actions: bosun does not drive the host OS (yet).
  for (auto* path : {"/v1/reboot", "/v1/shutdown"})
    router.http_post(path, [ctx](auto req, auto) {
      with_auth(ctx, req, [req](auto*, const auth::scope&) {
        reply_json(req, restinio::status_service_unavailable(),
                   std::string(R"({"Data":"","Error":)")
                     + json_string(api::no_host_interface) + "}");
      });
      return restinio::request_accepted();
    });
  router.http_post("/v1/blink", [ctx](auto req, auto) {
    with_auth(ctx, req,
              [req](auto*, const auth::scope&) { reply_no_host(req); });
    return restinio::request_accepted();
  });
  router.add_handler(restinio::http_method_get(), "/v1/device/host-config",
                     [ctx](auto req, auto) {
                       with_auth(ctx, req, [req](auto*, const auth::scope&) {
                         reply_no_host(req);
                       });
                       return restinio::request_accepted();
                     });
  router.add_handler(restinio::http_method_patch(), "/v1/device/host-config",
                     [ctx](auto req, auto) {
                       with_auth(ctx, req, [req](auto*, const auth::scope&) {
                         reply_no_host(req);
                       });
                       return restinio::request_accepted();
                     });

  // Replaces the key the request was made with (same scope).
  router.http_post("/v1/regenerate-api-key", [ctx](auto req, auto) {
    auto key = request_key(req);
    with_auth(ctx, req, [ctx, req, key](auto* self, const auth::scope&) {
      if (!key)
        return reply_failed(req, restinio::status_service_unavailable(),
                            "No API key was given to regenerate");
      ask_core<api_keys_actor>(
        self, ctx, "api_keys", req, [self, req, key](api_keys_actor keys) {
          self->request(keys, 30s, regen_atom_v, *key)
            .then(
              [req](const std::string& fresh) {
                reply_text(req, restinio::status_ok(), fresh);
              },
              [self, req](const caf::error& e) {
                reply_failed(req, restinio::status_service_unavailable(),
                             error_message(self, e));
              });
        });
    });
    return restinio::request_accepted();
  });

  app_action_route(router, ctx, "/v1/restart", app_action_kind::restart);
  app_action_route(router, ctx, "/v1/purge", app_action_kind::purge);
  service_action_route(router, ctx, "/v1/apps/:appId/stop",
                       service_action_kind::stop);
  service_action_route(router, ctx, "/v1/apps/:appId/start",
                       service_action_kind::start);

  router.http_get("/v1/apps/:appId", [ctx](auto req, auto params) {
    auto app_id = api::check_int(std::string(params["appId"]));
    if (!app_id) {
      reply_text(req, restinio::status_bad_request(), "Missing app id");
      return restinio::request_accepted();
    }
    with_auth(
      ctx, req, [ctx, req, id = *app_id](auto* self, const auth::scope& scope) {
        if (!scope.allows(id))
          return reply_json_failed_401(req, "Application is not available");
        ask_core<app_manager_actor>(
          self, ctx, "app_manager", req, [self, req, id](app_manager_actor am) {
            self->request(am, 10s, apps_view_request{true})
              .then(
                [req, id](const apps_view& v) {
                  auto r = api::encode_legacy_app(v, id);
                  if (auto* err = std::get_if<api::legacy_app_error>(&r))
                    return reply_text(req, restinio::status_bad_request(),
                                      err->message);
                  reply_json(req, restinio::status_ok(),
                             std::get<std::string>(r));
                },
                [self, req](const caf::error& e) {
                  reply_action_error(self, req, e);
                });
          });
      });
    return restinio::request_accepted();
  });

  router.http_get("/v1/device", [ctx](auto req, auto) {
    with_auth(ctx, req, [ctx, req](auto* self, const auth::scope&) {
      ask_core<app_manager_actor>(
        self, ctx, "app_manager", req,
        [self, req, port = ctx.opts.port](app_manager_actor am) {
          self->request(am, 10s, apps_view_request{})
            .then(
              [self, req, am, port](const apps_view& v) {
                self->request(am, 10s, caf::get_atom_v, device_atom_v)
                  .then(
                    [req, v, port](const device_details& d) {
                      reply_json(req, restinio::status_ok(),
                                 api::encode_legacy_device(
                                   v, d, api::read_host_addresses(), port));
                    },
                    [self, req](const caf::error& e) {
                      reply_action_error(self, req, e);
                    });
              },
              [self, req](const caf::error& e) {
                reply_action_error(self, req, e);
              });
        });
    });
    return restinio::request_accepted();
  });
}

} // namespace bosun
