#include "persistence/store.hpp"

#include <filesystem>
#include <mutex>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <system_error>

namespace bosun {

struct store::impl {
  std::string path;
  soci::session sql;
  migration_report report;

  sqlite_api::sqlite3* native() {
    return static_cast<soci::sqlite3_session_backend*>(sql.get_backend())
      ->conn_;
  }
};

namespace {

caf::error query_error(const std::string& path, const std::string& what,
                       const std::exception& e) {
  // soci_error::get_error_message() drops SOCI's boilerplate prefix.
  std::string why = e.what();
  if (auto* se = dynamic_cast<const soci::soci_error*>(&e))
    why = se->get_error_message();
  return caf::error(db_errc::query_failed,
                    "database " + path + ": " + what + ": " + why);
}

// An integer column as SOCI typed it from the declared type (INTEGER →
// int, BIGINT → long long).
int64_t get_int64(const soci::row& r, std::size_t i) {
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer:
      return r.get<int>(i);
    case soci::dt_long_long:
      return r.get<long long>(i);
    case soci::dt_unsigned_long_long:
      return static_cast<int64_t>(r.get<unsigned long long>(i));
    default:
      return std::stoll(r.get<std::string>(i));
  }
}

// SQLite's page cache starts each connection with one bulk allocation of 20
// pages (about 85 KiB, every slot's header written, so resident) at its
// first read. bosun's database is a few pages: allocated one at a time as
// they are read, they cost a connection about 20 KiB in all (fleet-sim
// holds one connection per simulated agent). Process-wide, so set before
// SQLite's first use; once SQLite is initialized (another library opened a
// database first) the call is refused and nothing changes.
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite_api::sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
  });
}

} // namespace

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

store::store(store&&) noexcept = default;
store& store::operator=(store&&) noexcept = default;
store::~store() = default;

caf::expected<store> store::open(const std::string& path) {
  return open(path, options{});
}

caf::expected<store> store::open(const std::string& path, const options& opts) {
  auto fail = [&](const std::string& why) {
    return caf::error(db_errc::open_failed, "database " + path + ": " + why);
  };
  if (path.empty() || path.find('"') != std::string::npos)
    return fail("unusable file name");
  bool in_memory = path == ":memory:";
  if (!in_memory) {
    auto dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!dir.empty())
      std::filesystem::create_directories(dir, ec);
    if (ec)
      return fail("cannot create " + dir.string() + ": " + ec.message());
  }
  configure_sqlite_once();
  auto p = std::make_unique<impl>();
  p->path = path;
  try {
    // Quoted: SOCI splits the connection string on spaces.
    p->sql.open(soci::sqlite3, "db=\"" + path + "\"");
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  sqlite_api::sqlite3_busy_timeout(p->native(),
                                   static_cast<int>(opts.busy_timeout.count()));
  // WAL: readers never block the writer and a crash loses no committed
  // transaction; FULL: committed means on disk, even on power loss.
  // DELETE (rollback): as safe with FULL, one open file at rest.
  bool wal = opts.journal == options::journal_kind::wal;
  const std::string want = wal ? "wal" : "delete";
  std::string mode;
  try {
    p->sql << "PRAGMA journal_mode=" + want, soci::into(mode);
    p->sql << "PRAGMA synchronous=FULL";
    p->sql << "PRAGMA foreign_keys=ON";
    // A page cache of 8 KiB (two pages) instead of SQLite's 2 MiB: bosun's
    // database is a few pages read now and then, and a page not cached is
    // read again from the OS's cache (no measurable cost: 50 µs for a read
    // of every table either way). A connection that read every page kept
    // them all, ~17 KiB more here and more with a large target.
    p->sql << "PRAGMA cache_size=-8";
  } catch (const std::exception& e) {
    // The first read of a file that is not SQLite fails here.
    if (auto* se = dynamic_cast<const soci::soci_error*>(&e))
      return fail(se->get_error_message());
    return fail(e.what());
  }
  if (!in_memory && mode != want)
    return fail("cannot switch to journal_mode " + want + " (journal_mode is "
                + mode + ")");
  auto report = migrate(p->sql, path, opts.migrations);
  if (!report)
    return std::move(report.error());
  p->report = *report;
  return store{std::move(p)};
}

const std::string& store::path() const {
  return impl_->path;
}

const migration_report& store::migrated() const {
  return impl_->report;
}

caf::expected<std::string> store::journal_mode() {
  try {
    std::string mode;
    impl_->sql << "PRAGMA journal_mode", soci::into(mode);
    return mode;
  } catch (const std::exception& e) {
    return query_error(impl_->path, "journal_mode", e);
  }
}

