#pragma once

// The db actor: owns the agent's SQLite database (a bosun::store) on its own
// thread (detached), so its blocking I/O never stalls other actors. Answers
// the requests of db_actor (messages/db.hpp), one at a time, in order. Never
// emits anything unasked, never touches the engine or the network.
//
// Startup in main():
//
//   auto db = bosun::open_db(cfg.db_file());   // before the actor system
//   if (!db) {
//     std::cerr << "bosun: " << bosun::db_error_message(db.error()) << '\n';
//     return 1;                                 // e.g. schema too new
//   }
//   caf::actor_system_config caf_cfg;
//   bosun::add_db_error_category(caf_cfg);      // sys.render(e) for db errors
//   caf::actor_system sys{caf_cfg};
//   bosun::db_actor dba = bosun::spawn_db(sys, std::move(*db));
//
// The actor runs until it is told to exit, e.g. by its supervisor (link it)
// or anon_send_exit(dba, caf::exit_reason::user_shutdown), and closes the
// database then. The actor system waits for it on shutdown, so it must be
// stopped before the system is destroyed.
#include "messages/db.hpp"
#include "persistence/store.hpp"

#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <string>

namespace bosun {

// Opens and migrates the database file (":memory:" for tests); see
// store::open. The error's context is a complete sentence for the operator.
// `journal`: WAL (a device) or rollback (store::options::journal).
caf::expected<store> open_db(const std::string& path,
                             store::options::journal_kind journal
                             = store::options::journal_kind::wal);

// Spawns the db actor, which takes `db` over: detached (a device), or on the
// scheduler (fleet-sim: its SQLite calls then block a worker while they run).
db_actor spawn_db(caf::actor_system& sys, store db, bool detached = true);

// The sentence inside a db_errc error, e.g. "database /var/lib/bosun/
// bosun.sqlite has schema version 7; this bosun knows up to 1 — refusing to
// start". Other errors are rendered by CAF's to_string.
std::string db_error_message(const caf::error& err);

// Registers a renderer for the "db" category, so actor_system::render gives
// "db: <code>: <sentence>".
void add_db_error_category(caf::actor_system_config& cfg);

} // namespace bosun
