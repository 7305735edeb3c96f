#pragma once

// The database schema as an append-only list of SQL scripts, and the logic
// that brings a database up to date. No actors: store::open calls it, and
// tests call it directly.
//
// The schema version lives in `PRAGMA user_version`: script i (0-based)
// takes the database from version i to version i + 1. Applied scripts are
// never edited; a change is a new script appended to schema_migrations().
#include <caf/expected.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace soci {
class session;
}

namespace bosun {

// bosun's schema, oldest first.
std::vector<std::string_view> schema_migrations();

struct migration_report {
  int from_version = 0; // version found on disk
  int to_version = 0;   // version after migrating (== scripts.size())
};

// Applies the scripts the SQLite database `db` is missing, all in one
// transaction with the new user_version: either every pending script is
// applied or none. `name` (the file path) only words the errors:
// - db_errc::schema_too_new when the database's version is higher than
//   scripts.size() ("database <name> has schema version 7; this bosun knows
//   up to 1 — refusing to start"); the database is not touched;
// - db_errc::migration_failed when a script fails (rolled back);
// - db_errc::open_failed when the version cannot be read (not a database).
// Scripts may hold several statements but no BEGIN/COMMIT of their own.
caf::expected<migration_report>
migrate(soci::session& db, const std::string& name,
        const std::vector<std::string_view>& scripts);

// The database's `PRAGMA user_version`, or an error (not a database).
caf::expected<int> schema_version(soci::session& db, const std::string& name);

} // namespace bosun
