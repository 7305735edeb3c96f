#include "actors/tags/tags.hpp"

#include "actors/telemetry/counters.hpp"
#include "persistence/db.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace bosun {
namespace {

constexpr auto db_timeout = std::chrono::seconds(30);

struct tags_state {
  static inline const char* name = "tags";
  db_actor db;
  std::shared_ptr<const logger> log;
  std::vector<device_tag> tags; // as db holds them, sorted by name
};

using self_ptr = tags_actor::stateful_pointer<tags_state>;

tags_actor::behavior_type tags_impl(self_ptr self, db_actor db,
                                    std::shared_ptr<const logger> log) {
  auto& st = self->state;
  st.db = std::move(db);
  st.log = log ? std::move(log) : std::make_shared<const logger>();
  // Nothing is answered before the tags are loaded: a read must never see
  // an empty list that is not.
  self->request(st.db, db_timeout, caf::get_atom_v, device_tags_atom_v)
    .await([self](std::vector<device_tag>& tags) { self->state.tags = tags; },
           [self](const caf::error& e) {
             self->state.log->error("tags", "cannot load the device tags: {}",
                                    db_error_message(e));
             self->quit(e);
           });
  return telemetry::instrument(
    self, {"tags", {}, {}},
    [self](caf::get_atom, device_tags_atom) { return self->state.tags; },
    [self](caf::put_atom, device_tags_atom,
           std::map<std::string, std::string>& tags)
      -> caf::typed_response_promise<void> {
      auto rp = self->make_response_promise<void>();
      auto& db = self->state.db;
      // Awaited: changes are stored, and the list read back, in order.
      self->request(db, db_timeout, caf::put_atom_v, device_tags_atom_v, tags)
        .await(
          [self, rp]() mutable {
            self
              ->request(self->state.db, db_timeout, caf::get_atom_v,
                        device_tags_atom_v)
              .await(
                [self, rp](std::vector<device_tag>& all) mutable {
                  self->state.tags = std::move(all);
                  // void: CAF 0.17 delivers it as unit.
                  static_cast<caf::response_promise&>(rp).deliver(caf::unit);
                },
                [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    });
}

} // namespace

tags_actor spawn_tags(caf::actor_system& sys, db_actor db,
                      std::shared_ptr<const logger> log) {
  return sys.spawn(tags_impl, std::move(db), std::move(log));
}

} // namespace bosun
