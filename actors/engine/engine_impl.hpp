#pragma once

// Private to the engine actor (engine.cpp: the request table; link.cpp: the
// connection, its up/down state and the streams). Not for other actors.
#include "actors/engine/engine.hpp"
#include "actors/engine/engine_logic.hpp"
#include "actors/engine/engine_streams.hpp"
#include "api/docker/codec.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bosun::engine_detail {

// Completions of the actor's own I/O, sent to itself from the io thread.
struct io_reply {
  uint64_t id;
  http::result<http::response> result;
};
struct io_head {
  uint64_t id;
  int status;
};
struct io_data {
  uint64_t id;
  std::string piece;
};
struct io_end {
  uint64_t id;
  std::optional<http::error> err;
};
// Reconnect probing (and the /events watchdog).
struct probe_due {
  uint64_t generation;
};
struct probe_reply {
  uint64_t generation;
  http::result<http::response> result;
};
// Liveness checks while up: the /events stream's idle timer (events_id: the
// stream it watches), and the ping after a request failed with `closed`
// (events_id 0). `reason` says what prompted the ping.
struct liveness_due {
  uint64_t events_id;
};
struct liveness_reply {
  uint64_t events_id;
  std::string reason;
  http::result<http::response> result;
};

} // namespace bosun::engine_detail

BOSUN_MESSAGE(bosun::engine_detail::io_reply)
BOSUN_MESSAGE(bosun::engine_detail::io_head)
BOSUN_MESSAGE(bosun::engine_detail::io_data)
BOSUN_MESSAGE(bosun::engine_detail::io_end)
BOSUN_MESSAGE(bosun::engine_detail::probe_due)
BOSUN_MESSAGE(bosun::engine_detail::probe_reply)
BOSUN_MESSAGE(bosun::engine_detail::liveness_due)
BOSUN_MESSAGE(bosun::engine_detail::liveness_reply)

namespace bosun::engine_detail {

// The public interface plus the completions only the actor sends itself.
using impl_actor
  = engine_actor::extend<caf::reacts_to<io_reply>, caf::reacts_to<io_head>,
                         caf::reacts_to<io_data>, caf::reacts_to<io_end>,
                         caf::reacts_to<probe_due>, caf::reacts_to<probe_reply>,
                         caf::reacts_to<liveness_due>,
                         caf::reacts_to<liveness_reply>>;

// A stream's cancel handle. Touched only on the io thread: the stream is
// started and cancelled by handlers posted there, in order.
struct stream_slot {
  http::stream_handle handle;
  bool cancelled = false;
  // The pieces of one read, passed to the actor as one io_data.
  std::string pending;
  bool flush_posted = false;
  // Flow control (log streams with a window): bytes passed to the actor
  // and not yet acknowledged by the listener; reading pauses at `window`
  // and resumes at half of it. window 0: none.
  uint64_t window = 0;
  uint64_t unacked = 0;
  bool paused = false;
};

using response_handler = std::function<void(caf::expected<http::response>)>;

struct events_stream {
  uint64_t id = 0; // 0: none open
  int status = 0;
  std::string error_body;
  engine_streams::event_reader reader;
  std::shared_ptr<stream_slot> slot;
  bool bytes_since_check = false; // for the idle check (liveness_due)
};

struct log_stream {
  std::string container_id;
  log_listener_actor listener;
  engine_streams::log_assembler lines;
  caf::typed_response_promise<uint64_t> rp; // pending until the head
  int status = 0;
  std::string error_body;
  std::shared_ptr<stream_slot> slot;
  uint64_t window = 0; // flow control (container_logs_req::window)
};

struct pull_stream {
  std::string image;
  pull_listener_actor listener;
  engine_streams::pull_reader reader;
  caf::typed_response_promise<void> rp;
  int status = 0;
  std::string error_body;
  std::shared_ptr<stream_slot> slot;
};

struct engine_actor_state {
  static inline const char* name = "engine";

  asio::io_context* io = nullptr;
  std::shared_ptr<http::client> client;
  engine_options opts;
  caf::weak_actor_ptr me; // what I/O callbacks hold: never keeps us alive

  engine_state state = engine_state::starting;
  std::string down_reason;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, response_handler> calls;
  events_stream events;
  std::map<uint64_t, log_stream> logs;
  std::map<uint64_t, pull_stream> pulls;
  std::vector<engine_listener_actor> subscribers;

  uint64_t probe_generation = 0;
  uint32_t probe_attempt = 0;
  bool closed_check_out = false; // a ping after a `closed` is in flight
  int64_t last_event_nano = 0;   // resume point of /events
  int64_t up_since_nano = 0;     // fallback resume point (no event seen yet)
  engine_telemetry counters;

