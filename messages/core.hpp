#pragma once

// The agent's core actors, each by its typed handle. Root publishes them
// (get_atom, core_atom): a child's spawn function reads the handles of the
// children started before it, and the HTTP frontend reads the one it
// needs — by member, never by a name and a cast. A handle is invalid while
// its actor is being restarted, or when the agent has no such actor
// (cloud_sync on an unmanaged device).
#include "messages/api_keys.hpp"
#include "messages/app_manager.hpp"
#include "messages/cloud.hpp"
#include "messages/db.hpp"
#include "messages/device_config.hpp"
#include "messages/engine.hpp"
#include "messages/host.hpp"
#include "messages/images.hpp"
#include "messages/logs.hpp"
#include "messages/message.hpp"
#include "messages/root.hpp" // core_atom
#include "messages/tags.hpp"
#include "messages/telemetry.hpp"
#include "messages/volumes.hpp"

#include <type_traits>

namespace bosun {

struct core_actors {
  db_actor db;
  api_keys_actor api_keys;
  tags_actor tags;
  engine_actor engine;
  images_actor images;
  volumes_actor volumes;
  networks_actor networks;
  logs_actor logs;
  app_manager_actor app_manager;
  host_actor host;
  device_config_actor device_config;
  cloud_sync_actor cloud_sync;
  telemetry_actor telemetry;

  // f(name, member) for each member, in the order root starts them.
  template <class F>
  static void each(F&& f) {
    f("db", &core_actors::db);
    f("api_keys", &core_actors::api_keys);
    f("tags", &core_actors::tags);
    f("engine", &core_actors::engine);
    f("images", &core_actors::images);
    f("volumes", &core_actors::volumes);
    f("networks", &core_actors::networks);
    f("logs", &core_actors::logs);
    f("app_manager", &core_actors::app_manager);
    f("host", &core_actors::host);
    f("device_config", &core_actors::device_config);
    f("cloud_sync", &core_actors::cloud_sync);
    f("telemetry", &core_actors::telemetry);
  }

  // The name of a member ("app_manager"), for messages and logs.
  template <class Handle>
  static const char* name_of(Handle core_actors::*member) {
    const char* out = "?";
    each([&](const char* name, auto m) {
      if constexpr (std::is_same_v<decltype(m), Handle core_actors::*>)
        if (m == member)
          out = name;
    });
    return out;
  }
};

} // namespace bosun

BOSUN_MESSAGE(bosun::core_actors)