caf::expected<int> store::schema_version() {
  return bosun::schema_version(impl_->sql, impl_->path);
}

caf::expected<std::optional<std::string>>
store::get_config(const std::string& key) {
  try {
    std::string value;
    impl_->sql << "SELECT value FROM config WHERE key = :k", soci::use(key),
      soci::into(value);
    if (!impl_->sql.got_data())
      return std::optional<std::string>{};
    return std::optional<std::string>{std::move(value)};
  } catch (const std::exception& e) {
    return query_error(impl_->path, "get config " + key, e);
  }
}

caf::expected<std::map<std::string, std::string>> store::all_config() {
  try {
    std::map<std::string, std::string> out;
    soci::rowset<soci::row> rows
      = (impl_->sql.prepare << "SELECT key, value FROM config");
    for (const auto& r : rows)
      out.emplace(r.get<std::string>(0), r.get<std::string>(1));
    return out;
  } catch (const std::exception& e) {
    return query_error(impl_->path, "get all config", e);
  }
}

caf::expected<void> store::put_config(const std::string& key,
                                      const std::string& value) {
  return put_config(std::map<std::string, std::string>{{key, value}});
}

caf::expected<void>
store::put_config(const std::map<std::string, std::string>& entries) {
  try {
    soci::transaction tr(impl_->sql);
    std::string key;
    std::string value;
    soci::statement st
      = (impl_->sql.prepare
           << "INSERT INTO config(key, value) VALUES(:k, :v) "
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
         soci::use(key, "k"), soci::use(value, "v"));
    for (const auto& [k, v] : entries) {
      key = k;
      value = v;
      st.execute(true);
    }
    tr.commit();
    return caf::unit;
  } catch (const std::exception& e) {
    return query_error(impl_->path, "put config", e);
  }
}

caf::expected<void> store::delete_config(const std::string& key) {
  try {
    impl_->sql << "DELETE FROM config WHERE key = :k", soci::use(key);
    return caf::unit;
  } catch (const std::exception& e) {
    return query_error(impl_->path, "delete config " + key, e);
  }
}

caf::expected<std::vector<api_key_record>> store::api_keys() {
  try {
    std::vector<api_key_record> out;
    soci::rowset<soci::row> rows
      = (impl_->sql.prepare
         << "SELECT key, app_id, service_name FROM api_key ORDER BY rowid");
    for (const auto& r : rows)
      out.push_back(
        {r.get<std::string>(0), get_int64(r, 1), r.get<std::string>(2)});
    return out;
  } catch (const std::exception& e) {
    return query_error(impl_->path, "get api keys", e);
  }
}

caf::expected<void> store::put_api_key(const api_key_record& k) {
  try {
    soci::transaction tr(impl_->sql);
    long long app_id = k.app_id;
    impl_->sql << "DELETE FROM api_key WHERE app_id = :a AND service_name = :s",
      soci::use(app_id, "a"), soci::use(k.service_name, "s");
    impl_->sql << "INSERT INTO api_key(key, app_id, service_name) "
                  "VALUES(:k, :a, :s)",
      soci::use(k.key, "k"), soci::use(app_id, "a"),
      soci::use(k.service_name, "s");
    tr.commit();
    return caf::unit;
  } catch (const std::exception& e) {
    return query_error(impl_->path, "put api key", e);
  }
}

caf::expected<std::vector<device_tag>> store::device_tags() {
  try {
    std::vector<device_tag> out;
    soci::rowset<soci::row> rows
      = (impl_->sql.prepare
         << "SELECT id, name, value FROM device_tag ORDER BY name");
    for (const auto& r : rows)
      out.push_back(
        {get_int64(r, 0), r.get<std::string>(1), r.get<std::string>(2)});
    return out;
  } catch (const std::exception& e) {
    return query_error(impl_->path, "get device tags", e);
  }
}

caf::expected<void>
store::put_device_tags(const std::map<std::string, std::string>& tags) {
  try {
    soci::transaction tr(impl_->sql);
    std::string name;
    std::string value;
    soci::statement st
      = (impl_->sql.prepare
           << "INSERT INTO device_tag(name, value) VALUES(:n, :v) "
              "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
         soci::use(name, "n"), soci::use(value, "v"));
    for (const auto& [n, v] : tags) {
      name = n;
      value = v;
      st.execute(true);
    }
    tr.commit();
    return caf::unit;
  } catch (const std::exception& e) {
    return query_error(impl_->path, "put device tags", e);
  }
}

} // namespace bosun
