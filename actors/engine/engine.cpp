#include "actors/engine/engine.hpp"

#include "actors/engine/engine_logic.hpp"
#include "api/docker/codec.hpp"
#include "api/docker/stream.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <functional>
#include <map>
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
// Reconnect probing while the engine is down.
struct probe_due {
  uint64_t generation;
};
struct probe_reply {
  uint64_t generation;
  http::result<http::response> result;
};

} // namespace bosun::engine_detail

BOSUN_MESSAGE(bosun::engine_detail::io_reply)
BOSUN_MESSAGE(bosun::engine_detail::io_head)
BOSUN_MESSAGE(bosun::engine_detail::io_data)
BOSUN_MESSAGE(bosun::engine_detail::io_end)
BOSUN_MESSAGE(bosun::engine_detail::probe_due)
BOSUN_MESSAGE(bosun::engine_detail::probe_reply)

namespace bosun {
namespace {

using namespace engine_detail;
namespace logic = engine_logic;

// The public interface plus the completions only the actor sends itself.
using impl_actor
  = engine_actor::extend<caf::reacts_to<io_reply>, caf::reacts_to<io_head>,
                         caf::reacts_to<io_data>, caf::reacts_to<io_end>,
                         caf::reacts_to<probe_due>,
                         caf::reacts_to<probe_reply>>;

// A stream's cancel handle. Touched only on the io thread: the stream is
// started and cancelled by handlers posted there, in order.
struct stream_slot {
  http::stream_handle handle;
  bool cancelled = false;
};

using response_handler = std::function<void(caf::expected<http::response>)>;

struct events_stream {
  uint64_t id = 0; // 0: none open
  int status = 0;
  std::string error_body;
  docker::ndjson_splitter lines{docker::ndjson_splitter::default_max_line};
  std::shared_ptr<stream_slot> slot;
};

struct log_stream {
  std::string container_id;
  log_listener_actor listener;
  bool timestamps = false;
  docker::log_demuxer demux{docker::log_demuxer::mode::multiplexed};
  caf::typed_response_promise<uint64_t> rp; // until the head arrives
  int status = 0;
  std::string error_body;
  std::string partial[3]; // an unterminated line per source
  std::shared_ptr<stream_slot> slot;
};

struct pull_stream {
  std::string image;
  pull_listener_actor listener;
  docker::ndjson_splitter lines{docker::ndjson_splitter::default_max_line};
  caf::typed_response_promise<void> rp;
  int status = 0;
  std::string error_body;
  std::optional<std::string> failure; // reported inside the stream
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
  int64_t last_event_nano = 0; // resume point of /events
  int64_t up_since_nano = 0;   // fallback resume point (no event seen yet)
  engine_telemetry counters;

  engine_actor_state() = default;
  engine_actor_state(const engine_actor_state&) = delete;
  engine_actor_state& operator=(const engine_actor_state&) = delete;

