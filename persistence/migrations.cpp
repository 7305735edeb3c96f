#include "persistence/migrations.hpp"

#include "messages/db.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace bosun {

std::vector<std::string_view> schema_migrations() {
  return {
    // 1: settings that must survive restarts (e.g. apiEndpointOverride,
    // localMode, initialConfigReported), as text.
    R"sql(
      CREATE TABLE config (
        key   TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    )sql",
    // 2: device API keys (balena's apiSecret) and device tags. A key is
    // global (app_id 0, service '') or scoped to an app and held by one of
    // its services; (app_id, service) has at most one key. The global key
    // that bosun 1 kept in config.api_key moves here unchanged.
    R"sql(
      CREATE TABLE api_key (
        key          TEXT PRIMARY KEY NOT NULL,
        app_id       INTEGER NOT NULL,
        service_name TEXT NOT NULL DEFAULT '',
        UNIQUE (app_id, service_name)
      );
      INSERT INTO api_key(key, app_id, service_name)
        SELECT value, 0, '' FROM config WHERE key = 'api_key';
      DELETE FROM config WHERE key = 'api_key';
      CREATE TABLE device_tag (
        id    INTEGER PRIMARY KEY,
        name  TEXT UNIQUE NOT NULL,
        value TEXT NOT NULL
      );
    )sql",
    // 3: append the next migration here; never edit the ones above.
  };
}

namespace {

// SOCI wraps <sqlite3.h> in this namespace.
using namespace sqlite_api;

sqlite3* native(soci::session& db) {
  return static_cast<soci::sqlite3_session_backend*>(db.get_backend())->conn_;
}

// Runs `sql` (any number of statements); the SQLite message on failure.
std::optional<std::string> exec(sqlite3* db, const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) == SQLITE_OK)
    return std::nullopt;
  std::string why = msg ? msg : sqlite3_errmsg(db);
  sqlite3_free(msg);
  return why;
}

} // namespace

caf::expected<int> schema_version(soci::session& session,
                                  const std::string& name) {
  sqlite3* db = native(session);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr)
      != SQLITE_OK)
    return caf::error(db_errc::open_failed,
                      "database " + name + ": " + sqlite3_errmsg(db));
  int version = 0;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  std::string why = rc == SQLITE_ROW ? "" : sqlite3_errmsg(db);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW)
    return caf::error(db_errc::open_failed, "database " + name + ": " + why);
  return version;
}

caf::expected<migration_report>
migrate(soci::session& session, const std::string& name,
        const std::vector<std::string_view>& scripts) {
  sqlite3* db = native(session);
  auto known = static_cast<int>(scripts.size());
  // BEGIN IMMEDIATE takes the write lock before the version is read, so two
  // processes opening one file cannot both migrate it.
  if (auto why = exec(db, "BEGIN IMMEDIATE"))
    return caf::error(db_errc::open_failed, "database " + name + ": " + *why);
  auto rollback = [&] { exec(db, "ROLLBACK"); };
  auto current = schema_version(session, name);
  if (!current) {
    rollback();
    return std::move(current.error());
  }
  migration_report report{*current, *current};
  if (*current > known) {
    rollback();
    return caf::error(db_errc::schema_too_new,
                      "database " + name + " has schema version "
                        + std::to_string(*current) + "; this bosun knows up to "
                        + std::to_string(known) + " — refusing to start");
  }
  for (int v = *current; v < known; ++v) {
    if (auto why = exec(db, std::string(scripts[static_cast<size_t>(v)]))) {
      rollback();
      return caf::error(db_errc::migration_failed,
                        "database " + name + ": migration "
                          + std::to_string(v + 1) + " failed: " + *why);
    }
  }
  // user_version is part of the database header, so it commits (or rolls
  // back) together with the scripts.
  if (auto why = exec(db, "PRAGMA user_version = " + std::to_string(known))) {
    rollback();
    return caf::error(db_errc::migration_failed,
                      "database " + name + ": " + *why);
  }
  if (auto why = exec(db, "COMMIT")) {
    rollback();
    return caf::error(db_errc::migration_failed,
                      "database " + name + ": commit failed: " + *why);
  }
  report.to_version = known;
  // Creating or reading every table left the whole file in this
  // connection's page cache; give it back (the pages are read again, from
  // the OS's cache, when a query needs them). A new device's database held
  // ~36 KiB more for the rest of its life otherwise.
  sqlite3_db_release_memory(db);
  return report;
}

} // namespace bosun
