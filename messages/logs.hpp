#pragma once

// The logs actor's interface: app containers' output and the agent's own
// events ("system" lines), shipped to the cloud log stream and served to
// local readers (GET /v2/local/logs), with bounded memory.
//
//  - system_log: any actor tells what it did, in balena's wording, e.g.
//      caf::anon_send(logs, system_event("Downloading image", image));
//      caf::anon_send(logs, system_event("Failed to download image", image,
//                                        "manifest unknown"));
//    gives "Failed to download image '<image>' due to 'manifest unknown'"
//    (isStdErr: an error was given). Fire and forget: never waits.
//  - log_shipping: where (and whether) lines go to the cloud. Shipping runs
//    only while `enabled` (managed, provisioned, not in local mode, log
//    control on); otherwise cloud-bound lines are dropped at once.
//  - Readers (the cloud shipper, each local HTTP reader) subscribe with
//    log_subscribe and pull: each log_pull is answered with one log_batch
//    as soon as the reader's queue holds something. A reader's queue is
//    bounded (bytes); when full, the oldest line of the source holding the
//    most bytes is dropped and counted, and the next batch ends with a
//    "Warning: Suppressed N message(s) due to high load" system line. A
//    slow reader costs only its own queue: nothing ever waits for it.
//  - get → logs_telemetry (counts, queue fill, the cloud link's state).
//  - log_history_read → log_history_lines: with persistent logging on,
//    every line (as /v2/local/logs shows it) is also appended to a
//    size-capped file pair in the data dir; this reads them (everything
//    logged before the request included) on a worker the logs actor owns
//    and answers the lines that match, oldest first. Errors:
//    logs_errc::persistence_off, logs_errc::busy (two reads already run).
//  - log_history_req → log_history: the same flush, naming the files (what
//    the history worker reads).
#include "messages/message.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bosun {

enum class logs_errc : uint8_t {
  persistence_off = 1, // a history read without persistent logging
  busy = 2,            // a history read while the most allowed already run
};

inline const char* to_string(logs_errc x) {
  switch (x) {
    case logs_errc::persistence_off:
      return "persistence_off";
    case logs_errc::busy:
      return "busy";
  }
  return "unknown";
}

} // namespace bosun

CAF_ERROR_CODE_ENUM(bosun::logs_errc, "logs")