  ~engine_actor_state() {
    // Streams are the only I/O that would run on without us.
    if (io == nullptr)
      return;
    std::vector<std::shared_ptr<stream_slot>> open;
    if (events.slot)
      open.push_back(events.slot);
    for (auto& [id, s] : logs)
      open.push_back(s.slot);
    for (auto& [id, p] : pulls)
      open.push_back(p.slot);
    if (!open.empty())
      asio::post(*io, [open] {
        for (auto& s : open) {
          s->cancelled = true;
          s->handle.cancel();
        }
      });
  }
};

using self_ptr = impl_actor::stateful_pointer<engine_actor_state>;

// --------------------------------------------------------------- helpers --

template <class Msg>
void tell(const caf::weak_actor_ptr& me, Msg&& msg) {
  if (auto p = me.lock())
    caf::anon_send(caf::actor_cast<impl_actor>(p), std::forward<Msg>(msg));
}

http::request make_request(std::string method, std::string target,
                           std::chrono::milliseconds timeout,
                           std::string body = {}) {
  http::request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.timeout = timeout;
  if (!body.empty()) {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
  }
  return r;
}

bool is_success(int status) {
  return status >= 200 && status < 300;
}

template <class T>
caf::expected<T> checked(docker::decoded<T>&& d) {
  if (!d)
    return caf::make_error(engine_errc::protocol,
                           "undecodable engine reply: " + *d.err);
  return std::move(d.value);
}

void deliver_void(caf::typed_response_promise<void>& rp) {
  static_cast<caf::response_promise&>(rp).deliver(caf::unit);
}

void note_failure(self_ptr self, const caf::error& err) {
  ++self->state.counters.requests_failed;
  self->state.counters.last_error = render_engine_error(err);
}

caf::error unavailable(self_ptr self) {
  return caf::make_error(engine_errc::unavailable,
                         "engine down: " + self->state.down_reason);
}

void post_send(self_ptr self, uint64_t id, http::request req) {
  auto& st = self->state;
  asio::post(*st.io, [client = st.client, me = st.me, id,
                      req = std::move(req)]() mutable {
    client->send(std::move(req), [me, id](http::result<http::response> r) {
      tell(me, io_reply{id, std::move(r)});
    });
  });
}

std::shared_ptr<stream_slot> post_stream(self_ptr self, uint64_t id,
                                         http::request req) {
  auto& st = self->state;
  auto slot = std::make_shared<stream_slot>();
  asio::post(*st.io, [client = st.client, me = st.me, id, slot,
                      req = std::move(req)]() mutable {
    if (slot->cancelled)
      return;
    http::stream_callbacks cbs;
    cbs.on_head = [me, id](int status, const http::header_list&) {
      tell(me, io_head{id, status});
    };
    cbs.on_data = [me, id](std::string_view piece) {
      tell(me, io_data{id, std::string{piece}});
    };
    cbs.on_end = [me, id](std::optional<http::error> err) {
      tell(me, io_end{id, std::move(err)});
    };
    slot->handle = client->stream(std::move(req), std::move(cbs));
  });
  return slot;
}

void cancel_stream(self_ptr self, std::shared_ptr<stream_slot> slot) {
  if (!slot)
    return;
  asio::post(*self->state.io, [slot] {
    slot->cancelled = true;
    slot->handle.cancel();
  });
}

void publish(self_ptr self, const engine_status& status) {
  for (auto& sub : self->state.subscribers)
    self->send(sub, status);
}

// Error bodies are small; cap what a misbehaving peer can make us hold.
void keep_error_body(std::string& body, std::string_view piece) {
  constexpr size_t cap = 64 * 1024;
  body.append(piece.substr(0, cap - std::min(cap, body.size())));
}

// -------------------------------------------------------- up/down states --

void open_events(self_ptr self);
void schedule_probe(self_ptr self,
                    std::optional<std::chrono::milliseconds> delay = {});

void go_down(self_ptr self, std::string reason) {
  auto& st = self->state;
  if (st.state == engine_state::down)
    return;
  st.state = engine_state::down;
  st.down_reason = std::move(reason);
  publish(self, engine_status{engine_state::down, st.down_reason});
  if (st.events.id != 0) {
    cancel_stream(self, st.events.slot);
    st.events = events_stream{};
  }
  // Fail what is in flight: a caller waiting on a dead engine learns it now
  // rather than at its own timeout. Late completions find nothing to do.
  auto err = unavailable(self);
  auto calls = std::move(st.calls);
  st.calls.clear();
  for (auto& [id, done] : calls)
    done(err);
  auto pulls = std::move(st.pulls);
  st.pulls.clear();
  for (auto& [id, p] : pulls) {
    cancel_stream(self, p.slot);
    note_failure(self, err);
    p.rp.deliver(err);
  }
  auto logs = std::move(st.logs);
  st.logs.clear();
  for (auto& [id, l] : logs) {
    cancel_stream(self, l.slot);
    if (l.rp.pending()) {
      note_failure(self, err);
      l.rp.deliver(err);
    } else {
      self->send(l.listener, log_stream_ended{id, l.container_id, err});
    }
  }
  st.probe_attempt = 0;
  schedule_probe(self);
}

void mark_up(self_ptr self) {
  auto& st = self->state;
  auto was = st.state;
  st.probe_attempt = 0;
  if (st.last_event_nano == 0)
    st.up_since_nano = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  if (was == engine_state::up)
    return;
  st.state = engine_state::up;
  st.down_reason.clear();
  if (was == engine_state::down)
    ++st.counters.reconnects;
  publish(self, engine_status{engine_state::up, {}});
}

// Arms the probe timer: after the backoff delay, or after `delay` when given.
// A newer arming makes older timers stale.
void schedule_probe(self_ptr self,
                    std::optional<std::chrono::milliseconds> delay) {
  auto& st = self->state;
  auto gen = ++st.probe_generation;
  if (!delay)
    delay = logic::backoff_delay(st.probe_attempt, st.opts.backoff_initial,
                                 st.opts.backoff_max);
  // An Asio timer rather than delayed_send: a pending CAF timer would hold a
  // strong reference and keep an unreferenced engine actor alive.
  asio::post(*st.io, [io = st.io, me = st.me, gen, d = *delay] {
    auto timer = std::make_shared<asio::steady_timer>(*io, d);
    timer->async_wait([timer, me, gen](const std::error_code& ec) {
      if (!ec)
        tell(me, probe_due{gen});
    });
  });
}

void open_events(self_ptr self) {
  auto& st = self->state;
  events_query q;
  q.filters["type"] = {"container", "image", "network", "volume"};
  auto target = docker::events_target(q);
  // Resume where we left off, so nothing that happened while the stream was
  // down is missed (the engine replays what it still buffers).
  if (st.last_event_nano != 0)
    target = logic::with_since(target, logic::resume_since(st.last_event_nano));
  else if (st.up_since_nano != 0)
    target
      = logic::with_since(target, logic::resume_since(st.up_since_nano - 1));
  st.events = events_stream{};
  st.events.id = st.next_id++;
  // No timeout: /events may be silent for hours.
  st.events.slot = post_stream(
    self, st.events.id,
    make_request("GET", std::move(target), std::chrono::milliseconds{0}));
  // The stream has no timeout, so a watchdog: if its head has not come when
  // this fires, the attempt counts as failed (see probe_due).
  schedule_probe(self, st.opts.request_timeout);
}

void events_ended(self_ptr self, std::string reason) {
  auto& st = self->state;
  st.events = events_stream{};
  if (st.state == engine_state::down) {
    // The ping answered but /events did not: keep probing.
    ++st.probe_attempt;
    schedule_probe(self);
    return;
  }
  go_down(self, std::move(reason));
}

// ----------------------------------------------------------- requests ----

// Runs `req`; a 2xx response goes to `on_ok`, anything else fails `rp`.
template <class Promise, class OnOk>
void exchange(self_ptr self, Promise rp, http::request req, std::string what,
              OnOk on_ok) {
  auto& st = self->state;
  auto id = st.next_id++;
  st.calls.emplace(id,
                   [self, rp, what = std::move(what), on_ok = std::move(on_ok)](
                     caf::expected<http::response> r) mutable {
                     if (!r) {
                       note_failure(self, r.error());
                       rp.deliver(r.error());
                       return;
                     }
                     if (!is_success(r->status)) {
                       auto err = logic::from_status(r->status, r->body, what);
                       note_failure(self, err);
                       rp.deliver(err);
                       return;
                     }
                     on_ok(rp, *r);
                   });
  post_send(self, id, std::move(req));
}

// A request whose reply is decoded from the response body.
template <class T, class Decode>
caf::typed_response_promise<T> ask(self_ptr self, http::request req,
                                   Decode decode) {
  auto rp = self->make_response_promise<T>();
  ++self->state.counters.requests_total;
  if (self->state.state == engine_state::down) {
    note_failure(self, unavailable(self));
    rp.deliver(unavailable(self));
    return rp;
  }
  exchange(self, rp, std::move(req), {},
           [self, decode](caf::typed_response_promise<T>& rp,
                          const http::response& resp) {
             caf::expected<T> v = decode(resp);
             if (!v) {
               note_failure(self, v.error());
               rp.deliver(v.error());
               return;
             }
             rp.deliver(std::move(*v));
           });
  return rp;
}

// A request whose reply is just success. `what` describes a 304.
caf::typed_response_promise<void> act(self_ptr self, http::request req,
                                      std::string what = {}) {
  auto rp = self->make_response_promise<void>();
  ++self->state.counters.requests_total;
  if (self->state.state == engine_state::down) {
    note_failure(self, unavailable(self));
    rp.deliver(unavailable(self));
    return rp;
  }
  exchange(self, rp, std::move(req), std::move(what),
           [](caf::typed_response_promise<void>& rp, const http::response&) {
             deliver_void(rp);
           });
  return rp;
}

std::chrono::milliseconds plus_seconds(std::chrono::milliseconds base,
                                       std::optional<int64_t> s) {
  // Without a timeout the engine uses the container's StopTimeout (10 s by
  // default): leave room for a generous one.
  return base + std::chrono::seconds(s ? std::max<int64_t>(*s, 0) : 60);
}

// -------------------------------------------------------------- streams --

void on_stream_head(self_ptr self, const io_head& m) {
  auto& st = self->state;
  if (m.id == st.events.id) {
    st.events.status = m.status;
    if (m.status == 200)
      mark_up(self);
    return;
  }
  if (auto i = st.logs.find(m.id); i != st.logs.end()) {
    i->second.status = m.status;
    if (m.status == 200)
      i->second.rp.deliver(m.id);
    return;
  }
  if (auto i = st.pulls.find(m.id); i != st.pulls.end())
    i->second.status = m.status;
}

void publish_event(self_ptr self, const std::string& line) {
  auto& st = self->state;
  auto ev = docker::decode_event(line);
  if (!ev)
    return; // one bad line must not cost the stream; nothing to resume from
  ++st.counters.events_seen;
  auto t = ev->time_nano != 0 ? ev->time_nano : ev->time * 1000000000;
  st.last_event_nano = std::max(st.last_event_nano, t);
  for (auto& sub : st.subscribers)
    self->send(sub, *ev);
}

void emit_log_lines(self_ptr self, uint64_t id, log_stream& l,
                    const docker::log_frame& f, bool flush) {
  auto idx = f.stream == docker::log_stream::stderr_ ? 2 : 1;
  auto& buf = l.partial[idx];
  buf += f.data;
  auto send_line = [&](std::string_view line) {
    log_line out;
    out.stream_id = id;
    out.container_id = l.container_id;
    out.source = idx == 2 ? log_source::err : log_source::out;
    if (l.timestamps) {
      auto parts = docker::split_timestamp(line);
      out.timestamp = std::string{parts.timestamp};
      out.text = std::string{parts.message};
    } else {
      out.text = std::string{line};
    }
    self->send(l.listener, std::move(out));
  };
  size_t start = 0;
  for (auto nl = buf.find('\n'); nl != std::string::npos;
       nl = buf.find('\n', start)) {
    auto line = std::string_view{buf}.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    send_line(line);
    start = nl + 1;
  }
  buf.erase(0, start);
  if (flush && !buf.empty()) {
    send_line(buf);
    buf.clear();
  }
}

void on_stream_data(self_ptr self, io_data& m) {
  auto& st = self->state;
  if (m.id == st.events.id) {
    if (st.events.status != 200) {
      keep_error_body(st.events.error_body, m.piece);
      return;
    }
    for (auto& line : st.events.lines.feed(m.piece))
      publish_event(self, line);
    return;
  }
  if (auto i = st.logs.find(m.id); i != st.logs.end()) {
    auto& l = i->second;
    if (l.status != 200) {
      keep_error_body(l.error_body, m.piece);
      return;
    }
    for (auto& f : l.demux.feed(m.piece))
      emit_log_lines(self, m.id, l, f, false);
    return;
  }
  if (auto i = st.pulls.find(m.id); i != st.pulls.end()) {
    auto& p = i->second;
    if (p.status != 200) {
      keep_error_body(p.error_body, m.piece);
      return;
    }
    for (auto& line : p.lines.feed(m.piece)) {
      auto prog = docker::decode_pull_progress(line);
      if (!prog)
        continue; // unknown line shapes are progress we cannot show
      if (prog->error)
        p.failure = *prog->error;
      if (p.listener)
        self->send(p.listener, image_pull_event{p.image, std::move(*prog)});
    }
  }
}

void on_stream_end(self_ptr self, io_end& m) {
  auto& st = self->state;
  if (m.id == st.events.id) {
    std::string reason;
    if (m.err)
      reason = std::string{"events stream failed: "} + m.err->message;
    else if (st.events.status != 200)
      reason = "events stream refused: "
               + render_engine_error(
                 logic::from_status(st.events.status, st.events.error_body));
    else
      reason = "events stream ended";
    events_ended(self, std::move(reason));
    return;
  }
  if (auto i = st.logs.find(m.id); i != st.logs.end()) {
    auto l = std::move(i->second);
    st.logs.erase(i);
    caf::error err;
    if (m.err)
      err = logic::from_transport(*m.err);
    else if (l.status != 200)
      err = logic::from_status(l.status, l.error_body);
    if (l.rp.pending()) { // never got a 200 head
      if (!err)
        err = caf::make_error(engine_errc::protocol, "logs ended before head");
      note_failure(self, err);
      l.rp.deliver(err);
    } else {
      for (int idx : {1, 2})
        emit_log_lines(
          self, m.id, l,
          docker::log_frame{static_cast<docker::log_stream>(idx), {}}, true);
      if (!err && !l.demux.finish())
        err = caf::make_error(engine_errc::protocol, *l.demux.error());
      self->send(l.listener, log_stream_ended{m.id, l.container_id, err});
    }
    if (m.err && logic::means_down(*m.err))
      go_down(self, "logs stream failed: " + m.err->message);
    return;
  }
  if (auto i = st.pulls.find(m.id); i != st.pulls.end()) {
    auto p = std::move(i->second);
    st.pulls.erase(i);
    if (p.status == 200) {
      if (auto last = p.lines.finish()) {
        if (auto prog = docker::decode_pull_progress(*last); prog) {
          if (prog->error)
            p.failure = *prog->error;
          if (p.listener)
            self->send(p.listener, image_pull_event{p.image, *prog});
        }
      }
    }
    caf::error err;
    if (p.failure)
      err = caf::make_error(engine_errc::stream_error, *p.failure);
    else if (m.err)
      err = logic::from_transport(*m.err);
    else if (p.status != 200)
      err = logic::from_status(p.status, p.error_body);
    else if (p.lines.error())
      err = caf::make_error(engine_errc::protocol, *p.lines.error());
    if (err) {
      note_failure(self, err);
      p.rp.deliver(err);
    } else {
      deliver_void(p.rp);
    }
    if (m.err && logic::means_down(*m.err))
      go_down(self, "pull stream failed: " + m.err->message);
  }
}

void start_logs(self_ptr self, caf::typed_response_promise<uint64_t> rp,
                const container_logs_req& req, bool tty) {
  auto& st = self->state;
  if (st.state == engine_state::down) {
    note_failure(self, unavailable(self));
    rp.deliver(unavailable(self));
    return;
  }
  auto id = st.next_id++;
  log_stream l;
  l.container_id = req.id;
  l.listener = req.listener;
  l.timestamps = req.options.timestamps;
  l.demux = docker::log_demuxer{tty ? docker::log_demuxer::mode::raw
                                    : docker::log_demuxer::mode::multiplexed};
  l.rp = std::move(rp);
  auto timeout = req.options.follow ? std::chrono::milliseconds{0}
                                    : st.opts.request_timeout;
  l.slot = post_stream(
    self, id,
    make_request("GET", docker::logs_target(req.id, req.options), timeout));
  st.logs.emplace(id, std::move(l));
  self->monitor(req.listener);
}

void start_pull(self_ptr self, caf::typed_response_promise<void> rp,
                image_pull_req& req) {
  auto& st = self->state;
  auto id = st.next_id++;
  pull_stream p;
  p.image = req.pull.from_image;
  if (!req.pull.tag.empty())
    p.image += ":" + req.pull.tag;
  p.listener = std::move(req.listener);
  p.rp = std::move(rp);
  auto hr = make_request("POST", docker::pull_image_target(req.pull),
                         st.opts.pull_idle_timeout);
  if (req.pull.auth)
    hr.headers.emplace_back("X-Registry-Auth",
                            docker::registry_auth_header(*req.pull.auth));
  p.slot = post_stream(self, id, std::move(hr));
  st.pulls.emplace(id, std::move(p));
}

void drop_listener(self_ptr self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto& subs = st.subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const auto& s) { return s.address() == who; }),
             subs.end());
  for (auto i = st.logs.begin(); i != st.logs.end();) {
    if (i->second.listener.address() == who) {
      cancel_stream(self, i->second.slot);
      if (i->second.rp.pending())
        i->second.rp.deliver(
          caf::make_error(engine_errc::cancelled, "log listener is gone"));
      i = st.logs.erase(i);
    } else {
      ++i;
    }
  }
}

