#pragma once

// bosun's SQLite database: one connection, typed operations, and every SQL
// statement of the project (store.cpp, migrations.cpp). Blocking; used only by
// the db actor (persistence/db.hpp) and by tests. Not thread-safe: one thread
// at a time. Errors are db_errc (messages/db.hpp) with a one-line context.
#include "messages/db.hpp"
#include "persistence/migrations.hpp"

#include <caf/expected.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun {

class store {
public:
  struct options {
    // The schema; tests pass their own lists to exercise upgrades.
    std::vector<std::string_view> migrations = schema_migrations();
    // How long a statement waits for another connection's lock.
    std::chrono::milliseconds busy_timeout{5000};
    // WAL (a device): fewer fsyncs, readers never wait for the writer; three
    // open files (the database, -wal, -shm) for as long as it is open.
    // rollback: journal_mode=DELETE, one open file at rest (the -journal
    // exists only during a write), for many databases in one process
    // (fleet-sim's simulated devices). Both synchronous=FULL.
    enum class journal_kind { wal, rollback };
    journal_kind journal = journal_kind::wal;
  };

  // Opens (creating it and its directory if needed) the database at `path`,
  // or an in-memory one for ":memory:". Sets journal_mode=WAL (or DELETE,
  // options::journal), synchronous=FULL, foreign_keys=ON and the busy timeout,
  // then migrates (see migrate()). Fails with open_failed, schema_too_new or
  // migration_failed; the context says which file and why.
  static caf::expected<store> open(const std::string& path,
                                   const options& opts);
  static caf::expected<store> open(const std::string& path);

  store(store&&) noexcept;
  store& operator=(store&&) noexcept;
  ~store();

  const std::string& path() const;

  // What open() found and did.
  const migration_report& migrated() const;

  // Diagnostics: "wal" for a file database ("delete" with
  // journal_kind::rollback; "memory" for ":memory:").
  caf::expected<std::string> journal_mode();
  caf::expected<int> schema_version();

  // -- config key/value table ------------------------------------------------

  caf::expected<std::optional<std::string>> get_config(const std::string& key);
  caf::expected<std::map<std::string, std::string>> all_config();
  caf::expected<void> put_config(const std::string& key,
                                 const std::string& value);
  // All or nothing, in one transaction.
  caf::expected<void>
  put_config(const std::map<std::string, std::string>& entries);
  caf::expected<void> delete_config(const std::string& key);

  // -- device API keys -------------------------------------------------------

  caf::expected<std::vector<api_key_record>> api_keys();
  // Inserts `k`, replacing the key of the same (app_id, service_name).
  caf::expected<void> put_api_key(const api_key_record& k);

  // -- device tags -----------------------------------------------------------

  caf::expected<std::vector<device_tag>> device_tags(); // sorted by name
  // Sets each name to its value (a new name gets a new id), all or nothing.
  caf::expected<void>
  put_device_tags(const std::map<std::string, std::string>& tags);

private:
  struct impl;
  explicit store(std::unique_ptr<impl>);
  std::unique_ptr<impl> impl_;
};

} // namespace bosun
