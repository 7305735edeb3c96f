// The v2 routes (reference/api.md, reference/cli.md): each decodes its
// input, checks the key's scope, asks the owning actor and encodes the
// answer. Local target-state and logs live elsewhere.
#include "api/server/route_util.hpp"
#include "messages/tags.hpp"

namespace bosun {

namespace {

using namespace std::chrono_literals;

constexpr auto action_timeout = 100s;
constexpr auto view_timeout = 10s;

// GET routes that encode the apps view (or fail with 503).
template <class Encode>
void view_route(route_table& t, const char* path, Encode encode) {
  add_route(
    t, restinio::http_method_get(), path, [encode](const route_call& c) {
      auto* self = c.self;
      ask_core(
        self, c.ctx, &core_actors::app_manager, c.req,
        [self, req = c.req, encode, scope = c.scope](app_manager_actor am) {
          self->request(am, view_timeout, apps_view_request{})
            .then([req, encode,
                   scope](const apps_view& v) { encode(req, v, scope); },
                  [self, req](const caf::error& e) {
                    reply_action_error(self, req, e);
                  });
        });
    });
}

// GET routes that encode the device details.
template <class Encode>
void device_route(route_table& t, const char* path, Encode encode) {
  add_route(
    t, restinio::http_method_get(), path, [encode](const route_call& c) {
      auto* self = c.self;
      ask_core(self, c.ctx, &core_actors::app_manager, c.req,
               [self, req = c.req, encode](app_manager_actor am) {
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
}

// POST /v2/applications/:appId/{restart,stop,start}-service.
void service_action_route(route_table& t, const char* path,
                          service_action_kind kind) {
  add_route(t, restinio::http_method_post(), path, [kind](const route_call& c) {
    auto body = body_fields(c.req);
    if (!body)
      return;
    auto app_id = api::check_int(std::string(c.params["appId"]));
    if (!app_id || *app_id == 0)
      return reply_failed(c.req, restinio::status_bad_request(),
                          "Invalid app id");
    service_action cmd;
    cmd.kind = kind;
    cmd.app_id = *app_id;
    cmd.force = api::check_truthy(*body, "force");
    cmd.service_name = api::check_string(*body, "serviceName").value_or("");
    cmd.image_id = api::check_int(*body, "imageId");
    if (cmd.image_id && *cmd.image_id == 0)
      cmd.image_id.reset();
    if (!c.scope.allows(cmd.app_id))
      return reply_failed(c.req, restinio::status_unauthorized(),
                          "Unauthorized");
    // balena refuses before looking at the app: v2 names the service.
    if (cmd.service_name.empty() && !cmd.image_id)
      return reply_text(c.req, restinio::status_bad_request(),
                        "serviceName or imageId parameters were not "
                        "provided or the app is multi-container. Use the "
                        "v2 service action endpoints.");
    auto* self = c.self;
    ask_core(self, c.ctx, &core_actors::app_manager, c.req,
             [self, req = c.req, cmd](app_manager_actor am) {
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
}

// POST /v2/applications/:appId/{restart,purge}.
void app_action_route(route_table& t, const char* path, app_action_kind kind) {
  add_route(t, restinio::http_method_post(), path, [kind](const route_call& c) {
    auto body = body_fields(c.req);
    if (!body)
      return;
    auto app_id = api::check_int(std::string(c.params["appId"]));
    if (!app_id || *app_id == 0)
      return reply_failed(c.req, restinio::status_bad_request(),
                          "Missing app id");
    app_action cmd{kind, *app_id, api::check_truthy(*body, "force")};
    if (!c.scope.allows(cmd.app_id))
      return reply_failed(c.req, restinio::status_unauthorized(),
                          "Unauthorized");
    auto* self = c.self;
    ask_core(self, c.ctx, &core_actors::app_manager, c.req,
             [self, req = c.req, cmd](app_manager_actor am) {
               self->request(am, action_timeout, cmd)
                 .then([req] { reply_text(req, restinio::status_ok(), "OK"); },
                       [self, req](const caf::error& e) {
                         reply_action_error(self, req, e);
                       });
             });
  });
}

// GET /v2/applications/:appId/state.
void app_state(const route_call& c) {
  std::string raw(c.params["appId"]);
  auto app_id = api::check_int(raw);
  if (!app_id || *app_id == 0)
    return reply_failed(c.req, restinio::status_bad_request(),
                        "Invalid application ID: " + raw);
  auto* self = c.self;
  ask_core(
    self, c.ctx, &core_actors::app_manager, c.req,
    [self, req = c.req, id = *app_id, s = c.scope](app_manager_actor am) {
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
}

// Tags are the tags actor's (kept in the db).
void get_tags(const route_call& c) {
  auto* self = c.self;
  ask_core(
    self, c.ctx, &core_actors::tags, c.req,
    [self, req = c.req](tags_actor tags) {
      self->request(tags, view_timeout, caf::get_atom_v, device_tags_atom_v)
        .then(
          [req](const std::vector<device_tag>& tags) {
            reply_json(req, restinio::status_ok(), api::encode_tags(tags));
          },
          [self, req](const caf::error& e) {
            reply_failed(req, restinio::status_internal_server_error(),
                         error_message(self, e));
          });
    });
}

void patch_tags(const route_call& c) {
  auto type
    = c.req->header().get_field_or(restinio::http_field::content_type, "");
  auto decoded = api::decode_tags(c.req->body(), type);
  if (auto* why = std::get_if<std::string>(&decoded))
    return reply_failed(c.req, restinio::status_bad_request(), *why);
  auto tags = std::get<std::map<std::string, std::string>>(decoded);
  auto* self = c.self;
  ask_core(self, c.ctx, &core_actors::tags, c.req,
           [self, req = c.req, tags](tags_actor owner) {
             self
               ->request(owner, view_timeout, caf::put_atom_v,
                         device_tags_atom_v, tags)
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
}

void cleanup_volumes(const route_call& c) {
  volumes_cleanup_request cmd;
  if (!c.scope.all)
    cmd.apps = c.scope.apps;
  auto* self = c.self;
  ask_core(self, c.ctx, &core_actors::app_manager, c.req,
           [self, req = c.req, cmd](app_manager_actor am) {
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
}

} // namespace

void add_v2_routes(route_table& t) {
  using restinio::http_method_get;
  using restinio::http_method_patch;
  using restinio::http_method_post;
  service_action_route(t, "/v2/applications/:appId/restart-service",
                       service_action_kind::restart);
  service_action_route(t, "/v2/applications/:appId/stop-service",
                       service_action_kind::stop);
  service_action_route(t, "/v2/applications/:appId/start-service",
                       service_action_kind::start);
  app_action_route(t, "/v2/applications/:appId/restart",
                   app_action_kind::restart);
  app_action_route(t, "/v2/applications/:appId/purge", app_action_kind::purge);

  view_route(t, "/v2/applications/state",
             [](const auto& req, const apps_view& v, const auth::scope& s) {
               reply_json(req, restinio::status_ok(),
                          api::encode_apps_state(v, s));
             });
  add_route(t, http_method_get(), "/v2/applications/:appId/state", app_state);
  view_route(t, "/v2/state/status",
             [](const auto& req, const apps_view& v, const auth::scope& s) {
               reply_json(req, restinio::status_ok(),
                          api::encode_state_status(v, s));
             });
  view_route(t, "/v2/containerId",
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

  add_route(t, http_method_get(), "/v2/version", [](const route_call& c) {
    reply_json(c.req, restinio::status_ok(), api::encode_version());
  });
  device_route(t, "/v2/local/device-info", [](const device_details& d) {
    return api::encode_device_info(d);
  });
  device_route(t, "/v2/device/name", [](const device_details& d) {
    return api::encode_device_name(d);
  });

  add_route(t, http_method_get(), "/v2/device/tags", get_tags);
  add_route(t, http_method_patch(), "/v2/device/tags", patch_tags);
  add_route(t, http_method_get(), "/v2/cleanup-volumes", cleanup_volumes);
}

} // namespace bosun