// ------------------------------------------------------------- behaviour --

impl_actor::behavior_type engine_impl(self_ptr self, asio::io_context* io,
                                      std::shared_ptr<http::client> client,
                                      engine_options opts) {
  auto& st = self->state;
  st.io = io;
  st.client = std::move(client);
  st.opts = std::move(opts);
  st.me = caf::weak_actor_ptr{self->ctrl()};
  self->set_down_handler(
    [self](caf::down_msg& dm) { drop_listener(self, dm.source); });
  open_events(self);
  const auto timeout = st.opts.request_timeout;
  namespace d = docker;
  return {
    // -- system
    [self, timeout](engine_ping_req) {
      return ask<engine_ping>(
        self, make_request("GET", d::ping_target(), timeout),
        [](const http::response& r) -> caf::expected<engine_ping> {
          return engine_ping{std::string{r.header("Api-Version")},
                             std::string{r.header("Ostype")}};
        });
    },
    [self, timeout](engine_version_req) {
      return ask<engine_version>(
        self, make_request("GET", d::version_target(), timeout),
        [](const http::response& r) {
          return checked(d::decode_version(r.body));
        });
    },
    [self, timeout](engine_info_req) {
      return ask<engine_info>(self,
                              make_request("GET", d::info_target(), timeout),
                              [](const http::response& r) {
                                return checked(d::decode_info(r.body));
                              });
    },
    // -- containers
    [self, timeout](container_list_req& req) {
      return ask<container_list>(
        self,
        make_request("GET", d::list_containers_target(req.all, req.filters),
                     timeout),
        [](const http::response& r) {
          return checked(d::decode_container_list(r.body));
        });
    },
    [self, timeout](container_inspect_req& req) {
      return ask<container_inspect>(
        self, make_request("GET", d::inspect_container_target(req.id), timeout),
        [](const http::response& r) {
          return checked(d::decode_container_inspect(r.body));
        });
    },
    [self, timeout](container_create_req& req) {
      return ask<std::string>(
        self,
        make_request("POST", d::create_container_target(req.spec.name), timeout,
                     d::encode(req.spec)),
        [](const http::response& r) -> caf::expected<std::string> {
          auto res = checked(d::decode_container_create_result(r.body));
          if (!res)
            return res.error();
          return std::move(res->id);
        });
    },
    [self, timeout](container_start_req& req) {
      return act(
        self, make_request("POST", d::start_container_target(req.id), timeout),
        "container already started: " + req.id);
    },
    [self, timeout](container_stop_req& req) {
      return act(self,
                 make_request("POST",
                              d::stop_container_target(req.id, req.timeout_s),
                              plus_seconds(timeout, req.timeout_s)),
                 "container already stopped: " + req.id);
    },
    [self, timeout](container_kill_req& req) {
      return act(
        self, make_request("POST", d::kill_container_target(req.id, req.signal),
                           timeout));
    },
    [self, timeout](container_restart_req& req) {
      return act(
        self,
        make_request("POST", d::restart_container_target(req.id, req.timeout_s),
                     plus_seconds(timeout, req.timeout_s)));
    },
    [self, timeout](container_remove_req& req) {
      return act(self, make_request("DELETE",
                                    d::remove_container_target(
                                      req.id, req.force, req.volumes),
                                    timeout));
    },
    [self](container_wait_req& req) {
      return ask<container_wait_result>(
        self,
        make_request("POST", d::wait_container_target(req.id, req.condition),
                     self->state.opts.wait_timeout),
        [](const http::response& r) {
          return checked(d::decode_wait_result(r.body));
        });
    },
    [self, timeout](container_rename_req& req) {
      return act(
        self, make_request("POST", d::rename_container_target(req.id, req.name),
                           timeout));
    },
    [self, timeout](container_update_req& req) {
      return ask<container_update_result>(
        self,
        make_request("POST", d::update_container_target(req.id), timeout,
                     d::encode(req.spec)),
        [](const http::response& r) {
          return checked(d::decode_container_update_result(r.body));
        });
    },
    [self, timeout](container_logs_req& req) {
      auto rp = self->make_response_promise<uint64_t>();
      ++self->state.counters.requests_total;
      if (self->state.state == engine_state::down) {
        note_failure(self, unavailable(self));
        return rp.deliver(unavailable(self));
      }
      if (!req.listener) {
        auto err = caf::make_error(engine_errc::bad_request,
                                   "container_logs_req without a listener");
        note_failure(self, err);
        return rp.deliver(err);
      }
      // TTY containers send raw bytes, others multiplex stdout/stderr: the
      // container's config says which.
      exchange(
        self, rp,
        make_request("GET", d::inspect_container_target(req.id), timeout), {},
        [self, req](caf::typed_response_promise<uint64_t>& rp,
                    const http::response& r) {
          auto info = checked(d::decode_container_inspect(r.body));
          if (!info) {
            note_failure(self, info.error());
            rp.deliver(info.error());
            return;
          }
          start_logs(self, rp, req, info->config.tty);
        });
      return rp;
    },
    [self](container_logs_cancel& req) {
      auto& st = self->state;
      auto i = st.logs.find(req.stream_id);
      if (i == st.logs.end())
        return;
      auto l = std::move(i->second);
      st.logs.erase(i);
      cancel_stream(self, l.slot);
      auto err = caf::make_error(engine_errc::cancelled, "logs cancelled");
      if (l.rp.pending())
        l.rp.deliver(err);
      else
        self->send(l.listener,
                   log_stream_ended{req.stream_id, l.container_id, err});
    },
    // -- images
    [self, timeout](image_list_req& req) {
      return ask<image_list>(
        self, make_request("GET", d::list_images_target(req.filters), timeout),
        [](const http::response& r) {
          return checked(d::decode_image_list(r.body));
        });
    },
    [self, timeout](image_inspect_req& req) {
      return ask<image_inspect>(
        self, make_request("GET", d::inspect_image_target(req.name), timeout),
        [](const http::response& r) {
          return checked(d::decode_image_inspect(r.body));
        });
    },
    [self](image_pull_req& req) {
      auto rp = self->make_response_promise<void>();
      ++self->state.counters.requests_total;
      if (self->state.state == engine_state::down) {
        note_failure(self, unavailable(self));
        return rp.deliver(unavailable(self));
      }
      start_pull(self, rp, req);
      return rp;
    },
    [self, timeout](image_tag_req& req) {
      return act(
        self,
        make_request("POST", d::tag_image_target(req.name, req.tag), timeout));
    },
    [self, timeout](image_remove_req& req) {
      return ask<image_delete_result>(
        self,
        make_request("DELETE",
                     d::remove_image_target(req.name, req.force, req.no_prune),
                     timeout),
        [](const http::response& r) {
          return checked(d::decode_image_delete_result(r.body));
        });
    },
    // -- volumes
    [self, timeout](volume_list_req& req) {
      return ask<volume_list>(
        self, make_request("GET", d::list_volumes_target(req.filters), timeout),
        [](const http::response& r) {
          return checked(d::decode_volume_list(r.body));
        });
    },
    [self, timeout](volume_inspect_req& req) {
      return ask<volume_info>(
        self, make_request("GET", d::inspect_volume_target(req.name), timeout),
        [](const http::response& r) {
          return checked(d::decode_volume(r.body));
        });
    },
    [self, timeout](volume_create_req& req) {
      return ask<volume_info>(self,
                              make_request("POST", d::create_volume_target(),
                                           timeout, d::encode(req.spec)),
                              [](const http::response& r) {
                                return checked(d::decode_volume(r.body));
                              });
    },
    [self, timeout](volume_remove_req& req) {
      return act(self, make_request(
                         "DELETE", d::remove_volume_target(req.name, req.force),
                         timeout));
    },
    // -- networks
    [self, timeout](network_list_req& req) {
      return ask<network_infos>(
        self,
        make_request("GET", d::list_networks_target(req.filters), timeout),
        [](const http::response& r) {
          return checked(d::decode_network_list(r.body));
        });
    },
    [self, timeout](network_inspect_req& req) {
      return ask<network_info>(
        self, make_request("GET", d::inspect_network_target(req.id), timeout),
        [](const http::response& r) {
          return checked(d::decode_network(r.body));
        });
    },
    [self, timeout](network_create_req& req) {
      return ask<std::string>(
        self,
        make_request("POST", d::create_network_target(), timeout,
                     d::encode(req.spec)),
        [](const http::response& r) -> caf::expected<std::string> {
          auto res = checked(d::decode_network_create_result(r.body));
          if (!res)
            return res.error();
          return std::move(res->id);
        });
    },
    [self, timeout](network_connect_req& req) {
      return act(self,
                 make_request("POST", d::connect_network_target(req.network),
                              timeout, d::encode(req.spec)));
    },
    [self, timeout](network_disconnect_req& req) {
      return act(self,
                 make_request("POST", d::disconnect_network_target(req.network),
                              timeout, d::encode(req.spec)));
    },
    [self, timeout](network_remove_req& req) {
      return act(self, make_request("DELETE", d::remove_network_target(req.id),
                                    timeout));
    },
    // -- events, state, telemetry
    [self](engine_subscribe& req) {
      auto& st = self->state;
      auto known = std::any_of(
        st.subscribers.begin(), st.subscribers.end(),
        [&](const auto& s) { return s.address() == req.listener.address(); });
      if (req.listener && !known) {
        st.subscribers.push_back(req.listener);
        self->monitor(req.listener);
      }
      return engine_status{st.state, st.down_reason};
    },
    [self](engine_unsubscribe& req) {
      auto& subs = self->state.subscribers;
      subs.erase(std::remove_if(subs.begin(), subs.end(),
                                [&](const auto& s) {
                                  return s.address() == req.listener.address();
                                }),
                 subs.end());
    },
    [self](caf::get_atom) {
      auto& st = self->state;
      auto t = st.counters;
      t.state = st.state;
      t.requests_in_flight = st.calls.size() + st.pulls.size();
      t.subscribers = st.subscribers.size();
      t.log_streams = st.logs.size();
      t.pulls = st.pulls.size();
      return t;
    },
    // -- completions of our own I/O
    [self](io_reply& m) {
      auto& st = self->state;
      auto i = st.calls.find(m.id);
      if (i == st.calls.end())
        return; // already failed: the engine went down meanwhile
      auto done = std::move(i->second);
      st.calls.erase(i);
      if (m.result.err) {
        auto err = *m.result.err;
        done(logic::from_transport(err));
        if (logic::means_down(err))
          go_down(self, "request failed: " + err.message);
        return;
      }
      done(std::move(m.result.value));
    },
    [self](io_head& m) { on_stream_head(self, m); },
    [self](io_data& m) { on_stream_data(self, m); },
    [self](io_end& m) { on_stream_end(self, m); },
    [self](probe_due& m) {
      auto& st = self->state;
      if (st.state == engine_state::up || m.generation != st.probe_generation)
        return;
      if (st.events.id != 0) {
        // The watchdog of an /events attempt whose head never came.
        cancel_stream(self, st.events.slot);
        st.events = events_stream{};
        if (st.state == engine_state::starting)
          return go_down(self, "no answer to GET /events");
        ++st.probe_attempt;
      }
      ++st.counters.reconnect_attempts;
      auto gen = m.generation;
      asio::post(*st.io, [client = st.client, me = st.me, gen,
                          req
                          = make_request("GET", d::ping_target(),
                                         st.opts.request_timeout)]() mutable {
        client->send(std::move(req), [me, gen](http::result<http::response> r) {
          tell(me, probe_reply{gen, std::move(r)});
        });
      });
    },
    [self](probe_reply& m) {
      auto& st = self->state;
      if (st.state != engine_state::down || m.generation != st.probe_generation)
        return;
      if (m.result && m.result.value.status == 200) {
        open_events(self); // up once its head arrives
        return;
      }
      ++st.probe_attempt;
      schedule_probe(self);
    },
  };
}

} // namespace

engine_actor spawn_engine(caf::actor_system& sys, asio::io_context& io,
                          std::shared_ptr<http::client> client,
                          engine_options opts) {
  return sys.spawn(engine_impl, &io, std::move(client), std::move(opts));
}

engine_actor spawn_engine(caf::actor_system& sys, asio::io_context& io,
                          http::endpoint ep, engine_options opts) {
  auto client = http::client::make(io, std::move(ep), opts.client);
  return spawn_engine(sys, io, std::move(client), std::move(opts));
}

void add_engine_error_renderer(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::atom("engine"), [](uint8_t code, caf::atom_value,
                                                 const caf::message& ctx) {
    return render_engine_error(caf::error{code, caf::atom("engine"), ctx});
  });
}

} // namespace bosun
