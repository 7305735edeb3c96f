// The engine actor's connection: I/O posting, the /events stream, up/down
// with reconnect probing, and the log and pull streams. Over 600 lines:
// all of them share the connection's state (one link per engine); the
// decoding is in api/docker and engine_streams.
#include "actors/engine/engine_impl.hpp"
#include "api/docker/codec.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

namespace bosun::engine_detail {

namespace logic = engine_logic;

namespace {

// Passes what the reads so far brought to the actor, as one message.
void flush(const caf::weak_actor_ptr& me, uint64_t id, stream_slot& slot) {
  slot.flush_posted = false;
  if (slot.pending.empty())
    return;
  tell(me, io_data{id, std::move(slot.pending)});
  slot.pending.clear();
}

// Starts a stream on the io thread. Body pieces are gathered there and
// passed on once per read (a chunked response brings one piece per chunk,
// often one per log line); with a window (log streams), reading pauses while
// that many bytes are passed on and not yet acknowledged (return_credit).
std::shared_ptr<stream_slot> post_stream(self_ptr self, uint64_t id,
                                         http::request req,
                                         uint64_t window = 0) {
  auto& st = self->state;
  auto slot = std::make_shared<stream_slot>();
  slot->window = window;
  asio::post(*st.io, [io = st.io, client = st.client, me = st.me, id, slot,
                      req = std::move(req)]() mutable {
    if (slot->cancelled)
      return;
    http::stream_callbacks cbs;
    cbs.on_head = [me, id](int status, const http::header_list&) {
      tell(me, io_head{id, status});
    };
    cbs.on_data = [io, me, id, slot](std::string_view piece) {
      auto& s = *slot;
      s.pending.append(piece);
      if (s.window != 0) {
        s.unacked += piece.size();
        if (!s.paused && s.unacked >= s.window) {
          s.paused = true;
          s.handle.pause(); // on the io thread: no read after this one
        }
      }
      if (!s.flush_posted) {
        s.flush_posted = true; // runs once the current read is parsed
        asio::post(*io, [me, id, slot] { flush(me, id, *slot); });
      }
    };
    cbs.on_end = [me, id, slot](std::optional<http::error> err) {
      flush(me, id, *slot);
      tell(me, io_end{id, std::move(err)});
    };
    slot->handle = client->stream(std::move(req), std::move(cbs));
  });
  return slot;
}

// `bytes` of a flow-controlled stream need no more room: read on when at
// most half the window is in flight.
void return_credit(asio::io_context& io, const log_stream& l, uint64_t bytes) {
  if (l.window == 0 || bytes == 0 || !l.slot)
    return;
  asio::post(io, [slot = l.slot, bytes] {
    auto& s = *slot;
    s.unacked -= std::min(s.unacked, bytes);
    if (s.paused && !s.cancelled && s.unacked <= s.window / 2) {
      s.paused = false;
      s.handle.resume();
    }
  });
}

void cancel_slot(asio::io_context& io, std::shared_ptr<stream_slot> slot) {
  if (!slot)
    return;
  asio::post(io, [slot] {
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

void go_down(self_ptr self, std::string reason);

// After `delay`, tells the actor `msg` (an Asio timer rather than
// delayed_send: a pending CAF timer would hold a strong reference and keep an
// unreferenced engine actor alive).
template <class Msg>
void tell_later(self_ptr self, std::chrono::milliseconds delay, Msg msg) {
  auto& st = self->state;
  asio::post(*st.io, [io = st.io, me = st.me, delay, msg = std::move(msg)] {
    auto timer = std::make_shared<asio::steady_timer>(*io, delay);
    timer->async_wait([timer, me, msg](const std::error_code& ec) {
      if (!ec)
        tell(me, msg);
    });
  });
}

// Pings the engine while up; the answer comes back as liveness_reply.
void ping_liveness(self_ptr self, uint64_t events_id, std::string reason) {
  auto& st = self->state;
  asio::post(*st.io, [client = st.client, me = st.me, events_id,
                      reason = std::move(reason),
                      req = make_request("GET", docker::ping_target(),
                                         st.opts.request_timeout)]() mutable {
    client->send(std::move(req), [me, events_id, reason = std::move(reason)](
                                   http::result<http::response> r) mutable {
      tell(me, liveness_reply{events_id, std::move(reason), std::move(r)});
    });
  });
}

// A transport failure of a request or stream: `refused` means the engine is
// gone; after `closed` (the engine, or something between, dropped one
// connection) a ping decides, so that one dropped connection of an engine
// that still answers does not take everything down.
void lost_connection(self_ptr self, const http::error& err,
                     const std::string& what) {
  auto& st = self->state;
  if (!logic::means_down(err))
    return;
  if (err.code != http::errc::closed)
    return go_down(self, what + ": " + err.message);
  if (st.state != engine_state::up || st.closed_check_out)
    return;
  st.closed_check_out = true;
  ping_liveness(self, 0, what + ": " + err.message);
}

// Arms the probe timer: after the backoff delay, or after `delay` when given.
// Arming again makes older timers stale.
void schedule_probe(self_ptr self,
                    std::optional<std::chrono::milliseconds> delay = {}) {
  auto& st = self->state;
  auto gen = ++st.probe_generation;
  if (!delay)
    delay = logic::backoff_delay(st.probe_attempt, st.opts.backoff_initial,
                                 st.opts.backoff_max);
  tell_later(self, *delay, probe_due{gen});
}

void go_down(self_ptr self, std::string reason) {
  auto& st = self->state;
  if (st.state == engine_state::down)
    return;
  st.state = engine_state::down;
  st.down_reason = std::move(reason);
  publish(self, engine_status{engine_state::down, st.down_reason});
  if (st.events.id != 0) {
    cancel_slot(*st.io, st.events.slot);
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
    cancel_slot(*st.io, p.slot);
    fail(self, p.rp, err);
  }
  auto logs = std::move(st.logs);
  st.logs.clear();
  for (auto& [id, l] : logs) {
    cancel_slot(*st.io, l.slot);
    if (l.rp.pending())
      fail(self, l.rp, err);
    else
      self->send(l.listener, log_stream_ended{id, l.container_id, err});
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

void events_ended(self_ptr self, std::string reason) {
  auto& st = self->state;
  if (st.events.id != 0)
    cancel_slot(*st.io, st.events.slot);
  st.events = events_stream{};
  if (st.state == engine_state::down) {
    // The ping answered but /events did not: keep probing.
    ++st.probe_attempt;
    schedule_probe(self);
    return;
  }
  go_down(self, std::move(reason));
}

void events_data(self_ptr self, std::string_view piece) {
  auto& st = self->state;
  auto& ev = st.events;
  if (ev.status != 200)
    return keep_error_body(ev.error_body, piece);
  ev.bytes_since_check = true;
  auto events = ev.reader.feed(piece);
  st.last_event_nano = std::max(st.last_event_nano, ev.reader.last_time_nano());
  st.counters.events_seen += events.size();
  for (auto& e : events)
    for (auto& sub : st.subscribers)
      self->send(sub, e);
  if (ev.reader.error())
    events_ended(self, "events stream unreadable: " + *ev.reader.error());
}

// One batch to the listener; `bytes` of the stream produced it (the
// listener acknowledges them; a piece that completed no line is
// acknowledged here).
void send_lines(self_ptr self, uint64_t id, const log_stream& l,
                std::vector<engine_streams::assembled_line>&& lines,
                uint64_t bytes) {
  if (lines.empty())
    return return_credit(*self->state.io, l, bytes);
  self->send(l.listener,
             log_lines{id, l.container_id, std::move(lines), bytes});
}

void send_progress(self_ptr self, const pull_stream& p,
                   std::vector<pull_progress>&& items) {
  if (!p.listener)
    return;
  for (auto& item : items)
    self->send(p.listener, image_pull_event{p.image, std::move(item)});
}

void logs_ended(self_ptr self, uint64_t id, const std::optional<http::error>& e,
                log_stream& l) {
  caf::error err;
  if (e)
    err = logic::from_transport(*e);
  else if (l.status != 200)
    err = logic::from_status(l.status, l.error_body);
  if (l.rp.pending()) { // never got a 200 head
    if (!err)
      err = caf::make_error(engine_errc::protocol, "logs ended before a head");
    return fail(self, l.rp, err);
  }
  std::vector<engine_streams::assembled_line> rest;
  auto whole = l.lines.finish(rest);
  send_lines(self, id, l, std::move(rest), 0);
  if (!err && !whole)
    err = caf::make_error(engine_errc::protocol,
                          l.lines.error().value_or("bad log framing"));
  self->send(l.listener, log_stream_ended{id, l.container_id, err});
}

void pull_ended(self_ptr self, const std::optional<http::error>& e,
                pull_stream& p) {
  if (p.status == 200)
    send_progress(self, p, p.reader.finish());
  caf::error err;
  if (p.reader.failure())
    err = caf::make_error(engine_errc::stream_error, *p.reader.failure());
  else if (e)
    err = logic::from_transport(*e);
  else if (p.status != 200)
    err = logic::from_status(p.status, p.error_body);
  else if (p.reader.error())
    err = caf::make_error(engine_errc::protocol, *p.reader.error());
  if (err)
    fail(self, p.rp, err);
  else
    deliver_void(p.rp);
}

} // namespace

engine_actor_state::~engine_actor_state() {
  // Streams are the only I/O that would run on without us.
  if (io == nullptr)
    return;
  if (events.slot)
    cancel_slot(*io, events.slot);
  for (auto& [id, s] : logs)
    cancel_slot(*io, s.slot);
  for (auto& [id, p] : pulls)
    cancel_slot(*io, p.slot);
}

http::request make_request(std::string method, std::string target,
                           std::chrono::milliseconds timeout,
                           std::string body) {
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

void post_send(self_ptr self, uint64_t id, http::request req) {
  auto& st = self->state;
  asio::post(*st.io, [client = st.client, me = st.me, id,
                      req = std::move(req)]() mutable {
    client->send(std::move(req), [me, id](http::result<http::response> r) {
      tell(me, io_reply{id, std::move(r)});
    });
  });
}

void note_failure(self_ptr self, const caf::error& err) {
  ++self->state.counters.requests_failed;
  self->state.counters.last_error = render_engine_error(err);
}

caf::error unavailable(self_ptr self) {
  return caf::make_error(engine_errc::unavailable,
                         "engine down: " + self->state.down_reason);
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
  // Hence a watchdog: if the head has not come when this fires, the attempt
  // counts as failed (see on_probe_due).
  schedule_probe(self, st.opts.request_timeout);
}

void start_logs(self_ptr self, caf::typed_response_promise<uint64_t> rp,
                const container_logs_req& req, bool tty) {
  auto& st = self->state;
  if (st.state == engine_state::down)
    return fail(self, rp, unavailable(self));
  auto id = st.next_id++;
  auto timeout = req.options.follow ? std::chrono::milliseconds{0}
                                    : st.opts.request_timeout;
  auto slot = post_stream(
    self, id,
    make_request("GET", docker::logs_target(req.id, req.options), timeout),
    req.window);
  st.logs.emplace(
    id, log_stream{req.id,
                   req.listener,
                   engine_streams::log_assembler{tty, req.options.timestamps},
                   std::move(rp),
                   0,
                   {},
                   std::move(slot),
                   req.window});
  self->monitor(req.listener);
}

void start_pull(self_ptr self, caf::typed_response_promise<void> rp,
                image_pull_req& req) {
  auto& st = self->state;
  auto id = st.next_id++;
  auto image = req.pull.from_image;
  if (!req.pull.tag.empty())
    image += ":" + req.pull.tag;
  auto hr = make_request("POST", docker::pull_image_target(req.pull),
                         st.opts.pull_idle_timeout);
  if (req.pull.auth)
    hr.headers.emplace_back("X-Registry-Auth",
                            docker::registry_auth_header(*req.pull.auth));
  auto slot = post_stream(self, id, std::move(hr));
  st.pulls.emplace(id, pull_stream{std::move(image),
                                   std::move(req.listener),
                                   {},
                                   std::move(rp),
                                   0,
                                   {},
                                   std::move(slot)});
}

void cancel_logs(self_ptr self, uint64_t stream_id) {
  auto& st = self->state;
  auto i = st.logs.find(stream_id);
  if (i == st.logs.end())
    return;
  auto l = std::move(i->second);
  st.logs.erase(i);
  cancel_slot(*st.io, l.slot);
  auto err = caf::make_error(engine_errc::cancelled, "logs cancelled");
  if (l.rp.pending())
    l.rp.deliver(err);
  else
    self->send(l.listener, log_stream_ended{stream_id, l.container_id, err});
}

void on_log_ack(self_ptr self, const log_ack& m) {
  auto& st = self->state;
  if (auto i = st.logs.find(m.stream_id); i != st.logs.end())
    return_credit(*st.io, i->second, m.bytes);
}

engine_status subscribe(self_ptr self, const engine_listener_actor& l) {
  auto& st = self->state;
  auto known
    = std::any_of(st.subscribers.begin(), st.subscribers.end(),
                  [&](const auto& s) { return s.address() == l.address(); });
  if (l && !known) {
    st.subscribers.push_back(l);
    self->monitor(l);
  }
  return engine_status{st.state, st.down_reason};
}

void unsubscribe(self_ptr self, const caf::actor_addr& who) {
  auto& subs = self->state.subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const auto& s) { return s.address() == who; }),
             subs.end());
}

void drop_listener(self_ptr self, const caf::actor_addr& who) {
  auto& st = self->state;
  unsubscribe(self, who);
  for (auto i = st.logs.begin(); i != st.logs.end();) {
    if (i->second.listener.address() == who) {
      cancel_slot(*st.io, i->second.slot);
      if (i->second.rp.pending())
        i->second.rp.deliver(
          caf::make_error(engine_errc::cancelled, "log listener is gone"));
      i = st.logs.erase(i);
    } else {
      ++i;
    }
  }
}

engine_telemetry telemetry(self_ptr self) {
  auto& st = self->state;
  auto t = st.counters;
  t.state = st.state;
  t.requests_in_flight = st.calls.size() + st.pulls.size();
  t.subscribers = st.subscribers.size();
  t.log_streams = st.logs.size();
  t.pulls = st.pulls.size();
  return t;
}

void on_io_reply(self_ptr self, io_reply& m) {
  auto& st = self->state;
  auto i = st.calls.find(m.id);
  if (i == st.calls.end())
    return; // already failed: the engine went down meanwhile
  auto done = std::move(i->second);
  st.calls.erase(i);
  if (m.result.err) {
    auto err = *m.result.err;
    done(logic::from_transport(err));
    return lost_connection(self, err, "request failed");
  }
  done(std::move(m.result.value));
}

void on_stream_head(self_ptr self, const io_head& m) {
  auto& st = self->state;
  if (m.id == st.events.id) {
    st.events.status = m.status;
    if (m.status == 200) {
      mark_up(self);
      tell_later(self, st.opts.events_idle_ping, liveness_due{m.id});
    }
  } else if (auto i = st.logs.find(m.id); i != st.logs.end()) {
    i->second.status = m.status;
    if (m.status == 200)
      i->second.rp.deliver(m.id);
  } else if (auto j = st.pulls.find(m.id); j != st.pulls.end()) {
    j->second.status = m.status;
  }
}

void on_stream_data(self_ptr self, io_data& m) {
  auto& st = self->state;
  if (m.id == st.events.id)
    return events_data(self, m.piece);
  if (auto i = st.logs.find(m.id); i != st.logs.end()) {
    auto& l = i->second;
    uint64_t bytes = m.piece.size();
    if (l.status != 200) {
      keep_error_body(l.error_body, m.piece);
      return return_credit(*st.io, l, bytes);
    }
    return send_lines(self, m.id, l, l.lines.feed(m.piece), bytes);
  }
  if (auto i = st.pulls.find(m.id); i != st.pulls.end()) {
    auto& p = i->second;
    if (p.status != 200)
      return keep_error_body(p.error_body, m.piece);
    send_progress(self, p, p.reader.feed(m.piece));
  }
}

void on_stream_end(self_ptr self, io_end& m) {
  auto& st = self->state;
  if (m.id == st.events.id) {
    std::string reason;
    if (m.err)
      reason = "events stream failed: " + m.err->message;
    else if (st.events.status != 200)
      reason = "events stream refused: "
               + render_engine_error(
                 logic::from_status(st.events.status, st.events.error_body));
    else
      reason = "events stream ended";
    return events_ended(self, std::move(reason));
  }
  if (auto i = st.logs.find(m.id); i != st.logs.end()) {
    auto l = std::move(i->second);
    st.logs.erase(i);
    logs_ended(self, m.id, m.err, l);
  } else if (auto j = st.pulls.find(m.id); j != st.pulls.end()) {
    auto p = std::move(j->second);
    st.pulls.erase(j);
    pull_ended(self, m.err, p);
  } else {
    return; // cancelled or failed already
  }
  if (m.err)
    lost_connection(self, *m.err, "stream failed");
}

void on_probe_due(self_ptr self, const probe_due& m) {
  auto& st = self->state;
  if (st.state == engine_state::up || m.generation != st.probe_generation)
    return;
  if (st.events.id != 0) {
    // The watchdog of an /events attempt whose head never came.
    cancel_slot(*st.io, st.events.slot);
    st.events = events_stream{};
    if (st.state == engine_state::starting)
      return go_down(self, "no answer to GET /events");
    ++st.probe_attempt;
  }
  ++st.counters.reconnect_attempts;
  auto gen = m.generation;
  asio::post(*st.io, [client = st.client, me = st.me, gen,
                      req = make_request("GET", docker::ping_target(),
                                         st.opts.request_timeout)]() mutable {
    client->send(std::move(req), [me, gen](http::result<http::response> r) {
      tell(me, probe_reply{gen, std::move(r)});
    });
  });
}

void on_probe_reply(self_ptr self, const probe_reply& m) {
  auto& st = self->state;
  if (st.state != engine_state::down || m.generation != st.probe_generation)
    return;
  if (m.result && m.result.value.status == 200)
    return open_events(self); // up once its head arrives
  ++st.probe_attempt;
  schedule_probe(self);
}

void on_liveness_due(self_ptr self, const liveness_due& m) {
  auto& st = self->state;
  auto& ev = st.events;
  if (st.state != engine_state::up || m.events_id != ev.id)
    return; // that stream is gone
  if (ev.bytes_since_check) {
    ev.bytes_since_check = false;
    return tell_later(self, st.opts.events_idle_ping, m);
  }
  auto idle = std::chrono::duration_cast<std::chrono::seconds>(
    st.opts.events_idle_ping);
  ping_liveness(self, ev.id,
                "events stream hung: no bytes for "
                  + std::to_string(std::max<int64_t>(1, idle.count()))
                  + " s and no answer to a ping");
}

void on_liveness_reply(self_ptr self, liveness_reply& m) {
  auto& st = self->state;
  if (m.events_id == 0)
    st.closed_check_out = false;
  else if (m.events_id != st.events.id)
    return; // that stream is gone
  if (st.state != engine_state::up)
    return;
  if (m.result && m.result.value.status == 200) {
    if (m.events_id != 0)
      tell_later(self, st.opts.events_idle_ping, liveness_due{m.events_id});
    return;
  }
  auto why = m.result.err ? m.result.err->message
                          : "status " + std::to_string(m.result.value.status);
  auto reason = m.reason + " (" + why + ")";
  if (m.events_id != 0)
    return events_ended(self, std::move(reason));
  go_down(self, std::move(reason));
}

} // namespace bosun::engine_detail
