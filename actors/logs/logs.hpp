#pragma once

// The logs actor: every app container's output and the agent's own events,
// to the cloud log stream and to local readers, in bounded memory.
//
// Owns: one engine log stream per supervised container (follow, timestamps,
// stdout and stderr apart), found by listing at start and on engine
// reconnects and by `start` events; each container's resume point; the
// readers' bounded queues (messages/logs.hpp); the cloud shipper child
// (actors/logs/shipper.hpp) while shipping is enabled.
// Resumes without duplicates or gaps: a container's stream is re-read from
// its resume point (since = that second, earlier lines skipped by time and
// count) after the container restarts, the engine reconnects, or the agent
// restarts. The point is stored in the db (config key
// "logs.last.<container id>") once a line has left the cloud queue (handed
// to the shipper, or dropped), or at once when nothing is shipped; lines
// still queued at a restart are read again.
// With a file_dir, every line also goes to the persistent log, written in
// batches; history reads (GET /v2/logs/history) run on workers it owns
// (actors/logs/history_worker.hpp), at most two at once.
// Never: blocks, waits for a reader, or lets a queue grow past its bound.
#include "actors/logger.hpp"
#include "actors/logs/shipper.hpp"
#include "messages/db.hpp"
#include "messages/engine.hpp"
#include "messages/logs.hpp"

#include <caf/actor_system.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace asio {
class io_context;
} // namespace asio

namespace bosun {

// Makes the cloud connections for a shipping setting; std::nullopt (with
// `why`) when the setting cannot be used (e.g. a malformed endpoint).
using log_uploads = std::function<std::optional<log_upload::factory>(
  const log_shipping&, std::string& why)>;

// Connections over Asio on `io` (TCP or TLS, per the endpoint's scheme),
// through the proxy `env` names (https_proxy, no_proxy, …).
log_uploads asio_log_uploads(asio::io_context& io,
                             http::env_lookup env = http::process_env);

struct logs_options {
  log_shipping shipping;                 // the setting at start
  size_t cloud_queue_bytes = 256 * 1024; // the cloud buffer
  // Flow control of each container's log stream: the engine reads no
  // further ahead than this many bytes of lines not yet handled here
  // (container_logs_req::window), so a backlog waits in dockerd's log file,
  // not in this actor's mailbox.
  uint64_t stream_window = 64 * 1024;
  log_uploads uploads;     // needed when shipping
  shipper_options shipper; // timings (connect: from uploads)
  std::chrono::milliseconds persist_interval{100}; // between db writes
  std::chrono::milliseconds respawn_delay{std::chrono::seconds(2)};
  std::function<int64_t()> now_ms; // wall clock, unix ms; default: system
  // The persistent log (actors/logs/log_file.hpp): its directory, "" = off
  // (config persistentLogging: <data dir>/logs), and its cap over both
  // files. Lines are written every file_flush_interval, or at once when
  // file_flush_bytes are waiting.
  std::string file_dir;
  uint64_t file_max_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds file_flush_interval{100};
  size_t file_flush_bytes = 64 * 1024;
  // History workers on threads of their own (tests on the deterministic
  // scheduler: false).
  bool history_detached = true;
  std::shared_ptr<const logger> log;
};

logs_actor spawn_logs(caf::actor_system& sys, engine_actor engine, db_actor db,
                      logs_options opts);

} // namespace bosun
