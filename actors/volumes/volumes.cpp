#include "actors/volumes/volumes.hpp"

#include "actors/telemetry/counters.hpp"
#include "actors/volumes/removals.hpp"
#include "actors/volumes/volume_logic.hpp"

#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace bosun {
namespace {

using namespace volumes_detail;
namespace logic = volume_logic;

struct volumes_state {
  static inline const char* name = "volumes";
  engine_actor engine;
  volumes_options opts;
};

using self_ptr = volumes_actor::stateful_pointer<volumes_state>;

void deliver_void(caf::typed_response_promise<void>& rp) {
  static_cast<caf::response_promise&>(rp).deliver(caf::unit);
}

caf::error differs(const std::string& name, const std::string& why) {
  return caf::make_error(volumes_errc::config_differs,
                         "volume " + name + " exists with different config ("
                           + why + ")");
}

// The result of a create or inspect, checked against the target.
void settle(caf::typed_response_promise<volume_ensured>& rp,
            const std::string& name, const volume_info& have,
            const target_volume& want, bool created) {
  if (auto why = logic::volume_difference(have, want))
    rp.deliver(differs(name, *why));
  else
    rp.deliver(volume_ensured{name, created});
}

void create(self_ptr self, caf::typed_response_promise<volume_ensured> rp,
            const volume_ensure& req) {
  auto spec = logic::make_volume_create(req.app_id, req.app_uuid, req.volume);
  auto name = spec.name;
  auto want = req.volume;
  self
    ->request(self->state.engine, self->state.opts.request_timeout,
              volume_create_req{std::move(spec)})
    .then(
      // The engine answers a create of an existing name with the existing
      // volume, unchanged: a racing creator is caught by the comparison.
      [rp, name, want](volume_info& v) mutable {
        settle(rp, name, v, want, true);
      },
      [rp](caf::error& e) mutable { rp.deliver(e); });
}

// The app's volumes in a list of all volumes.
string_list names_of_app(const volume_list& all, int64_t app_id) {
  string_list out;
  for (auto& v : all.volumes)
    if (logic::app_of_volume(v.name) == app_id)
      out.push_back(v.name);
  return out;
}

std::string joined(const string_list& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

volumes_actor::behavior_type volumes_impl(self_ptr self, engine_actor engine,
                                          volumes_options opts) {
  self->state.engine = std::move(engine);
  self->state.opts = opts;
  return telemetry::instrument(
    self, {"volumes", {}, {}},
    [self](volume_ensure& req) -> caf::typed_response_promise<volume_ensured> {
      auto rp = self->make_response_promise<volume_ensured>();
      auto name = logic::volume_name(req.app_id, req.volume.name);
      self
        ->request(self->state.engine, self->state.opts.request_timeout,
                  volume_inspect_req{name})
        .then([rp, name, want = req.volume](
                volume_info& v) mutable { settle(rp, name, v, want, false); },
              [self, rp, req](caf::error& e) mutable {
                if (e == engine_errc::not_found)
                  create(self, rp, req);
                else
                  rp.deliver(e);
              });
      return rp;
    },
    [self](volume_remove& req) -> caf::typed_response_promise<void> {
      auto rp = self->make_response_promise<void>();
      auto name = logic::volume_name(req.app_id, req.name);
      self
        ->request(self->state.engine, self->state.opts.request_timeout,
                  volume_remove_req{name, false})
        .then([rp]() mutable { deliver_void(rp); },
              [rp, name](caf::error& e) mutable {
                if (e == engine_errc::not_found)
                  deliver_void(rp);
                else if (e == engine_errc::conflict)
                  rp.deliver(caf::make_error(volumes_errc::in_use,
                                             "volume " + name
                                               + " is in use: " + why_of(e)));
                else
                  rp.deliver(e);
              });
      return rp;
    },
    [self](volume_purge& req) -> caf::typed_response_promise<volume_removal> {
      auto rp = self->make_response_promise<volume_removal>();
      auto app_id = req.app_id;
      auto& st = self->state;
      self->request(st.engine, st.opts.request_timeout, volume_list_req{})
        .then(
          [self, rp, app_id](volume_list& all) mutable {
            remove_each(
              self, self->state.engine, self->state.opts.request_timeout,
              names_of_app(all, app_id),
              [](const std::string& n) {
                return volume_remove_req{n, false};
              },
              [rp](volume_removal& r) mutable {
                // A purge must leave nothing behind: what stays is an error.
                if (!r.in_use.empty())
                  rp.deliver(
                    caf::make_error(volumes_errc::in_use,
                                    "volumes in use: " + joined(r.in_use)));
                else if (!r.failed.empty())
                  rp.deliver(caf::make_error(engine_errc::server_error,
                                             "volumes not removed: "
                                               + joined(r.failed)));
                else
                  rp.deliver(std::move(r));
              });
          },
          [rp](caf::error& e) mutable { rp.deliver(e); });
      return rp;
    },
    [self](volume_cleanup& req) -> caf::typed_response_promise<volume_removal> {
      auto rp = self->make_response_promise<volume_removal>();
      auto& st = self->state;
      self->request(st.engine, st.opts.request_timeout, volume_list_req{})
        .then(
          [self, rp,
           referenced = std::move(req.referenced)](volume_list& all) mutable {
            string_list unreferenced;
            for (auto& v : all.volumes)
              if (logic::app_of_volume(v.name)
                  && std::find(referenced.begin(), referenced.end(), v.name)
                       == referenced.end())
                unreferenced.push_back(v.name);
            remove_each(
              self, self->state.engine, self->state.opts.request_timeout,
              std::move(unreferenced),
              [](const std::string& n) {
                return volume_remove_req{n, false};
              },
              [rp](volume_removal& r) mutable { rp.deliver(std::move(r)); });
          },
          [rp](caf::error& e) mutable { rp.deliver(e); });
      return rp;
    },
    [self](volume_list_app& req) -> caf::typed_response_promise<volume_list> {
      auto rp = self->make_response_promise<volume_list>();
      auto app_id = req.app_id;
      auto& st = self->state;
      self->request(st.engine, st.opts.request_timeout, volume_list_req{})
        .then(
          [rp, app_id](volume_list& all) mutable {
            volume_list mine;
            mine.warnings = std::move(all.warnings);
            for (auto& v : all.volumes)
              if (logic::app_of_volume(v.name) == app_id)
                mine.volumes.push_back(std::move(v));
            rp.deliver(std::move(mine));
          },
          [rp](caf::error& e) mutable { rp.deliver(e); });
      return rp;
    });
}

} // namespace

volumes_actor spawn_volumes(caf::actor_system& sys, engine_actor engine,
                            volumes_options opts) {
  return sys.spawn(volumes_impl, std::move(engine), opts);
}

void add_volumes_error_renderer(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::atom("volumes"), [](uint8_t code, caf::atom_value,
                                                  const caf::message& ctx) {
    std::string out = "volumes ";
    out += to_string(static_cast<volumes_errc>(code));
    if (ctx.size() == 1 && ctx.match_element<std::string>(0)) {
      out += ": ";
      out += ctx.get_as<std::string>(0);
    }
    return out;
  });
}

} // namespace bosun
