#include "actors/api_keys/api_keys.hpp"

#include "actors/api_keys/key_table.hpp"
#include "actors/telemetry/counters.hpp"
#include "persistence/db.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace bosun {

namespace {

constexpr auto db_timeout = std::chrono::seconds(30);

struct api_keys_state {
  static inline const char* name = "api_keys";
  db_actor db;
  std::shared_ptr<const logger> log;
  key_table table;
};

using self_ptr = api_keys_actor::stateful_pointer<api_keys_state>;

// Stores `records` one after the other (awaited: no other request is
// handled meanwhile, so two requests never make two keys for one service),
// putting each into the table once stored; then `done` with the first
// error, if any.
void store_records(self_ptr self, const std::vector<api_key_record>& records,
                   const std::function<void(const caf::error&)>& done) {
  if (records.empty())
    return done({});
  auto left = std::make_shared<size_t>(records.size());
  auto failed = std::make_shared<caf::error>();
  for (auto& r : records) {
    self
      ->request(self->state.db, db_timeout, caf::put_atom_v, api_key_atom_v, r)
      .await(
        [self, r, left, failed, done] {
          self->state.table.put(r);
          if (--*left == 0)
            done(*failed);
        },
        [left, failed, done](const caf::error& e) {
          if (!*failed)
            *failed = e;
          if (--*left == 0)
            done(*failed);
        });
  }
}

api_keys_actor::behavior_type api_keys_impl(self_ptr self, db_actor db,
                                            std::shared_ptr<const logger> log) {
  auto& st = self->state;
  st.db = std::move(db);
  st.log = log ? std::move(log) : std::make_shared<const logger>();
  // Nothing is answered before the keys are loaded: a request for a key
  // must never see an empty table.
  self->request(st.db, db_timeout, caf::get_atom_v, api_key_atom_v)
    .await(
      [self](const std::vector<api_key_record>& records) {
        self->state.table.load(records);
        if (self->state.table.global())
          return;
        store_records(self, {self->state.table.make(0, "")},
                      [self](const caf::error& e) {
                        if (e)
                          self->quit(e);
                      });
      },
      [self](const caf::error& e) {
        self->state.log->error("api_keys", "cannot load the API keys: {}",
                               db_error_message(e));
        self->quit(e);
      });
  return telemetry::instrument(
    self, {"api_keys", {}, {}},
    [self](caf::get_atom, api_key_atom, const std::string& key) {
      return self->state.table.find(key);
    },
    [self](const scoped_keys_request& req) -> caf::result<scoped_keys> {
      auto& table = self->state.table;
      std::vector<api_key_record> fresh;
      for (auto& [app_id, service] : req.services) {
        if (table.key_of(app_id, service))
          continue;
        bool queued = false;
        for (auto& r : fresh)
          queued = queued || (r.app_id == app_id && r.service_name == service);
        if (!queued)
          fresh.push_back(table.make(app_id, service));
      }
      auto rp = self->make_response_promise<scoped_keys>();
      store_records(self, fresh, [self, req, rp](const caf::error& e) mutable {
        if (e) {
          rp.deliver(e);
          return;
        }
        scoped_keys out;
        for (auto& ref : req.services)
          if (auto k = self->state.table.key_of(ref.first, ref.second))
            out.keys[ref] = *k;
        rp.deliver(std::move(out));
      });
      return rp;
    },
    [self](regen_atom, const std::string& key) -> caf::result<std::string> {
      auto old = self->state.table.find(key);
      if (!old)
        return caf::make_error(api_keys_errc::unknown_key,
                               "the API key is not known");
      auto fresh = self->state.table.make(old->app_id, old->service_name);
      auto rp = self->make_response_promise<std::string>();
      store_records(
        self, {fresh}, [self, fresh, old, rp](const caf::error& e) mutable {
          if (e) {
            rp.deliver(e);
            return;
          }
          self->state.log->info("api_keys", "the {} API key was replaced",
                                old->app_id == 0
                                  ? std::string("global")
                                  : "app " + std::to_string(old->app_id)
                                      + " service " + old->service_name);
          rp.deliver(fresh.key);
        });
      return rp;
    },
    [self](caf::get_atom, global_key_atom) -> caf::result<std::string> {
      if (auto k = self->state.table.global())
        return *k;
      return caf::make_error(api_keys_errc::unknown_key,
                             "there is no global API key");
    });
}

} // namespace

api_keys_actor spawn_api_keys(caf::actor_system& sys, db_actor db,
                              std::shared_ptr<const logger> log) {
  return sys.spawn(api_keys_impl, std::move(db), std::move(log));
}

std::variant<std::optional<std::string>, caf::error>
read_global_key(store& db) {
  auto records = db.api_keys();
  if (!records)
    return records.error();
  key_table table;
  table.load(*records);
  return table.global();
}

std::variant<std::string, caf::error> settle_global_key(store& db) {
  auto records = db.api_keys();
  if (!records)
    return records.error();
  key_table table;
  table.load(*records);
  if (auto k = table.global())
    return *k;
  auto fresh = table.make(0, "");
  if (auto ok = db.put_api_key(fresh); !ok)
    return ok.error();
  return fresh.key;
}

} // namespace bosun
