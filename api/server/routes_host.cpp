// The host routes (reference/host.md §1-§5, api.md): reboot, shutdown,
// blink, host-config, VPN. Each decodes its input, asks the host actor and
// words the answer as balena does; the host actor answers 503 material
// (host_errc::bus_unavailable, with the reason) while the bus is down.
#include "api/server/host_codec.hpp"
#include "api/server/route_util.hpp"
#include "messages/host.hpp"

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <restinio/message_builders.hpp>

namespace bosun::routes_host_detail {

// A chunk reached the wire (or failed: the client is gone).
struct sink_flushed {
  bool ok = false;
};

} // namespace bosun::routes_host_detail

BOSUN_MESSAGE(bosun::routes_host_detail::sink_flushed)

namespace bosun {

namespace {

using routes_host_detail::sink_flushed;

using namespace std::chrono_literals;

// Lock taking, the bus and the disk: well past the worker's own limits.
constexpr auto host_timeout = 90s;

template <class F>
void with_host(const route_call& c, F f) {
  ask_core(c.self, c.ctx, &core_actors::host, c.req, std::move(f));
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

using sink_actor = journal_sink_actor::extend<caf::reacts_to<sink_flushed>>;
using chunked = restinio::response_builder_t<restinio::chunked_output_t>;

struct sink_state {
  static inline const char* name = "journal_sink";
  restinio::request_handle_t req;
  std::optional<chunked> resp;
  journal_runner_actor runner;
  caf::weak_actor_ptr me;
};

using sink_ptr = sink_actor::stateful_pointer<sink_state>;

// journalctl's stdout as the response body: 200, chunked, no Content-Type
// (balena). One chunk on the wire at a time; the runner reads the next
// only when this one was written, so a slow client slows journalctl.
chunked& response(sink_ptr self) {
  auto& st = self->state;
  if (!st.resp)
    st.resp.emplace(st.req->create_response<restinio::chunked_output_t>());
  return *st.resp;
}

sink_actor::behavior_type sink_impl(sink_ptr self,
                                    restinio::request_handle_t req) {
  self->state.req = std::move(req);
  self->state.me = caf::weak_actor_ptr{self->ctrl()};
  return {
    [self](journal_chunk& c, journal_runner_actor runner) {
      auto& st = self->state;
      st.runner = std::move(runner);
      auto& r = response(self);
      r.append_chunk(std::move(c.data));
      auto me = st.me;
      r.flush([me](const asio::error_code& ec) {
        if (auto p = me.lock())
          caf::anon_send(caf::actor_cast<sink_actor>(p), sink_flushed{!ec});
      });
    },
    [self](const sink_flushed& f) {
      auto& st = self->state;
      if (f.ok) {
        self->send(st.runner, journal_more{});
        return;
      }
      // The client went away: journalctl is killed and reaped.
      self->send(st.runner, journal_stop{});
      st.resp.reset();
      self->quit();
    },
    [self](journal_end) {
      response(self).done();
      self->state.resp.reset();
      self->quit();
    },
  };
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
    t, restinio::http_method_post(), "/v2/journal-logs",
    [](const route_call& c) {
      auto body = body_fields(c.req);
      if (!body)
        return;
      auto q = api::decode_journal_query(*body);
      auto* self = c.self;
      with_host(c, [self, req = c.req, q](host_actor host) {
        auto sink = self->system().spawn(sink_impl, req);
        self
          ->request(host, host_timeout,
                    journal_open{q, caf::actor_cast<journal_sink_actor>(sink)})
          .then([] {},
                [self, req, sink](const caf::error& e) {
                  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
                  reply_failed(req, restinio::status_service_unavailable(),
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
