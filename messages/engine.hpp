#pragma once

// The engine actor's interface: typed requests for the Docker Engine API
// (v1.41), its events, and engine up/down.
//
// The engine actor is the only owner of the engine connection. Everyone else
// holds an `engine_actor` handle and sends one request struct per operation;
// the reply is the decoded result, or a caf::error of category "engine"
// (engine_errc) whose context is the engine's own message, e.g.
//   caf::make_error(engine_errc::not_found, "No such container: x").
//
// Streams:
//  - events: send engine_subscribe{listener}; the listener gets every
//    container/image/network/volume event and engine_status changes.
//  - logs: container_logs_req{id, options, listener}; the reply is a stream
//    id once the engine accepted the request; log_lines batches follow, then
//    one log_stream_ended. container_logs_cancel{stream id} ends it early.
//    With a flow-control window, the listener acknowledges each batch's
//    bytes with log_ack once handled, and the engine reads no further ahead.
//  - pulls: image_pull_req{pull, listener}; image_pull_event messages go to
//    the listener as they arrive; the reply comes when the pull is over
//    (success, or the error the engine reported inside the stream).
//
// A simulated engine (fleet-sim, tests) implements `engine_actor` too.
#include "messages/engine_types.hpp"
#include "messages/message.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bosun {

// ---------------------------------------------------------------- errors --

enum class engine_errc : uint8_t {
  not_found = 1, // 404: no such container/image/volume/network
  conflict,      // 409: name in use, container running, image in use, ...
  not_modified,  // 304: already started / already stopped
  bad_request,   // 400 (and other 4xx): the engine rejected the request
  server_error,  // 5xx
  unavailable,   // engine down: refused, connection closed, or marked down
  timeout,       // the engine did not answer in time
  protocol,      // garbled HTTP or undecodable JSON from the engine
  stream_error,  // the engine reported an error inside a stream (a pull)
  cancelled,     // a stream ended because it was cancelled
};

inline const char* to_string(engine_errc x) {
  switch (x) {
    case engine_errc::not_found:
      return "not_found";
    case engine_errc::conflict:
      return "conflict";
    case engine_errc::not_modified:
      return "not_modified";
    case engine_errc::bad_request:
      return "bad_request";
    case engine_errc::server_error:
      return "server_error";
    case engine_errc::unavailable:
      return "unavailable";
    case engine_errc::timeout:
      return "timeout";
    case engine_errc::protocol:
      return "protocol";
    case engine_errc::stream_error:
      return "stream_error";
    case engine_errc::cancelled:
      return "cancelled";
  }
  return "unknown";
}

} // namespace bosun

CAF_ERROR_CODE_ENUM(bosun::engine_errc, "engine")

