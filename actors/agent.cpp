#include "actors/agent.hpp"

#include "actors/engine/engine.hpp"
#include "actors/root/root.hpp"
#include "persistence/db.hpp"

#include <random>

namespace bosun {

namespace {

std::string random_hex(std::size_t n) {
  std::random_device rd;
  std::string out;
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i)
    out += digits[rd() % 16];
  return out;
}

// The value stored under `key`, or `fallback` (when not empty), or a fresh
// random one; stored so that it survives restarts.
std::variant<std::string, caf::error> settle(store& db, const std::string& key,
                                             const std::string& fallback) {
  auto stored = db.get_config(key);
  if (!stored)
    return stored.error();
  if (*stored && (fallback.empty() || **stored == fallback))
    return **stored;
  auto value = fallback.empty() ? random_hex(32) : fallback;
  if (auto ok = db.put_config(key, value); !ok)
    return ok.error();
  return value;
}

} // namespace

std::variant<agent, std::string>
start_agent(caf::actor_system& sys, const config& cfg, agent_deps deps) {
  auto opened = open_db(cfg.db_file());
  if (!opened)
    return db_error_message(opened.error());
  agent out;
  // config.json's uuid wins; otherwise the one generated on first start.
  auto uuid = settle(*opened, "uuid", cfg.uuid);
  if (auto* e = std::get_if<caf::error>(&uuid))
    return "cannot store the device uuid: " + db_error_message(*e);
  out.uuid = std::get<std::string>(uuid);
  auto key = settle(*opened, "api_key", "");
  if (auto* e = std::get_if<caf::error>(&key))
    return "cannot store the API key: " + db_error_message(*e);
  out.api_key = std::get<std::string>(key);

  std::string why;
  auto ep = http::parse_endpoint(cfg.engine, &why);
  if (!ep)
    return "--engine " + cfg.engine + ": " + why;

  root_options opts;
  opts.log = deps.log;
  // The first db instance takes the store opened above; a restarted one
  // opens the file again.
  auto first = std::make_shared<std::optional<store>>(std::move(*opened));
  auto path = cfg.db_file();
  auto log = deps.log;
  opts.children.push_back(
    {"db", [first, path, log](caf::actor_system& s) -> caf::actor {
       if (*first) {
         auto db = std::move(**first);
         first->reset();
         return caf::actor_cast<caf::actor>(spawn_db(s, std::move(db)));
       }
       auto db = open_db(path);
       if (!db) {
         log->error("db", "{}", db_error_message(db.error()));
         return nullptr;
       }
       return caf::actor_cast<caf::actor>(spawn_db(s, std::move(*db)));
     }});
  auto& io = deps.io;
  opts.children.push_back({"engine", [&io, ep = *ep](caf::actor_system& s) {
                             return caf::actor_cast<caf::actor>(
                               spawn_engine(s, io, ep));
                           }});
  out.root = spawn_root(sys, std::move(opts));
  return out;
}

} // namespace bosun
