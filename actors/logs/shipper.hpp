#pragma once

// The log shipper: the logs actor's child that owns the cloud log stream.
//
// Owns: one upload connection at a time (api/logs/upload.hpp), its gzip
// stream, the compressed bytes waiting to be written, the reconnect backoff.
// Pulls: log batches from the logs actor (log_pull → log_batch), only while
// it can take them: connected with little waiting to be written, or idle
// (the first batch opens the stream). Otherwise the lines wait, bounded, in
// the logs actor's cloud queue, which drops (and announces) what overflows.
// Writes: NDJSON lines into the gzip stream as batches come; at most every
// flush_interval, a sync flush and one write of everything compressed, each
// after queueing in the db the resume points the batches carried: what the
// cloud has seen is never shipped again after a restart.
// Reconnects: after any failure (an answer, an error, a write or connect
// timeout), after min(5 s·2^n, 300 s). Closes the stream cleanly after
// idle_close without lines; the next line opens it again.
// Answers: get → log_cloud_stats. Never blocks: all I/O is on the io thread.
#include "api/logs/upload.hpp"
#include "messages/db.hpp"
#include "messages/logs.hpp"

#include <caf/actor_system.hpp>
#include <chrono>

namespace bosun {

using log_shipper_actor
  = caf::typed_actor<caf::reacts_to<log_batch>,
                     caf::replies_to<caf::get_atom>::with<log_cloud_stats>>;

struct shipper_options {
  log_upload::factory connect; // the connection maker (asio, or a fake)
  db_actor db;                 // where resume points go; may be invalid
  std::chrono::milliseconds flush_interval{100};
  std::chrono::milliseconds idle_close{std::chrono::seconds(60)};
  // Compressed bytes waiting to be written before it stops pulling (at most
  // this much goes out per flush interval).
  size_t outbox_limit = 256 * 1024;
  int gzip_level = 1;
};

log_shipper_actor spawn_log_shipper(caf::actor_system& sys, logs_actor logs,
                                    shipper_options opts);

} // namespace bosun