  engine_actor_state() = default;
  engine_actor_state(const engine_actor_state&) = delete;
  engine_actor_state& operator=(const engine_actor_state&) = delete;
  ~engine_actor_state(); // cancels open streams
};

using self_ptr = impl_actor::stateful_pointer<engine_actor_state>;

// -------------------------------------------------------- link.cpp: I/O --

template <class Msg>
void tell(const caf::weak_actor_ptr& me, Msg&& msg) {
  if (auto p = me.lock())
    caf::anon_send(caf::actor_cast<impl_actor>(p), std::forward<Msg>(msg));
}

http::request make_request(std::string method, std::string target,
                           std::chrono::milliseconds timeout,
                           std::string body = {});

// Posts a request to the io thread; the completion comes back as io_reply.
void post_send(self_ptr self, uint64_t id, http::request req);

void note_failure(self_ptr self, const caf::error& err);

// The error for requests while the engine is down.
caf::error unavailable(self_ptr self);

// Starts the events stream (at spawn, and when a probe ping answers).
void open_events(self_ptr self);

// Streams: logs after the container's TTY setting is known, pulls.
void start_logs(self_ptr self, caf::typed_response_promise<uint64_t> rp,
                const container_logs_req& req, bool tty);
void start_pull(self_ptr self, caf::typed_response_promise<void> rp,
                image_pull_req& req);
void cancel_logs(self_ptr self, uint64_t stream_id);
// The listener handled `m.bytes` of the stream: its reading may resume.
void on_log_ack(self_ptr self, const log_ack& m);

// Subscriptions (a dead listener also loses its log streams).
engine_status subscribe(self_ptr self, const engine_listener_actor& l);
void unsubscribe(self_ptr self, const caf::actor_addr& who);
void drop_listener(self_ptr self, const caf::actor_addr& who);

engine_telemetry telemetry(self_ptr self);

// Completions.
void on_io_reply(self_ptr self, io_reply& m);
void on_stream_head(self_ptr self, const io_head& m);
void on_stream_data(self_ptr self, io_data& m);
void on_stream_end(self_ptr self, io_end& m);
void on_probe_due(self_ptr self, const probe_due& m);
void on_probe_reply(self_ptr self, const probe_reply& m);
void on_liveness_due(self_ptr self, const liveness_due& m);
void on_liveness_reply(self_ptr self, liveness_reply& m);

// ----------------------------------------------- request/reply helpers --

inline bool is_success(int status) {
  return status >= 200 && status < 300;
}

template <class T>
caf::expected<T> checked(docker::decoded<T>&& d) {
  if (!d)
    return caf::make_error(engine_errc::protocol,
                           "undecodable engine reply: " + *d.err);
  return std::move(d.value);
}

inline void deliver_void(caf::typed_response_promise<void>& rp) {
  static_cast<caf::response_promise&>(rp).deliver(caf::unit);
}

// Fails `rp` with `err`, counting it.
template <class Promise>
void fail(self_ptr self, Promise& rp, const caf::error& err) {
  note_failure(self, err);
  rp.deliver(err);
}

// Counts a request; false (and `rp` failed fast) while the engine is down.
template <class Promise>
bool admit(self_ptr self, Promise& rp) {
  ++self->state.counters.requests_total;
  if (self->state.state != engine_state::down)
    return true;
  fail(self, rp, unavailable(self));
  return false;
}

// Runs `req`; a 2xx response goes to `on_ok(rp, response)`, anything else
// fails `rp` with the typed error (`what` describes a bodiless reply).
template <class Promise, class OnOk>
void exchange(self_ptr self, Promise rp, http::request req, std::string what,
              OnOk on_ok) {
  auto& st = self->state;
  auto id = st.next_id++;
  st.calls.emplace(
    id, [self, rp, what = std::move(what),
         on_ok = std::move(on_ok)](caf::expected<http::response> r) mutable {
      if (!r)
        return fail(self, rp, r.error());
      if (!is_success(r->status))
        return fail(self, rp,
                    engine_logic::from_status(r->status, r->body, what));
      on_ok(rp, *r);
    });
  post_send(self, id, std::move(req));
}

// A request whose reply is decoded from the response by `decode`.
template <class T, class Decode>
caf::typed_response_promise<T> ask(self_ptr self, http::request req,
                                   Decode decode) {
  auto rp = self->make_response_promise<T>();
  if (!admit(self, rp))
    return rp;
  exchange(self, rp, std::move(req), {},
           [self, decode](caf::typed_response_promise<T>& rp,
                          const http::response& resp) {
             caf::expected<T> v = decode(resp);
             if (!v)
               return fail(self, rp, v.error());
             rp.deliver(std::move(*v));
           });
  return rp;
}

// A request whose reply is just success. `what` describes a 304.
inline caf::typed_response_promise<void> act(self_ptr self, http::request req,
                                             std::string what = {}) {
  auto rp = self->make_response_promise<void>();
  if (!admit(self, rp))
    return rp;
  exchange(self, rp, std::move(req), std::move(what),
           [](caf::typed_response_promise<void>& rp, const http::response&) {
             deliver_void(rp);
           });
  return rp;
}

} // namespace bosun::engine_detail
