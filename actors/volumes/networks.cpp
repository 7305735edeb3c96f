#include "actors/volumes/networks.hpp"

#include "actors/telemetry/counters.hpp"
#include "actors/volumes/removals.hpp"
#include "actors/volumes/volume_logic.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace bosun {
namespace {

using namespace volumes_detail;
namespace logic = volume_logic;

struct networks_state {
  static inline const char* name = "networks";
  engine_actor engine;
  volumes_options opts;
};

using self_ptr = networks_actor::stateful_pointer<networks_state>;

void deliver_void(caf::typed_response_promise<void>& rp) {
  static_cast<caf::response_promise&>(rp).deliver(caf::unit);
}

// GET /networks?filters={"name":[n]} matches substrings: keep exact names.
network_list_req by_name(const std::string& name) {
  return network_list_req{{{"name", {name}}}};
}

network_infos exactly(network_infos all, const std::string& name) {
  network_infos out;
  for (auto& n : all)
    if (n.name == name)
      out.push_back(std::move(n));
  return out;
}

// Settles an ensure from the networks of that name: any equal one will do.
void settle(caf::typed_response_promise<network_ensured>& rp,
            const std::string& name, const network_infos& have,
            const target_network& want) {
  std::string why;
  for (auto& n : have) {
    auto d = logic::network_difference(n, want);
    if (!d) {
      rp.deliver(network_ensured{name, n.id, false});
      return;
    }
    why = *d;
  }
  rp.deliver(caf::make_error(
    volumes_errc::config_differs,
    "network " + name + " exists with different config (" + why + ")"));
}

void create(self_ptr self, caf::typed_response_promise<network_ensured> rp,
            const network_ensure& req) {
  auto spec = logic::make_network_create(req.app_uuid, req.app_id, req.network);
  auto name = spec.name;
  auto want = req.network;
  auto& st = self->state;
  self->request(st.engine, st.opts.request_timeout, network_create_req{spec})
    .then(
      [rp, name](std::string& id) mutable {
        rp.deliver(network_ensured{name, std::move(id), true});
      },
      [self, rp, name, want](caf::error& e) mutable {
        if (e != engine_errc::conflict) {
          rp.deliver(e);
          return;
        }
        // Created meanwhile by someone else: compare with that one.
        auto& st = self->state;
        self->request(st.engine, st.opts.request_timeout, by_name(name))
          .then(
            [rp, name, want](network_infos& all) mutable {
              auto have = exactly(std::move(all), name);
              if (have.empty())
                rp.deliver(caf::make_error(
                  engine_errc::conflict,
                  "network " + name + " could not be created nor found"));
              else
                settle(rp, name, have, want);
            },
            [rp](caf::error& e) mutable { rp.deliver(e); });
      });
}

networks_actor::behavior_type networks_impl(self_ptr self, engine_actor engine,
                                            volumes_options opts) {
  self->state.engine = std::move(engine);
  self->state.opts = opts;
  return telemetry::instrument(
    self, {"networks", {}, {}},
    [self](
      network_ensure& req) -> caf::typed_response_promise<network_ensured> {
      auto rp = self->make_response_promise<network_ensured>();
      auto name = logic::network_name(req.app_uuid, req.network.name);
      auto& st = self->state;
      self->request(st.engine, st.opts.request_timeout, by_name(name))
        .then(
          [self, rp, name, req](network_infos& all) mutable {
            auto have = exactly(std::move(all), name);
            if (have.empty())
              create(self, rp, req);
            else
              settle(rp, name, have, req.network);
          },
          [rp](caf::error& e) mutable { rp.deliver(e); });
      return rp;
    },
    [self](network_remove& req) -> caf::typed_response_promise<void> {
      auto rp = self->make_response_promise<void>();
      auto name = logic::network_name(req.app_uuid, req.name);
      auto& st = self->state;
      self->request(st.engine, st.opts.request_timeout, by_name(name))
        .then(
          [self, rp, name](network_infos& all) mutable {
            string_list ids;
            for (auto& n : exactly(std::move(all), name))
              ids.push_back(n.id);
            remove_each(
              self, self->state.engine, self->state.opts.request_timeout,
              std::move(ids),
              [](const std::string& id) { return network_remove_req{id}; },
              [rp, name](volume_removal& r) mutable {
                if (!r.in_use.empty())
                  rp.deliver(caf::make_error(volumes_errc::in_use,
                                             "network " + name + " is in use"));
                else if (!r.failed.empty())
                  rp.deliver(caf::make_error(
                    engine_errc::server_error,
                    "network " + name + " not removed: " + r.failed.front()));
                else
                  deliver_void(rp);
              });
          },
          [rp](caf::error& e) mutable { rp.deliver(e); });
      return rp;
    },
    [self](
      network_list_app& req) -> caf::typed_response_promise<network_infos> {
      auto rp = self->make_response_promise<network_infos>();
      auto& st = self->state;
      self->request(st.engine, st.opts.request_timeout, network_list_req{})
        .then(
          [rp, uuid = req.app_uuid,
           id = req.app_id](network_infos& all) mutable {
            network_infos mine;
            for (auto& n : all)
              if (logic::is_app_network(n, uuid, id))
                mine.push_back(std::move(n));
            rp.deliver(std::move(mine));
          },
          [rp](caf::error& e) mutable { rp.deliver(e); });
      return rp;
    });
}

} // namespace

networks_actor spawn_networks(caf::actor_system& sys, engine_actor engine,
                              volumes_options opts) {
  return sys.spawn(networks_impl, std::move(engine), opts);
}

} // namespace bosun
