// The v2 routes (reference/api.md, reference/cli.md): each decodes its
// input, checks the key's scope, asks the owning actor and encodes the
// answer. Local target-state and logs live elsewhere.
#include "api/server/route_util.hpp"

namespace bosun {

namespace {

using namespace std::chrono_literals;

constexpr auto action_timeout = 100s;
constexpr auto view_timeout = 10s;

// GET routes that encode the apps view (or fail with 503).
template <class Encode>
void view_route(router_t& router, const route_context& ctx, const char* path,
                Encode encode) {
  router.http_get(path, [ctx, encode](auto req, auto) {
    with_auth(ctx, req,
              [ctx, req, encode](auto* self, const auth::scope& scope) {
                ask_core<app_manager_actor>(
                  self, ctx, "app_manager", req,
                  [self, req, encode, scope](app_manager_actor am) {
                    self->request(am, view_timeout, apps_view_request{})
                      .then([req, encode, scope](
                              const apps_view& v) { encode(req, v, scope); },
                            [self, req](const caf::error& e) {
                              reply_action_error(self, req, e);
                            });
                  });
              });
    return restinio::request_accepted();
  });
}

// GET routes that encode the device details.
template <class Encode>
void device_route(router_t& router, const route_context& ctx, const char* path,
                  Encode encode) {
  router.http_get(path, [ctx, encode](auto req, auto) {
    with_auth(ctx, req, [ctx, req, encode](auto* self, const auth::scope&) {
      ask_core<app_manager_actor>(
        self, ctx, "app_manager", req,
        [self, req, encode](app_manager_actor am) {
          self->request(am, view_timeout, caf::get_atom_v, device_atom_v)
            .then(
              [req, encode](const device_details& d) {
                reply_json(req, restinio::status_ok(), encode(d));
              },
              [self, req](const caf::error& e) {
                reply_action_error(self, req, e);
              });
        });
    });
    return restinio::request_accepted();
  });
}

// POST /v2/applications/:appId/{restart,stop,start}-service.
void service_action_route(router_t& router, const route_context& ctx,
                          const char* path, service_action_kind kind) {
  router.http_post(path, [ctx, kind](auto req, auto params) {
    auto body = body_fields(req);
    if (!body)
      return restinio::request_accepted();
    auto app_id = api::check_int(std::string(params["appId"]));
    if (!app_id || *app_id == 0) {
      reply_failed(req, restinio::status_bad_request(), "Invalid app id");
      return restinio::request_accepted();
    }
    service_action cmd;
    cmd.kind = kind;
    cmd.app_id = *app_id;
    cmd.force = api::check_truthy(*body, "force");
    cmd.service_name = api::check_string(*body, "serviceName").value_or("");
    cmd.image_id = api::check_int(*body, "imageId");
    if (cmd.image_id && *cmd.image_id == 0)
      cmd.image_id.reset();
    with_auth(ctx, req, [ctx, req, cmd](auto* self, const auth::scope& scope) {
      if (!scope.allows(cmd.app_id))
        return reply_failed(req, restinio::status_unauthorized(),
                            "Unauthorized");
      // balena refuses before looking at the app: v2 names the service.
      if (cmd.service_name.empty() && !cmd.image_id)
        return reply_text(req, restinio::status_bad_request(),
                          "serviceName or imageId parameters were not "
                          "provided or the app is multi-container. Use the "
                          "v2 service action endpoints.");
      ask_core<app_manager_actor>(
        self, ctx, "app_manager", req, [self, req, cmd](app_manager_actor am) {
          self->request(am, action_timeout, cmd)
            .then(
              [req](const service_action_done&) {
                reply_text(req, restinio::status_ok(), "OK");
              },
              [self, req](const caf::error& e) {
                if (e == apps_errc::service_required)
                  return reply_text(req, restinio::status_bad_request(),
                                    error_message(self, e));
                if (e == apps_errc::app_not_found
                    || e == apps_errc::service_not_found
                    || e == apps_errc::target_service_not_found)
                  return reply_text(req, restinio::status_not_found(),
                                    error_message(self, e));
                reply_action_error(self, req, e);
              });
        });
    });
    return restinio::request_accepted();
  });
}

// POST /v2/applications/:appId/{restart,purge}.
void app_action_route(router_t& router, const route_context& ctx,
                      const char* path, app_action_kind kind) {
  router.http_post(path, [ctx, kind](auto req, auto params) {
    auto body = body_fields(req);
    if (!body)
      return restinio::request_accepted();
    auto app_id = api::check_int(std::string(params["appId"]));
    if (!app_id || *app_id == 0) {
      reply_failed(req, restinio::status_bad_request(), "Missing app id");
      return restinio::request_accepted();
    }
    app_action cmd{kind, *app_id, api::check_truthy(*body, "force")};
    with_auth(ctx, req, [ctx, req, cmd](auto* self, const auth::scope& scope) {
      if (!scope.allows(cmd.app_id))
        return reply_failed(req, restinio::status_unauthorized(),
                            "Unauthorized");
      ask_core<app_manager_actor>(
        self, ctx, "app_manager", req, [self, req, cmd](app_manager_actor am) {
          self->request(am, action_timeout, cmd)
            .then([req] { reply_text(req, restinio::status_ok(), "OK"); },
                  [self, req](const caf::error& e) {
                    reply_action_error(self, req, e);
                  });
        });
    });
    return restinio::request_accepted();
  });
}

} // namespace

void add_v2_routes(router_t& router, const route_context& ctx) {
  service_action_route(router, ctx, "/v2/applications/:appId/restart-service",
                       service_action_kind::restart);
  service_action_route(router, ctx, "/v2/applications/:appId/stop-service",
                       service_action_kind::stop);
  service_action_route(router, ctx, "/v2/applications/:appId/start-service",
                       service_action_kind::start);
  app_action_route(router, ctx, "/v2/applications/:appId/restart",
                   app_action_kind::restart);
  app_action_route(router, ctx, "/v2/applications/:appId/purge",
                   app_action_kind::purge);

  view_route(router, ctx, "/v2/applications/state",
             [](const auto& req, const apps_view& v, const auth::scope& s) {
               reply_json(req, restinio::status_ok(),
                          api::encode_apps_state(v, s));
             });
  router.http_get(
    "/v2/applications/:appId/state", [ctx](auto req, auto params) {
      std::string raw(params["appId"]);
      auto app_id = api::check_int(raw);
      if (!app_id || *app_id == 0) {
        reply_failed(req, restinio::status_bad_request(),
                     "Invalid application ID: " + raw);
        return restinio::request_accepted();
      }
      with_auth(
        ctx, req, [ctx, req, id = *app_id](auto* self, const auth::scope& s) {
          ask_core<app_manager_actor>(
            self, ctx, "app_manager", req,
            [self, req, id, s](app_manager_actor am) {
              self->request(am, view_timeout, apps_view_request{})
                .then(
                  [req, id, s](const apps_view& v) {
                    auto body = api::encode_app_state(v, id);
                    // Out of scope reads as absent (balena).
                    if (!body || !s.allows(id))
                      return reply_failed(req, restinio::status_conflict(),
                                          "Application ID does not exist: "
                                            + std::to_string(id));
                    reply_json(req, restinio::status_ok(), *body);
                  },
                  [req, id](const caf::error&) {
                    reply_failed(req, restinio::status_internal_server_error(),
                                 "Unable to retrieve state for application ID: "
                                   + std::to_string(id));
                  });
            });
        });
      return restinio::request_accepted();
    });
  view_route(router, ctx, "/v2/state/status",
             [](const auto& req, const apps_view& v, const auth::scope& s) {
               reply_json(req, restinio::status_ok(),
                          api::encode_state_status(v, s));
             });
  view_route(router, ctx, "/v2/containerId",
             [](const auto& req, const apps_view& v, const auth::scope& s) {
               auto name = query_param(req, "serviceName");
               if (!name)
                 name = query_param(req, "service");
               if (!name)
                 return reply_json(req, restinio::status_ok(),
                                   api::encode_container_ids(v, s));
               if (auto body = api::encode_container_id(v, s, *name))
                 return reply_json(req, restinio::status_ok(), *body);
               reply_failed(req, restinio::status_service_unavailable(),
                            "Could not find service with that name");
             });

  router.http_get("/v2/version", [ctx](auto req, auto) {
    with_auth(ctx, req, [req](auto*, const auth::scope&) {
      reply_json(req, restinio::status_ok(), api::encode_version());
    });
    return restinio::request_accepted();
  });
  device_route(
    router, ctx, "/v2/local/device-info",
    [](const device_details& d) { return api::encode_device_info(d); });
  device_route(router, ctx, "/v2/device/name", [](const device_details& d) {
    return api::encode_device_name(d);
  });

  // Tags are kept in the db; the cloud link reports them when there is one.
  router.http_get("/v2/device/tags", [ctx](auto req, auto) {
    with_auth(ctx, req, [ctx, req](auto* self, const auth::scope&) {
      ask_core<db_actor>(self, ctx, "db", req, [self, req](db_actor db) {
        self->request(db, view_timeout, caf::get_atom_v, device_tags_atom_v)
          .then(
            [req](const std::vector<device_tag>& tags) {
              reply_json(req, restinio::status_ok(), api::encode_tags(tags));
            },
            [self, req](const caf::error& e) {
              reply_failed(req, restinio::status_internal_server_error(),
                           error_message(self, e));
            });
      });
    });
    return restinio::request_accepted();
  });
  router.add_handler(
    restinio::http_method_patch(), "/v2/device/tags", [ctx](auto req, auto) {
      auto type
        = req->header().get_field_or(restinio::http_field::content_type, "");
      auto decoded = api::decode_tags(req->body(), type);
      if (auto* why = std::get_if<std::string>(&decoded)) {
        reply_failed(req, restinio::status_bad_request(), *why);
        return restinio::request_accepted();
      }
      auto tags = std::get<std::map<std::string, std::string>>(decoded);
      with_auth(ctx, req, [ctx, req, tags](auto* self, const auth::scope&) {
        ask_core<db_actor>(
          self, ctx, "db", req, [self, req, tags](db_actor db) {
            self
              ->request(db, view_timeout, caf::put_atom_v, device_tags_atom_v,
                        tags)
              .then(
                [req] {
                  reply_json(req, restinio::status_accepted(),
                             R"({"status":"success"})");
                },
                [self, req](const caf::error& e) {
                  reply_failed(req, restinio::status_internal_server_error(),
                               error_message(self, e));
                });
          });
      });
      return restinio::request_accepted();
    });

  router.http_get("/v2/cleanup-volumes", [ctx](auto req, auto) {
    with_auth(ctx, req, [ctx, req](auto* self, const auth::scope& s) {
      volumes_cleanup_request cmd;
      if (!s.all)
        cmd.apps = s.apps;
      ask_core<app_manager_actor>(self, ctx, "app_manager", req,
                                  [self, req, cmd](app_manager_actor am) {
                                    self->request(am, action_timeout, cmd)
                                      .then(
                                        [req](const volume_removal&) {
                                          reply_json(req, restinio::status_ok(),
                                                     R"({"status":"success"})");
                                        },
                                        [self, req](const caf::error& e) {
                                          reply_action_error(self, req, e);
                                        });
                                  });
    });
    return restinio::request_accepted();
  });

  // Host routes: bosun does not drive the host OS (yet).
  router.http_get("/v2/device/vpn", [ctx](auto req, auto) {
    with_auth(ctx, req,
              [req](auto*, const auth::scope&) { reply_no_host(req); });
    return restinio::request_accepted();
  });
  router.http_post("/v2/journal-logs", [ctx](auto req, auto) {
    with_auth(ctx, req,
              [req](auto*, const auth::scope&) { reply_no_host(req); });
    return restinio::request_accepted();
  });
}

} // namespace bosun
