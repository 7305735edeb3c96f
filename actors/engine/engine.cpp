// The engine actor's request table: each typed request becomes one Engine API
// exchange (see link.cpp for the connection, streams and up/down).
#include "actors/engine/engine_impl.hpp"
#include "actors/telemetry/counters.hpp"
#include "api/docker/codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

namespace bosun {
namespace {

using namespace engine_detail;

std::chrono::milliseconds plus_seconds(std::chrono::milliseconds base,
                                       std::optional<int64_t> s) {
  // Without a timeout the engine uses the container's StopTimeout (10 s by
  // default): leave room for a generous one.
  return base + std::chrono::seconds(s ? std::max<int64_t>(*s, 0) : 60);
}

impl_actor::behavior_type engine_impl(self_ptr self, asio::io_context* io,
                                      std::shared_ptr<http::client> client,
                                      engine_options opts) {
  auto& st = self->state;
  st.io = io;
  st.client = std::move(client);
  st.opts = std::move(opts);
  st.me = caf::weak_actor_ptr{self->ctrl()};
  self->set_down_handler(
    [self](caf::down_msg& dm) { drop_listener(self, dm.source); });
  open_events(self);
  const auto timeout = st.opts.request_timeout;
  namespace d = docker;
  return telemetry::instrument(
    self, {"engine", [self] { return self->state.counters.last_error; }, {}},
    // -- system
    [self, timeout](engine_ping_req) {
      return ask<engine_ping>(
        self, make_request("GET", d::ping_target(), timeout),
        [](const http::response& r) -> caf::expected<engine_ping> {
          return engine_ping{std::string{r.header("Api-Version")},
                             std::string{r.header("Ostype")}};
        });
    },
    [self, timeout](engine_version_req) {
      return ask<engine_version>(
        self, make_request("GET", d::version_target(), timeout),
        [](const http::response& r) {
          return checked(d::decode_version(r.body));
        });
    },
    [self, timeout](engine_info_req) {
      return ask<engine_info>(self,
                              make_request("GET", d::info_target(), timeout),
                              [](const http::response& r) {
                                return checked(d::decode_info(r.body));
                              });
    },
    // -- containers
    [self, timeout](container_list_req& req) {
      return ask<container_list>(
        self,
        make_request("GET", d::list_containers_target(req.all, req.filters),
                     timeout),
        [](const http::response& r) {
          return checked(d::decode_container_list(r.body));
        });
    },
    [self, timeout](container_inspect_req& req) {
      return ask<container_inspect>(
        self, make_request("GET", d::inspect_container_target(req.id), timeout),
        [](const http::response& r) {
          return checked(d::decode_container_inspect(r.body));
        });
    },
    [self, timeout](container_create_req& req) {
      return ask<std::string>(
        self,
        make_request("POST", d::create_container_target(req.spec.name), timeout,
                     d::encode(req.spec)),
        [](const http::response& r) -> caf::expected<std::string> {
          auto res = checked(d::decode_container_create_result(r.body));
          if (!res)
            return res.error();
          return std::move(res->id);
        });
    },
    [self, timeout](container_start_req& req) {
      return act(
        self, make_request("POST", d::start_container_target(req.id), timeout),
        "container already started: " + req.id);
    },
    [self, timeout](container_stop_req& req) {
      return act(self,
                 make_request("POST",
                              d::stop_container_target(req.id, req.timeout_s),
                              plus_seconds(timeout, req.timeout_s)),
                 "container already stopped: " + req.id);
    },
    [self, timeout](container_kill_req& req) {
      return act(
        self, make_request("POST", d::kill_container_target(req.id, req.signal),
                           timeout));
    },
    [self, timeout](container_restart_req& req) {
      return act(
        self,
        make_request("POST", d::restart_container_target(req.id, req.timeout_s),
                     plus_seconds(timeout, req.timeout_s)));
    },
    [self, timeout](container_remove_req& req) {
      return act(self, make_request("DELETE",
                                    d::remove_container_target(
                                      req.id, req.force, req.volumes),
                                    timeout));
    },
    [self](container_wait_req& req) {
      return ask<container_wait_result>(
        self,
        make_request("POST", d::wait_container_target(req.id, req.condition),
                     self->state.opts.wait_timeout),
        [](const http::response& r) {
          return checked(d::decode_wait_result(r.body));
        });
    },
    [self, timeout](container_rename_req& req) {
      return act(
        self, make_request("POST", d::rename_container_target(req.id, req.name),
                           timeout));
    },
    [self, timeout](container_update_req& req) {
      return ask<container_update_result>(
        self,
        make_request("POST", d::update_container_target(req.id), timeout,
                     d::encode(req.spec)),
        [](const http::response& r) {
          return checked(d::decode_container_update_result(r.body));
        });
    },
    [self, timeout](container_logs_req& req) {
      auto rp = self->make_response_promise<uint64_t>();
      if (!admit(self, rp))
        return rp;
      if (!req.listener) {
        fail(self, rp,
             caf::make_error(engine_errc::bad_request,
                             "container_logs_req without a listener"));
        return rp;
      }
      // TTY containers send raw bytes, others multiplex stdout/stderr: the
      // container's config says which.
      exchange(
        self, rp,
        make_request("GET", d::inspect_container_target(req.id), timeout), {},
        [self, req](caf::typed_response_promise<uint64_t>& rp,
                    const http::response& r) {
          auto info = checked(d::decode_container_inspect(r.body));
          if (!info)
            return fail(self, rp, info.error());
          start_logs(self, rp, req, info->config.tty);
        });
      return rp;
    },
    [self](container_logs_cancel& req) { cancel_logs(self, req.stream_id); },
    [self](const log_ack& m) { on_log_ack(self, m); },
    // -- images
    [self, timeout](image_list_req& req) {
      return ask<image_list>(
        self, make_request("GET", d::list_images_target(req.filters), timeout),
        [](const http::response& r) {
          return checked(d::decode_image_list(r.body));
        });
    },
    [self, timeout](image_inspect_req& req) {
      return ask<image_inspect>(
        self, make_request("GET", d::inspect_image_target(req.name), timeout),
        [](const http::response& r) {
          return checked(d::decode_image_inspect(r.body));
        });
    },
    [self](image_pull_req& req) {
      auto rp = self->make_response_promise<void>();
      if (admit(self, rp))
        start_pull(self, rp, req);
      return rp;
    },
    [self, timeout](image_tag_req& req) {
      return act(
        self,
        make_request("POST", d::tag_image_target(req.name, req.tag), timeout));
    },
    [self, timeout](image_remove_req& req) {
      return ask<image_delete_result>(
        self,
        make_request("DELETE",
                     d::remove_image_target(req.name, req.force, req.no_prune),
                     timeout),
        [](const http::response& r) {
          return checked(d::decode_image_delete_result(r.body));
        });
    },
    // -- volumes
    [self, timeout](volume_list_req& req) {
      return ask<volume_list>(
        self, make_request("GET", d::list_volumes_target(req.filters), timeout),
        [](const http::response& r) {
          return checked(d::decode_volume_list(r.body));
        });
    },
    [self, timeout](volume_inspect_req& req) {
      return ask<volume_info>(
        self, make_request("GET", d::inspect_volume_target(req.name), timeout),
        [](const http::response& r) {
          return checked(d::decode_volume(r.body));
        });
    },
    [self, timeout](volume_create_req& req) {
      return ask<volume_info>(self,
                              make_request("POST", d::create_volume_target(),
                                           timeout, d::encode(req.spec)),
                              [](const http::response& r) {
                                return checked(d::decode_volume(r.body));
                              });
    },
    [self, timeout](volume_remove_req& req) {
      return act(self, make_request(
                         "DELETE", d::remove_volume_target(req.name, req.force),
                         timeout));
    },
    // -- networks
    [self, timeout](network_list_req& req) {
      return ask<network_infos>(
        self,
        make_request("GET", d::list_networks_target(req.filters), timeout),
        [](const http::response& r) {
          return checked(d::decode_network_list(r.body));
        });
    },
    [self, timeout](network_inspect_req& req) {
      return ask<network_info>(
        self, make_request("GET", d::inspect_network_target(req.id), timeout),
        [](const http::response& r) {
          return checked(d::decode_network(r.body));
        });
    },
    [self, timeout](network_create_req& req) {
      return ask<std::string>(
        self,
        make_request("POST", d::create_network_target(), timeout,
                     d::encode(req.spec)),
        [](const http::response& r) -> caf::expected<std::string> {
          auto res = checked(d::decode_network_create_result(r.body));
          if (!res)
            return res.error();
          return std::move(res->id);
        });
    },
    [self, timeout](network_connect_req& req) {
      return act(self,
                 make_request("POST", d::connect_network_target(req.network),
                              timeout, d::encode(req.spec)));
    },
    [self, timeout](network_disconnect_req& req) {
      return act(self,
                 make_request("POST", d::disconnect_network_target(req.network),
                              timeout, d::encode(req.spec)));
    },
    [self, timeout](network_remove_req& req) {
      return act(self, make_request("DELETE", d::remove_network_target(req.id),
                                    timeout));
    },
    // -- events, state, telemetry
    [self](engine_subscribe& req) { return subscribe(self, req.listener); },
    [self](engine_unsubscribe& req) {
      unsubscribe(self, req.listener.address());
    },
    [self](caf::get_atom) { return engine_detail::telemetry(self); },
    // -- completions of our own I/O
    [self](io_reply& m) { on_io_reply(self, m); },
    [self](io_head& m) { on_stream_head(self, m); },
    [self](io_data& m) { on_stream_data(self, m); },
    [self](io_end& m) { on_stream_end(self, m); },
    [self](probe_due& m) { on_probe_due(self, m); },
    [self](probe_reply& m) { on_probe_reply(self, m); },
    [self](liveness_due& m) { on_liveness_due(self, m); },
    [self](liveness_reply& m) { on_liveness_reply(self, m); });
}

} // namespace

engine_actor spawn_engine(caf::actor_system& sys, asio::io_context& io,
                          std::shared_ptr<http::client> client,
                          engine_options opts) {
  return sys.spawn(engine_impl, &io, std::move(client), std::move(opts));
}

engine_actor spawn_engine(caf::actor_system& sys, asio::io_context& io,
                          http::endpoint ep, engine_options opts) {
  auto client = http::client::make(io, std::move(ep), opts.client);
  return spawn_engine(sys, io, std::move(client), std::move(opts));
}

void add_engine_error_renderer(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::atom("engine"), [](uint8_t code, caf::atom_value,
                                                 const caf::message& ctx) {
    return render_engine_error(caf::error{code, caf::atom("engine"), ctx});
  });
}

} // namespace bosun
