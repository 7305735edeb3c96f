#include "actors/logs/shipper.hpp"

#include "actors/logs/log_logic.hpp"
#include "actors/telemetry/counters.hpp"
#include "api/logs/gzip.hpp"
#include "api/logs/log_json.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace bosun::shipper_detail {

// Events of connection number `gen` (older connections' are stale).
struct upload_opened {
  uint64_t gen;
};
struct upload_written {
  uint64_t gen;
  size_t bytes;
};
struct upload_closed {
  uint64_t gen;
  std::optional<std::string> error;
};
// Timers.
struct flush_due {};
struct idle_due {};
struct reconnect_due {
  uint64_t gen;
};

} // namespace bosun::shipper_detail

BOSUN_MESSAGE(bosun::shipper_detail::upload_opened)
BOSUN_MESSAGE(bosun::shipper_detail::upload_written)
BOSUN_MESSAGE(bosun::shipper_detail::upload_closed)
BOSUN_MESSAGE(bosun::shipper_detail::flush_due)
BOSUN_MESSAGE(bosun::shipper_detail::idle_due)
BOSUN_MESSAGE(bosun::shipper_detail::reconnect_due)

namespace bosun {
namespace {

using namespace shipper_detail;
using clock_type = caf::actor_clock::clock_type;

using impl_actor = log_shipper_actor::extend<
  caf::reacts_to<upload_opened>, caf::reacts_to<upload_written>,
  caf::reacts_to<upload_closed>, caf::reacts_to<flush_due>,
  caf::reacts_to<idle_due>, caf::reacts_to<reconnect_due>>;

enum class phase {
  idle,       // no connection; a pull is out, the first batch connects
  connecting, // connection (and grace period) under way
  open,       // lines flow
  finishing,  // idle: the stream is being ended cleanly
  backoff,    // waiting to reconnect after a failure
};

const char* to_string(phase p) {
  switch (p) {
    case phase::idle:
      return "idle";
    case phase::connecting:
      return "connecting";
    case phase::open:
      return "open";
    case phase::finishing:
      return "finishing";
    case phase::backoff:
      return "backoff";
  }
  return "?";
}

struct shipper_state {
  static inline const char* name = "log_shipper";

  logs_actor logs;
  shipper_options opts;
  caf::weak_actor_ptr me;
  phase ph = phase::idle;
  uint64_t gen = 0;
  std::unique_ptr<log_upload::connection> conn;
  std::unique_ptr<log_json::gzip_stream> gz;
  std::string ndjson;                 // reused encoding buffer
  std::string outbox;                 // compressed, not yet handed over
  std::vector<log_entry_ptr> pending; // taken while not connected
  // Resume points of the lines compressed since the last write (db keys).
  std::map<std::string, std::string> unsaved;
  bool writing = false;
  bool pulled = false;    // a log_pull is out
  bool unflushed = false; // written into gzip since the last sync flush
  bool flush_armed = false;
  bool idle_armed = false;
  clock_type::time_point last_line{};
  uint32_t failures = 0;
  log_cloud_stats stats;

