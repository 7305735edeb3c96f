#include "persistence/db.hpp"

#include "actors/telemetry/counters.hpp"
#include "api/cloud/target_codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <memory>

namespace bosun {

namespace {

struct db_state {
  static inline const char* name = "db";
  // shared_ptr only because spawn arguments must be copyable; the actor is
  // the sole user.
  std::shared_ptr<store> db;
  // The last failed query, e.g. "database or disk is full" (telemetry's
  // lastError for the db actor; kept after later successes, like the other
  // actors' last errors).
  std::string last_error;
};

using db_pointer = db_actor::stateful_pointer<db_state>;

// Passes `r` on, noting its error first.
template <class T>
caf::expected<T> noted(db_pointer self, caf::expected<T> r) {
  if (!r)
    self->state.last_error = db_error_message(r.error());
  return r;
}

// The target is one JSON document (api/cloud's persisted form) under this
// key of the config table.
constexpr const char* target_key = "target_state";

db_actor::behavior_type db_impl(db_pointer self, std::shared_ptr<store> db) {
  self->state.db = std::move(db);
  return telemetry::instrument(
    self, {"db", [self] { return self->state.last_error; }, {}},
    [=](caf::get_atom, config_kv_atom,
        const std::string& key) -> caf::result<std::optional<std::string>> {
      return noted(self, self->state.db->get_config(key));
    },
    [=](caf::get_atom,
        config_kv_atom) -> caf::result<std::map<std::string, std::string>> {
      return noted(self, self->state.db->all_config());
    },
    [=](caf::put_atom, config_kv_atom, const std::string& key,
        const std::string& value) -> caf::result<void> {
      return noted(self, self->state.db->put_config(key, value));
    },
    [=](
      caf::put_atom, config_kv_atom,
      const std::map<std::string, std::string>& entries) -> caf::result<void> {
      return noted(self, self->state.db->put_config(entries));
    },
    [=](caf::delete_atom, config_kv_atom,
        const std::string& key) -> caf::result<void> {
      return noted(self, self->state.db->delete_config(key));
    },
    [=](caf::get_atom,
        target_atom) -> caf::result<std::optional<target_state>> {
      auto raw = noted(self, self->state.db->get_config(target_key));
      if (!raw)
        return raw.error();
      if (!*raw)
        return std::optional<target_state>{};
      auto decoded = cloud::decode_target_json(**raw);
      if (!decoded)
        return caf::make_error(db_errc::query_failed,
                               "the stored target does not decode: "
                                 + decoded.error.to_string());
      return std::optional<target_state>{std::move(decoded->target)};
    },
    [=](caf::put_atom, target_atom,
        const target_state& target) -> caf::result<void> {
      return noted(self, self->state.db->put_config(
                           target_key, cloud::encode_target_json(target)));
    },
    [=](caf::get_atom,
        api_key_atom) -> caf::result<std::vector<api_key_record>> {
      return noted(self, self->state.db->api_keys());
    },
    [=](caf::put_atom, api_key_atom,
        const api_key_record& k) -> caf::result<void> {
      return noted(self, self->state.db->put_api_key(k));
    },
    [=](caf::get_atom,
        device_tags_atom) -> caf::result<std::vector<device_tag>> {
      return noted(self, self->state.db->device_tags());
    },
    [=](caf::put_atom, device_tags_atom,
        const std::map<std::string, std::string>& tags) -> caf::result<void> {
      return noted(self, self->state.db->put_device_tags(tags));
    });
}

const std::string* sentence(const caf::error& err) {
  if (!err || err.category() != caf::atom("db"))
    return nullptr;
  const auto& ctx = err.context();
  if (!ctx.match_elements<std::string>())
    return nullptr;
  return &ctx.get_as<std::string>(0);
}

} // namespace

caf::expected<store> open_db(const std::string& path,
                             store::options::journal_kind journal) {
  store::options o;
  o.journal = journal;
  return store::open(path, o);
}

db_actor spawn_db(caf::actor_system& sys, store db, bool detached) {
  if (!detached)
    return sys.spawn(db_impl, std::make_shared<store>(std::move(db)));
  return sys.spawn<caf::detached>(db_impl,
                                  std::make_shared<store>(std::move(db)));
}

std::string db_error_message(const caf::error& err) {
  if (auto* s = sentence(err))
    return *s;
  return caf::to_string(err);
}

void add_db_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::atom("db"), [](uint8_t code, caf::atom_value,
                                             const caf::message& ctx) {
    std::string out = "db: ";
    out += to_string(static_cast<db_errc>(code));
    if (ctx.match_elements<std::string>())
      out += ": " + ctx.get_as<std::string>(0);
    return out;
  });
}

} // namespace bosun
