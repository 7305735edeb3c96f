// The host routes (reference/host.md §1-§5, api.md): reboot, shutdown,
// blink, host-config, VPN. Each decodes its input, asks the host actor and
// words the answer as balena does; the host actor answers 503 material
// (host_errc::bus_unavailable, with the reason) while the bus is down.
#include "api/server/host_codec.hpp"
#include "api/server/route_util.hpp"
#include "messages/host.hpp"

namespace bosun {

namespace {

using namespace std::chrono_literals;

// Lock taking, the bus and the disk: well past the worker's own limits.
constexpr auto host_timeout = 90s;

template <class F>
void with_host(const route_call& c, F f) {
  ask_core<host_actor>(c.self, c.ctx, "host", c.req, std::move(f));
}

void power_route(route_table& t, const char* path, power_action action) {
  add_route(
    t, restinio::http_method_post(), path, [action](const route_call& c) {
      auto body = body_fields(c.req);
      if (!body)
        return;
      power_request r{action, api::check_truthy(*body, "force")};
      auto* self = c.self;
      auto quiet = c.ctx.quiet;
      auto log = c.ctx.log;
      with_host(c, [self, req = c.req, r, quiet, log](host_actor host) {
        self->request(host, host_timeout, r)
          .then(
            [req, quiet] {
              reply_json(req, restinio::status_accepted(),
                         R"({"Data":"OK","Error":null})");
              // The device is going down: no new API connections (the ones
              // in flight finish).
              if (quiet)
                quiet();
            },
            [self, req](const caf::error& e) {
              auto status = e == host_errc::updates_locked
                              ? restinio::status_locked()
                            : e == host_errc::bus_unavailable
                              ? restinio::status_service_unavailable()
                              : restinio::status_internal_server_error();
              reply_json(req, status,
                         R"({"Data":"","Error":)"
                           + json_string(error_message(self, e)) + "}");
            });
      });
    });
}

} // namespace

void add_host_routes(route_table& t) {
  power_route(t, "/v1/reboot", power_action::reboot);
  power_route(t, "/v1/shutdown", power_action::shutdown);

  // Answered at once; the pattern runs 15 s in the host actor.
  add_route(t, restinio::http_method_post(), "/v1/blink",
            [](const route_call& c) {
              with_host(c, [self = c.self, req = c.req](host_actor host) {
                self->send(host, blink_atom_v);
                reply_text(req, restinio::status_ok(), "OK");
              });
            });

  add_route(t, restinio::http_method_get(), "/v1/device/host-config",
            [](const route_call& c) {
              auto* self = c.self;
              with_host(c, [self, req = c.req](host_actor host) {
                self
                  ->request(host, host_timeout, caf::get_atom_v, hostcfg_atom_v)
                  .then(
                    [req](const host_settings& hc) {
                      reply_json(req, restinio::status_ok(),
                                 api::encode_host_config(hc));
                    },
                    [self, req](const caf::error& e) {
                      reply_failed(req, restinio::status_service_unavailable(),
                                   error_message(self, e));
                    });
              });
            });

  add_route(t, restinio::http_method_patch(), "/v1/device/host-config",
            [](const route_call& c) {
              auto decoded = api::decode_host_config(c.req->body());
              if (auto* why = std::get_if<std::string>(&decoded)) {
                if (why->find("at network but") != std::string::npos)
                  c.ctx.log->warn("api",
                                  "Key 'network' must exist in PATCH body");
                return reply_text(c.req, restinio::status_bad_request(), *why);
              }
              auto& d = std::get<api::host_config_decoded>(decoded);
              for (const auto& w : d.warnings)
                c.ctx.log->warn("api", "{}", w);
              if (!d.patch.hostname && !d.patch.proxy)
                return reply_text(c.req, restinio::status_ok(), "OK");
              auto* self = c.self;
              with_host(c, [self, req = c.req, p = d.patch](host_actor host) {
                self->request(host, host_timeout, p)
                  .then([req] { reply_text(req, restinio::status_ok(), "OK"); },
                        [self, req](const caf::error& e) {
                          reply_text(req,
                                     e == host_errc::updates_locked
                                       ? restinio::status_locked()
                                       : restinio::status_service_unavailable(),
                                     error_message(self, e));
                        });
              });
            });

  add_route(
    t, restinio::http_method_get(), "/v2/device/vpn", [](const route_call& c) {
      auto* self = c.self;
      with_host(c, [self, req = c.req](host_actor host) {
        self->request(host, host_timeout, caf::get_atom_v, vpn_atom_v)
          .then(
            [req](const vpn_status& v) {
              reply_json(req, restinio::status_ok(), api::encode_vpn(v));
            },
            [self, req](const caf::error& e) {
              reply_failed(req, restinio::status_service_unavailable(),
                           error_message(self, e));
            });
      });
    });
}

} // namespace bosun
