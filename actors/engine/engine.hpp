#pragma once

// The engine actor: the only owner of the Docker Engine API connection.
//
// Owns: one bosun::http::client to the engine endpoint, the /events stream
// (types container, image, network, volume), log and pull streams, and the
// up/down state of the engine.
// Answers: the typed requests of engine_actor (messages/engine.hpp), by
// posting the HTTP exchange to the shared io_context and turning the
// completion (a message to itself) into the reply. Nothing blocks.
// Emits: engine_event and engine_status to subscribers; log_lines and
// log_stream_ended to log listeners; image_pull_event to pull listeners.
// Down/up: when the events stream ends or hangs (silent, and a ping
// unanswered), or a request finds the engine refusing connections (or closing
// one, and a ping right after unanswered), it tells subscribers `down` once,
// fails in-flight requests with engine_errc::unavailable (and new ones, fast,
// until it is back), and pings with capped exponential backoff; once a ping
// answers it reopens /events from the last event seen and tells subscribers
// `up`.
// Never: touches anything process-global (two engine actors in one process
// are independent), or outlives its last handle (I/O holds weak references).
#include "api/client/client.hpp"
#include "messages/engine.hpp"

#include <chrono>
#include <memory>

namespace caf {
class actor_system;
class actor_system_config;
} // namespace caf

namespace bosun {

struct engine_options {
  // Reconnect probing: first delay, doubling up to the cap.
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(10)};
  // One ordinary request (stop and restart add their own timeout to it).
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  // A silent /events stream (no bytes for this long) gets a ping; when the
  // ping fails too (within request_timeout) the stream counts as hung and the
  // engine as down (reconnect probing reopens it).
  std::chrono::milliseconds events_idle_ping{std::chrono::seconds(60)};
  // Longest silence in a pull stream before it counts as failed.
  std::chrono::milliseconds pull_idle_timeout{std::chrono::minutes(10)};
  // container_wait blocks until the container stops: how long at most.
  std::chrono::milliseconds wait_timeout{std::chrono::hours(24)};
  http::client_options client; // used by the endpoint overload
};

// Spawns an engine actor talking to `ep` through a new http client on `io`
// (which must outlive the actor system's actors: declare it first).
engine_actor spawn_engine(caf::actor_system& sys, asio::io_context& io,
                          http::endpoint ep, engine_options opts = {});

// Same with a given client (tests inject fakes). Its callbacks must run on
// `io`'s thread, like the real client's.
engine_actor spawn_engine(caf::actor_system& sys, asio::io_context& io,
                          std::shared_ptr<http::client> client,
                          engine_options opts = {});

// Lets sys.render(e) print engine errors as render_engine_error() does.
void add_engine_error_renderer(caf::actor_system_config& cfg);

} // namespace bosun
