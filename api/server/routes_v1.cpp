// The v1 routes (reference/api.md): each decodes its input, checks the
// key's scope, asks the owning actor and words the answer as balena does.
// /v1/healthy and /v1/update live elsewhere.
#include "api/server/route_util.hpp"
#include "messages/host.hpp"

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
void app_action_route(route_table& t, const char* path, app_action_kind kind) {
  add_route(t, restinio::http_method_post(), path, [kind](const route_call& c) {
    auto body = body_fields(c.req);
    if (!body)
      return;
    auto app_id = api::check_int(*body, "appId");
    bool purge = kind == app_action_kind::purge;
    if (!app_id)
      return reply_text(c.req, restinio::status_bad_request(),
                        purge ? "Invalid or missing appId" : "Missing app id");
    app_action cmd{kind, *app_id, api::check_truthy(*body, "force")};
    if (!c.scope.allows(cmd.app_id))
      return reply_json_failed_401(c.req, "Unauthorized");
    auto* self = c.self;
    ask_core(self, c.ctx, &core_actors::app_manager, c.req,
             [self, req = c.req, cmd, purge](app_manager_actor am) {
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
}

// POST /v1/apps/:appId/stop|start.
void service_action_route(route_table& t, const char* path,
                          service_action_kind kind) {
  add_route(t, restinio::http_method_post(), path, [kind](const route_call& c) {
    auto body = body_fields(c.req);
    if (!body)
      return;
    auto app_id = api::check_int(std::string(c.params["appId"]));
    if (!app_id)
      return reply_text(c.req, restinio::status_bad_request(),
                        "Invalid app id");
    service_action cmd;
    cmd.kind = kind;
    cmd.app_id = *app_id;
    cmd.force = api::check_truthy(*body, "force");
    if (!c.scope.allows(cmd.app_id))
      return reply_text(c.req, restinio::status_unauthorized(), "Unauthorized");
    auto* self = c.self;
    ask_core(self, c.ctx, &core_actors::app_manager, c.req,
             [self, req = c.req, cmd](app_manager_actor am) {
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
}

} // namespace

void add_v1_routes(route_table& t) {
  // Replaces the key the request was made with (same scope).
  add_route(
    t, restinio::http_method_post(), "/v1/regenerate-api-key",
    [](const route_call& c) {
      auto key = request_key(c.req);
      if (!key)
        return reply_failed(c.req, restinio::status_service_unavailable(),
                            "No API key was given to regenerate");
      auto* self = c.self;
      ask_core(self, c.ctx, &core_actors::api_keys, c.req,
               [self, req = c.req, key](api_keys_actor keys) {
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

  app_action_route(t, "/v1/restart", app_action_kind::restart);
  app_action_route(t, "/v1/purge", app_action_kind::purge);
  service_action_route(t, "/v1/apps/:appId/stop", service_action_kind::stop);
  service_action_route(t, "/v1/apps/:appId/start", service_action_kind::start);

  add_route(
    t, restinio::http_method_get(), "/v1/apps/:appId", [](const route_call& c) {
      auto app_id = api::check_int(std::string(c.params["appId"]));
      if (!app_id)
        return reply_text(c.req, restinio::status_bad_request(),
                          "Missing app id");
      if (!c.scope.allows(*app_id))
        return reply_json_failed_401(c.req, "Application is not available");
      auto* self = c.self;
      ask_core(self, c.ctx, &core_actors::app_manager, c.req,
               [self, req = c.req, id = *app_id](app_manager_actor am) {
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

  add_route(
    t, restinio::http_method_get(), "/v1/device", [](const route_call& c) {
      auto* self = c.self;
      with_core(
        self, c.ctx, c.req,
        [self, req = c.req, port = c.ctx.opts.port](const core_actors& core) {
          auto am = core.app_manager;
          auto host = core.host;
          if (!am)
            return reply_failed(req, restinio::status_service_unavailable(),
                                "app_manager is restarting; try again");
          self->request(am, 10s, apps_view_request{})
            .then(
              [self, req, am, port, host](const apps_view& v) {
                self->request(am, 10s, caf::get_atom_v, device_atom_v)
                  .then(
                    [self, req, v, port, host](const device_details& d) {
                      // Addresses from the host actor; none while it is
                      // restarting.
                      auto answer = [req, v, d, port](const host_addresses& h) {
                        reply_json(req, restinio::status_ok(),
                                   api::encode_legacy_device(v, d, h, port));
                      };
                      if (!host)
                        return answer({});
                      self->request(host, 10s, caf::get_atom_v, addrs_atom_v)
                        .then(answer,
                              [answer](const caf::error&) { answer({}); });
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
}

} // namespace bosun
