#pragma once

// app_manager: holds the target and the current state of every app and
// makes the engine match the target, one apply pass at a time.
//
// Owns: the target (persisted through db before it is applied), the apps'
// bookkeeping (release per app, services stopped through the API), one
// service_supervisor per target service (spawned, monitored, respawned at
// most 5 times in 60 s before the failure escalates), the pass loop.
// A pass reads the engine (containers, networks, volumes, images), builds
// the planner's current_state (actors/apps/current_state.hpp), plans
// (actors/apps/planner.hpp) and executes the batch through engine, images,
// volumes, networks and the supervisors; then it plans again until nothing
// is left. A failed pass keeps what runs, reports why and is retried after
// 500 ms doubling up to a cap. Image pulls run in the background: a pass
// never waits for one, it only sees "downloading".
// Tells: its subscribers (cloud_sync, apps_subscribe) the apps view when it
// changed, coalesced (messages/app_manager.hpp apps_view_changed).
// Answers: apply_target, the stored target, apps_status; for the device
// API: its view of the apps, device facts, service actions (start, stop,
// restart), app actions (restart, purge; run between passes, never during
// one) and volume cleanup.
// Emits: balena's system lines to the logs actor for what it does (image
// downloads and deletes, volumes, networks, update locks, containers no
// supervisor manages); the supervisors tell their services' own.
// Never: talks HTTP or JSON, blocks on I/O (lock files excepted: a few
// local file-system calls), restarts containers itself (supervisors do).
#include "actors/apps/container_spec.hpp"
#include "actors/logger.hpp"
#include "messages/api_keys.hpp"
#include "messages/app_manager.hpp"
#include "messages/db.hpp"
#include "messages/engine.hpp"
#include "messages/images.hpp"
#include "messages/logs.hpp"
#include "messages/volumes.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace bosun {

struct app_manager_options {
  bool local_mode = true;
  // Lock directories live under <lock_dir_base>/services/<appId>/<service>.
  std::string lock_dir_base = "/tmp/balena-supervisor";
  // The same directory as the engine names it in bind sources, when bosun
  // reaches it by another path (balenaOS's supervisor container: the host's
  // /tmp/balena-supervisor through /mnt/root); empty = lock_dir_base.
  std::string engine_lock_dir_base;
  apps::spec_context spec; // device facts for container specs
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{std::chrono::minutes(5)};
  // Re-plan this often while a pass only waits (downloads, health).
  std::chrono::milliseconds wait_interval{std::chrono::seconds(1)};
  // apps_view_changed goes to the subscribers at most this often (a pull's
  // progress changes the view many times a second).
  std::chrono::milliseconds notify_interval{250};
  std::shared_ptr<const logger> log;
};

struct app_manager_deps {
  engine_actor engine;
  db_actor db;
  images_actor images;
  volumes_actor volumes;
  networks_actor networks;
  api_keys_actor api_keys; // the scoped keys of supervisor-api services
  // balena's system lines (downloads, services, volumes, networks, locks);
  // none when null.
  logs_actor logs;
};

app_manager_actor spawn_app_manager(caf::actor_system& sys,
                                    app_manager_deps deps,
                                    app_manager_options opts);

} // namespace bosun