namespace bosun {

// The engine's message carried by an engine error ("" when there is none).
inline std::string engine_error_message(const caf::error& e) {
  const auto& ctx = e.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

// "engine not_found: No such container: x" for engine errors; CAF's own
// rendering for any other error; "" for no error. For logs.
inline std::string render_engine_error(const caf::error& e) {
  if (!e)
    return {};
  if (e.category() == caf::atom("engine")) {
    std::string out = "engine ";
    out += to_string(static_cast<engine_errc>(e.code()));
    auto msg = engine_error_message(e);
    if (!msg.empty()) {
      out += ": ";
      out += msg;
    }
    return out;
  }
  return to_string(e);
}

// ------------------------------------------------------- engine up/down --

enum class engine_state : uint8_t {
  starting, // spawned, the first connection attempt is under way
  up,       // the events stream is open
  down,     // lost; probing with backoff
};

inline const char* to_string(engine_state s) {
  switch (s) {
    case engine_state::starting:
      return "starting";
    case engine_state::up:
      return "up";
    case engine_state::down:
      return "down";
  }
  return "unknown";
}

// Sent to subscribers on every up/down change (and as the reply to
// engine_subscribe, with the current state).
struct engine_status {
  engine_state state = engine_state::starting;
  std::string reason; // why it went down; empty when up
};

// The engine actor's own state, for telemetry.
struct engine_telemetry {
  engine_state state = engine_state::starting;
  uint64_t reconnect_attempts = 0; // pings sent while down, in total
  uint64_t reconnects = 0;         // down -> up transitions
  uint64_t requests_in_flight = 0; // requests awaiting the engine
  uint64_t requests_total = 0;     // requests accepted
  uint64_t requests_failed = 0;    // replied with an error
  uint64_t events_seen = 0;        // events decoded from /events
  uint64_t subscribers = 0;
  uint64_t log_streams = 0; // open log streams
  uint64_t pulls = 0;       // pulls in progress
  std::string last_error;   // rendered, of the last failed request
};

// Receives engine events and engine up/down. Any typed actor whose interface
// includes these two handlers can subscribe.
using engine_listener_actor = caf::typed_actor<caf::reacts_to<engine_event>,
                                               caf::reacts_to<engine_status>>;

// -------------------------------------------------------------- requests --

using engine_filters = std::map<std::string, string_list>;

// System. GET /_ping, /version, /info.
struct engine_ping_req {};
struct engine_version_req {};
struct engine_info_req {};

// Containers.
struct container_list_req {
  bool all = true;
  engine_filters filters; // {"label": ["io.balena.supervised"]}, ...
};
struct container_inspect_req {
  std::string id; // id or name
};
struct container_create_req {
  container_create spec; // replies with the new container's id
};
struct container_start_req {
  std::string id; // already running -> engine_errc::not_modified
};
struct container_stop_req {
  std::string id;
  std::optional<int64_t> timeout_s; // before SIGKILL; absent = engine default
};
struct container_kill_req {
  std::string id;
  std::string signal; // "SIGTERM", "9", ...; empty = SIGKILL
};
struct container_restart_req {
  std::string id;
  std::optional<int64_t> timeout_s;
};
struct container_remove_req {
  std::string id;
  bool force = false;   // kill it first if running
  bool volumes = false; // remove its anonymous volumes
};
struct container_wait_req {
  std::string id;
  std::string condition; // "not-running" (default), "next-exit", "removed"
};
struct container_rename_req {
  std::string id;
  std::string name;
};
struct container_update_req {
  std::string id;
  container_update spec;
};

// Logs.
enum class log_source : uint8_t { out = 1, err = 2 }; // stdout, stderr

// One line of a container's log.
struct log_line {
  log_source source = log_source::out;
  std::string timestamp; // RFC 3339 nano; empty unless options.timestamps
  std::string text;      // one line, without its '\n'
};

// The lines of one stream that one read brought, in order: one message per
// batch, not per line.
struct log_lines {
  uint64_t stream_id = 0;
  std::string container_id; // as given in the request
  std::vector<log_line> lines;
  // The stream bytes these lines came from: what a listener that asked for
  // flow control acknowledges (log_ack) once it has handled them.
  uint64_t bytes = 0;
};

struct log_stream_ended {
  uint64_t stream_id = 0;
  std::string container_id;
  // Empty when the stream ended normally (not following, or the container
  // stopped); engine_errc::cancelled after container_logs_cancel;
  // engine_errc::unavailable when the engine went down.
  caf::error reason;
};

using log_listener_actor = caf::typed_actor<caf::reacts_to<log_lines>,
                                            caf::reacts_to<log_stream_ended>>;

struct container_logs_req {
  std::string id;
  container_logs_options options;
  log_listener_actor listener; // the stream ends when the listener dies
  // Flow control: the engine stops reading the stream from its socket while
  // more than `window` bytes of log_lines are not acknowledged with log_ack
  // (dockerd keeps the rest in the container's log), and reads on once at
  // most half of it is. 0: no flow control, no acknowledgements.
  uint64_t window = 0;
};
struct container_logs_cancel {
  uint64_t stream_id = 0;
};
// From a flow-controlled listener: it has handled `bytes` (log_lines::bytes)
// of the stream's batches.
struct log_ack {
  uint64_t stream_id = 0;
  uint64_t bytes = 0;
};

// Images.
struct image_pull_event {
  std::string image; // the pull's from_image (and :tag when given)
  pull_progress progress;
};

using pull_listener_actor = caf::typed_actor<caf::reacts_to<image_pull_event>>;

struct image_list_req {
  engine_filters filters;
};
struct image_inspect_req {
  std::string name; // id, "repo:tag" or "repo@digest"
};
struct image_pull_req {
  image_pull pull;
  pull_listener_actor listener; // may be invalid: no progress wanted
};
struct image_tag_req {
  std::string name; // the image to tag
  image_tag tag;    // the new repo and tag
};
struct image_remove_req {
  std::string name;
  bool force = false;
  bool no_prune = false;
};

// Volumes.
struct volume_list_req {
  engine_filters filters;
};
struct volume_inspect_req {
  std::string name;
};
struct volume_create_req {
  volume_create spec;
};
struct volume_remove_req {
  std::string name;
  bool force = false;
};

// Networks.
struct network_list_req {
  engine_filters filters;
};
struct network_inspect_req {
  std::string id; // id or name
};
struct network_create_req {
  network_create spec; // replies with the new network's id
};
struct network_connect_req {
  std::string network;
  network_connect spec;
};
struct network_disconnect_req {
  std::string network;
  network_disconnect spec;
};
struct network_remove_req {
  std::string id;
};

// Events. The reply to engine_subscribe is the current engine_status.
struct engine_subscribe {
  engine_listener_actor listener;
};
struct engine_unsubscribe {
  engine_listener_actor listener;
};

// ------------------------------------------------------------- interface --

using engine_actor = caf::typed_actor<
  // system
  caf::replies_to<engine_ping_req>::with<engine_ping>,
  caf::replies_to<engine_version_req>::with<engine_version>,
  caf::replies_to<engine_info_req>::with<engine_info>,
  // containers
  caf::replies_to<container_list_req>::with<container_list>,
  caf::replies_to<container_inspect_req>::with<container_inspect>,
  caf::replies_to<container_create_req>::with<std::string>,
  caf::reacts_to<container_start_req>, // void replies: success or error
  caf::reacts_to<container_stop_req>, caf::reacts_to<container_kill_req>,
  caf::reacts_to<container_restart_req>, caf::reacts_to<container_remove_req>,
  caf::replies_to<container_wait_req>::with<container_wait_result>,
  caf::reacts_to<container_rename_req>,
  caf::replies_to<container_update_req>::with<container_update_result>,
  caf::replies_to<container_logs_req>::with<uint64_t>,
  caf::reacts_to<container_logs_cancel>, caf::reacts_to<log_ack>,
  // images
  caf::replies_to<image_list_req>::with<image_list>,
  caf::replies_to<image_inspect_req>::with<image_inspect>,
  caf::reacts_to<image_pull_req>, caf::reacts_to<image_tag_req>,
  caf::replies_to<image_remove_req>::with<image_delete_result>,
  // volumes
  caf::replies_to<volume_list_req>::with<volume_list>,
  caf::replies_to<volume_inspect_req>::with<volume_info>,
  caf::replies_to<volume_create_req>::with<volume_info>,
  caf::reacts_to<volume_remove_req>,
  // networks
  caf::replies_to<network_list_req>::with<network_infos>,
  caf::replies_to<network_inspect_req>::with<network_info>,
  caf::replies_to<network_create_req>::with<std::string>,
  caf::reacts_to<network_connect_req>, caf::reacts_to<network_disconnect_req>,
  caf::reacts_to<network_remove_req>,
  // events, up/down, telemetry
  caf::replies_to<engine_subscribe>::with<engine_status>,
  caf::reacts_to<engine_unsubscribe>,
  caf::replies_to<caf::get_atom>::with<engine_telemetry>>;

} // namespace bosun

BOSUN_MESSAGE(bosun::engine_status)
BOSUN_MESSAGE(bosun::engine_telemetry)
BOSUN_MESSAGE(bosun::engine_ping_req)
BOSUN_MESSAGE(bosun::engine_version_req)
BOSUN_MESSAGE(bosun::engine_info_req)
BOSUN_MESSAGE(bosun::container_list_req)
BOSUN_MESSAGE(bosun::container_inspect_req)
BOSUN_MESSAGE(bosun::container_create_req)
BOSUN_MESSAGE(bosun::container_start_req)
BOSUN_MESSAGE(bosun::container_stop_req)
BOSUN_MESSAGE(bosun::container_kill_req)
BOSUN_MESSAGE(bosun::container_restart_req)
BOSUN_MESSAGE(bosun::container_remove_req)
BOSUN_MESSAGE(bosun::container_wait_req)
BOSUN_MESSAGE(bosun::container_rename_req)
BOSUN_MESSAGE(bosun::container_update_req)
BOSUN_MESSAGE(bosun::log_line)
BOSUN_MESSAGE(bosun::log_lines)
BOSUN_MESSAGE(bosun::log_ack)
BOSUN_MESSAGE(bosun::log_stream_ended)
BOSUN_MESSAGE(bosun::container_logs_req)
BOSUN_MESSAGE(bosun::container_logs_cancel)
BOSUN_MESSAGE(bosun::image_pull_event)
BOSUN_MESSAGE(bosun::image_list_req)
BOSUN_MESSAGE(bosun::image_inspect_req)
BOSUN_MESSAGE(bosun::image_pull_req)
BOSUN_MESSAGE(bosun::image_tag_req)
BOSUN_MESSAGE(bosun::image_remove_req)
BOSUN_MESSAGE(bosun::volume_list_req)
BOSUN_MESSAGE(bosun::volume_inspect_req)
BOSUN_MESSAGE(bosun::volume_create_req)
BOSUN_MESSAGE(bosun::volume_remove_req)
BOSUN_MESSAGE(bosun::network_list_req)
BOSUN_MESSAGE(bosun::network_inspect_req)
BOSUN_MESSAGE(bosun::network_create_req)
BOSUN_MESSAGE(bosun::network_connect_req)
BOSUN_MESSAGE(bosun::network_disconnect_req)
BOSUN_MESSAGE(bosun::network_remove_req)
BOSUN_MESSAGE(bosun::engine_subscribe)
BOSUN_MESSAGE(bosun::engine_unsubscribe)