namespace bosun {

// One line, as shipped and served.
struct log_entry {
  std::string message;      // already cut to the 10,000-character limit
  int64_t timestamp_ms = 0; // unix ms: the engine's, or when it was logged
  bool is_stderr = false;
  bool is_system = false;
  // Container lines: the service it came from (labels io.balena.*).
  std::optional<int64_t> service_id;
  std::string service_name;
  int64_t app_id = 0;
};

using log_entry_ptr = std::shared_ptr<const log_entry>;

// Command: a line of the agent's own, e.g. "Installing service 'main …'".
struct system_log {
  std::string message;
  bool is_stderr = false; // errors
};

// balena's system event wording: "<what> '<object>'" plus " due to
// '<error>'" when there is an error (then on stderr).
inline system_log system_event(std::string what, const std::string& object = {},
                               const std::string& error = {}) {
  system_log out{std::move(what), !error.empty()};
  if (!object.empty())
    out.message += " '" + object + "'";
  if (!error.empty())
    out.message += " due to '" + error + "'";
  return out;
}

// Command: the cloud log stream's settings. Sent at start (from config.json)
// and whenever they change (provisioning, local mode, SUPERVISOR_LOG_CONTROL).
struct log_shipping {
  bool enabled = false;
  std::string endpoint; // logsEndpoint, else apiEndpoint ("https://api…")
  std::string uuid;
  std::string api_key; // deviceApiKey
};

inline bool operator==(const log_shipping& a, const log_shipping& b) {
  return a.enabled == b.enabled && a.endpoint == b.endpoint && a.uuid == b.uuid
         && a.api_key == b.api_key;
}

// What a reader gets for each pull.
struct log_batch {
  std::vector<log_entry_ptr> entries; // oldest first
  // For the cloud shipper: db config keys and values to store before these
  // lines are written (where each container's log is to be read on from
  // after a restart). Queued in the db before the bytes go out, they are
  // stored before the db stops, so a line the cloud saw is never re-read.
  std::map<std::string, std::string> resume;
};

using log_reader_actor = caf::typed_actor<caf::reacts_to<log_batch>>;

// Event from a reader: it can take the next batch.
struct log_pull {
  log_reader_actor reader;
};

// A local reader: it gets every line logged from now on. (The cloud shipper
// is the logs actor's own child; it gets only what balena ships: system
// lines and container lines with a service id.)
struct log_subscribe {
  log_reader_actor reader;     // unsubscribed when it terminates
  size_t queue_bytes = 262144; // its queue's bound (a line counts 64 + size)
};

struct log_unsubscribe {
  log_reader_actor reader;
};

// One reader's queue.
struct log_queue_stats {
  std::string name; // "cloud" or "local-<n>"
  uint64_t queued_lines = 0;
  uint64_t queued_bytes = 0;
  uint64_t capacity_bytes = 0;
  uint64_t delivered = 0; // lines handed to the reader
  uint64_t dropped = 0;   // lines dropped because the queue was full
};

// The cloud link, as the shipper reports it.
struct log_cloud_stats {
  std::string state = "off"; // off, idle, connecting, open, backoff
  uint64_t connects = 0;     // connection attempts
  uint64_t failures = 0;     // attempts or streams that failed
  uint64_t lines = 0;        // lines written to the stream
  uint64_t bytes_raw = 0;    // NDJSON bytes before gzip
  uint64_t bytes_sent = 0;   // gzip bytes written
  int64_t backoff_ms = 0;    // the current (or last) reconnect delay
  std::string last_error;
};

// The persistent log (logs_options::persist).
struct log_file_stats {
  bool enabled = false;
  uint64_t max_bytes = 0;     // the cap over both files
  uint64_t size_bytes = 0;    // both files now (what was written)
  uint64_t lines = 0;         // lines written
  uint64_t bytes_written = 0; // bytes written
  uint64_t rotations = 0;     // times the current file became the old one
  uint64_t write_errors = 0;  // failed opens or writes
  uint64_t dropped = 0;       // lines lost to errors or too long for a file
  uint64_t pending_bytes = 0; // encoded, not yet written
  std::string last_error;     // the last failure ("" once writable again)
};

struct logs_telemetry {
  uint64_t containers = 0;   // containers known
  uint64_t attached = 0;     // log streams open
  uint64_t lines = 0;        // container lines received
  uint64_t system_lines = 0; // system lines logged
  uint64_t skipped = 0;      // container lines already seen (resume)
  uint64_t cut = 0;          // lines cut to the length limit
  std::vector<log_queue_stats> queues;
  log_cloud_stats cloud;
  log_file_stats file;
};

// Which lines of the persistent log a history read wants (each optional).
struct log_history_query {
  std::optional<uint64_t> count;      // the last N matching lines
  std::optional<int64_t> since;       // timestamp >= since (unix ms)
  std::optional<int64_t> until;       // timestamp <= until (unix ms)
  std::optional<std::string> service; // serviceName equals (system lines
                                      // have none: they are left out)
};

// Request (GET /v2/logs/history): the matching lines.
struct log_history_read {
  log_history_query query;
};

// NDJSON in the /v2/local/logs shape, oldest first, '\n' after each line;
// at most the cap's worth.
struct log_history_lines {
  std::string ndjson;
};

// Request: where the persistent log is (after writing what is pending).
struct log_history_req {};

struct log_history {
  bool enabled = false;           // false: persistent logging is off
  std::vector<std::string> files; // existing files, oldest first
  uint64_t max_bytes = 0;         // the cap over all of them
};

using logs_actor = caf::typed_actor<
  caf::reacts_to<system_log>, caf::reacts_to<log_shipping>,
  caf::reacts_to<log_subscribe>, caf::reacts_to<log_unsubscribe>,
  caf::reacts_to<log_pull>,
  caf::replies_to<caf::get_atom>::with<logs_telemetry>,
  caf::replies_to<log_history_req>::with<log_history>,
  caf::replies_to<log_history_read>::with<log_history_lines>>;

} // namespace bosun

BOSUN_MESSAGE(bosun::log_entry)
BOSUN_MESSAGE(bosun::system_log)
BOSUN_MESSAGE(bosun::log_shipping)
BOSUN_MESSAGE(bosun::log_batch)
BOSUN_MESSAGE(bosun::log_pull)
BOSUN_MESSAGE(bosun::log_subscribe)
BOSUN_MESSAGE(bosun::log_unsubscribe)
BOSUN_MESSAGE(bosun::log_queue_stats)
BOSUN_MESSAGE(bosun::log_cloud_stats)
BOSUN_MESSAGE(bosun::log_file_stats)
BOSUN_MESSAGE(bosun::logs_telemetry)
BOSUN_MESSAGE(bosun::log_history_req)
BOSUN_MESSAGE(bosun::log_history)
BOSUN_MESSAGE(bosun::log_history_query)
BOSUN_MESSAGE(bosun::log_history_read)
BOSUN_MESSAGE(bosun::log_history_lines)