  shipper_state() = default;
  shipper_state(const shipper_state&) = delete;
  shipper_state& operator=(const shipper_state&) = delete;
  ~shipper_state() {
    if (conn)
      conn->close();
  }
};

using self_ptr = impl_actor::stateful_pointer<shipper_state>;

template <class Msg>
void tell(const caf::weak_actor_ptr& me, Msg&& msg) {
  if (auto p = me.lock())
    caf::anon_send(caf::actor_cast<impl_actor>(p), std::forward<Msg>(msg));
}

bool can_take(self_ptr self) {
  auto& st = self->state;
  switch (st.ph) {
    case phase::idle:
      return st.pending.empty();
    case phase::open:
      return st.outbox.size() < st.opts.outbox_limit && st.pending.empty();
    default:
      return false;
  }
}

void pull(self_ptr self) {
  auto& st = self->state;
  if (st.pulled || !can_take(self))
    return;
  st.pulled = true;
  // Urgent: a pull must not wait behind the lines queued in the logs
  // actor's mailbox, or the cloud queue overflows while it waits.
  self->send<caf::message_priority::high>(
    st.logs, log_pull{caf::actor_cast<log_reader_actor>(self)});
}

void write_next(self_ptr self) {
  auto& st = self->state;
  if (st.ph != phase::open || st.writing || st.outbox.empty())
    return;
  st.writing = true;
  auto data = std::move(st.outbox);
  st.outbox.clear();
  st.conn->write(std::move(data));
}

void arm_flush(self_ptr self) {
  auto& st = self->state;
  if (st.flush_armed)
    return;
  st.flush_armed = true;
  self->delayed_send(self, st.opts.flush_interval, flush_due{});
}

// A flush is due: queue the resume points of what is about to become
// visible in the db (requests are handled in order, so they are stored even
// if the agent stops right after the cloud got the lines), then sync-flush
// and write everything compressed. One write per flush interval at most.
void cycle(self_ptr self) {
  auto& st = self->state;
  if (st.ph != phase::open || st.writing
      || (st.outbox.empty() && !st.unflushed))
    return;
  if (!st.unsaved.empty() && st.opts.db) {
    self
      ->request(st.opts.db, std::chrono::seconds(10), caf::put_atom_v,
                config_kv_atom_v, std::move(st.unsaved))
      .then([] {},
            [self](const caf::error& e) {
              self->state.stats.last_error
                = "cannot store resume points: " + self->system().render(e);
            });
  }
  st.unsaved.clear();
  if (st.unflushed) {
    st.gz->flush(st.outbox);
    st.unflushed = false;
  }
  write_next(self);
  pull(self); // the outbox is empty again
}

void arm_idle(self_ptr self, caf::timespan after) {
  auto& st = self->state;
  if (st.idle_armed)
    return;
  st.idle_armed = true;
  self->delayed_send(self, after, idle_due{});
}

// Lines into the gzip stream; its output into the outbox.
void compress(self_ptr self, const std::vector<log_entry_ptr>& entries) {
  auto& st = self->state;
  if (entries.empty())
    return;
  st.ndjson.clear();
  for (auto& e : entries)
    log_json::append_cloud_line(*e, st.ndjson);
  st.gz->write(st.ndjson, st.outbox);
  st.stats.lines += entries.size();
  st.stats.bytes_raw += st.ndjson.size();
  st.unflushed = true;
  st.last_line = self->clock().now();
  arm_flush(self);
}

void connect(self_ptr self) {
  auto& st = self->state;
  st.ph = phase::connecting;
  auto gen = ++st.gen;
  ++st.stats.connects;
  st.gz->reset();
  st.outbox.clear();
  st.writing = false;
  st.unflushed = false;
  log_upload::events ev;
  auto me = st.me;
  ev.opened = [me, gen] { tell(me, upload_opened{gen}); };
  ev.written = [me, gen](size_t n) { tell(me, upload_written{gen, n}); };
  ev.closed = [me, gen](std::optional<std::string> e) {
    tell(me, upload_closed{gen, std::move(e)});
  };
  st.conn = st.opts.connect(std::move(ev));
}

void fail(self_ptr self, std::string why) {
  auto& st = self->state;
  if (st.conn)
    st.conn->close();
  st.conn.reset();
  ++st.failures;
  ++st.stats.failures;
  st.stats.last_error = std::move(why);
  // What was compressed but not written is lost with the stream.
  st.outbox.clear();
  st.writing = false;
  st.ph = phase::backoff;
  auto delay = log_logic::reconnect_delay(st.failures);
  st.stats.backoff_ms = delay.count();
  self->delayed_send(self, delay, reconnect_due{st.gen});
}

// No stream: lines taken meanwhile open the next one at once; else idle,
// pulling (idle with lines pending it would pull no more).
void next_stream(self_ptr self) {
  auto& st = self->state;
  if (!st.pending.empty()) {
    connect(self);
    return;
  }
  st.ph = phase::idle;
  pull(self);
}

} // namespace

impl_actor::behavior_type shipper_impl(self_ptr self, logs_actor logs,
                                       shipper_options opts) {
  auto& st = self->state;
  st.logs = std::move(logs);
  st.opts = std::move(opts);
  st.gz = std::make_unique<log_json::gzip_stream>(st.opts.gzip_level);
  st.me = caf::weak_actor_ptr{self->ctrl()};
  // The logs actor's child: it goes when the logs actor goes.
  self->monitor(st.logs);
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.logs.address())
      self->quit(caf::exit_reason::user_shutdown);
  });
  pull(self);
  return telemetry::instrument(
    self, {"log_shipper", [self] { return self->state.stats.last_error; }, {}},
    [self](log_batch& b) {
      auto& st = self->state;
      st.pulled = false;
      for (auto& [k, v] : b.resume)
        st.unsaved[k] = std::move(v);
      if (st.ph == phase::open) {
        compress(self, b.entries);
        arm_idle(self, st.opts.idle_close);
        pull(self);
        return;
      }
      for (auto& e : b.entries)
        st.pending.push_back(std::move(e));
      if (st.ph == phase::idle && !st.pending.empty())
        connect(self);
    },
    [self](upload_opened& ev) {
      auto& st = self->state;
      if (ev.gen != st.gen || st.ph != phase::connecting)
        return;
      st.ph = phase::open;
      auto pending = std::move(st.pending);
      st.pending.clear();
      compress(self, pending);
      st.last_line = self->clock().now();
      arm_idle(self, st.opts.idle_close);
      pull(self);
    },
    [self](upload_written& ev) {
      auto& st = self->state;
      if (ev.gen != st.gen || st.ph != phase::open)
        return;
      st.writing = false;
      st.failures = 0;
      st.stats.bytes_sent += ev.bytes;
      if (!st.outbox.empty() || st.unflushed)
        arm_flush(self);
      pull(self);
    },
    [self](upload_closed& ev) {
      auto& st = self->state;
      if (ev.gen != st.gen)
        return;
      if (st.ph == phase::finishing && !ev.error) {
        st.conn.reset();
        // Lines may have come while it ended (a pull was out).
        next_stream(self);
        return;
      }
      if (st.ph == phase::connecting || st.ph == phase::open
          || st.ph == phase::finishing)
        fail(self, ev.error.value_or("the log stream ended"));
    },
    [self](flush_due) {
      auto& st = self->state;
      st.flush_armed = false;
      cycle(self);
    },
    [self](idle_due) {
      auto& st = self->state;
      st.idle_armed = false;
      if (st.ph != phase::open)
        return;
      auto quiet = self->clock().now() - st.last_line;
      if (quiet < st.opts.idle_close) {
        arm_idle(self, st.opts.idle_close - quiet);
        return;
      }
      if (st.writing || !st.outbox.empty() || st.unflushed) {
        arm_idle(self, st.opts.flush_interval);
        return;
      }
      // No line for a while: end the stream; the next line reopens it.
      std::string tail;
      st.gz->finish(tail);
      st.ph = phase::finishing;
      st.conn->finish(std::move(tail));
    },
    [self](reconnect_due& ev) {
      auto& st = self->state;
      if (ev.gen != st.gen || st.ph != phase::backoff)
        return;
      next_stream(self);
    },
    [self](caf::get_atom) {
      auto& st = self->state;
      auto out = st.stats;
      out.state = to_string(st.ph);
      return out;
    });
}

log_shipper_actor spawn_log_shipper(caf::actor_system& sys, logs_actor logs,
                                    shipper_options opts) {
  return caf::actor_cast<log_shipper_actor>(
    sys.spawn(shipper_impl, std::move(logs), std::move(opts)));
}

} // namespace bosun
