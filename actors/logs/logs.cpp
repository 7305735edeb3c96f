// The logs actor. Over 600 lines: one actor with five duties that share its
// per-container state (log stream readers, resume points persisted through
// db, the persistent log file, the cloud shipper's feed, history reads);
// the pure parts are apart (log_logic, log_file, shipper, history_worker).
#include "actors/logs/logs.hpp"

#include "actors/logs/history_worker.hpp"
#include "actors/logs/log_file.hpp"
#include "actors/logs/log_logic.hpp"
#include "actors/telemetry/counters.hpp"

#include <algorithm>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <cstring>
#include <map>
#include <set>
#include <vector>

namespace bosun::logs_detail {

// Timers.
struct persist_due {};
struct file_flush_due {};
struct respawn_due {
  uint64_t generation; // of the shipping setting it was armed for
};

} // namespace bosun::logs_detail

BOSUN_MESSAGE(bosun::logs_detail::persist_due)
BOSUN_MESSAGE(bosun::logs_detail::file_flush_due)
BOSUN_MESSAGE(bosun::logs_detail::respawn_due)

namespace bosun {
namespace {

using namespace logs_detail;
using namespace std::chrono_literals;
namespace logic = log_logic;

constexpr const char* key_prefix = "logs.last.";
constexpr const char* sent_prefix = "logs.sent.";
constexpr const char* supervised_label = "io.balena.supervised";
// History reads running at once (each a worker and its thread).
constexpr int max_history_reads = 2;

// The public interface, plus what the engine sends and our timers.
using impl_actor = logs_actor::extend<
  caf::reacts_to<log_lines>, caf::reacts_to<log_stream_ended>,
  caf::reacts_to<engine_event>, caf::reacts_to<engine_status>,
  caf::reacts_to<persist_due>, caf::reacts_to<file_flush_due>,
  caf::reacts_to<respawn_due>>;

struct container_rec {
  std::string id;
  uint32_t source = 0; // its number in the queues
  std::optional<int64_t> service_id;
  std::string service_name;
  int64_t app_id = 0;
  uint64_t stream = 0;    // the open log stream; 0: none
  bool attaching = false; // a container_logs_req is out
  bool again = false;     // it started again while attached: re-attach
  logic::resume_filter filter;
  // Lines up to here need no re-reading: they were dropped, or nothing
  // ships them. Stored as "logs.last.<id>"; the shipper stores what it
  // wrote as "logs.sent.<id>"; a restart reads on from the later of both.
  logic::resume_point done;
  logic::resume_point stored; // what the db holds of `done`
  // The persistent log's own reading: it starts from the log's mark
  // "<id>" (lines up to it are in the files), so a line read again for the
  // cloud after a restart is not written twice.
  logic::resume_filter file_filter;
  logic::resume_point filed; // the mark last set
};

struct reader_rec {
  log_reader_actor handle;
  logic::log_queue queue;
  std::string name;
  bool wants = false;
  uint64_t delivered = 0;
};

struct logs_state {
  static inline const char* name = "logs";

  engine_actor engine;
  db_actor db;
  logs_options opts;

  bool ready = false; // resume points loaded, subscribed to the engine
  bool engine_up = false;
  bool cleaned = false; // stale resume keys removed (after the first list)
  std::map<std::string, logic::resume_point> loaded; // from the db
  std::map<std::string, container_rec> containers;
  std::map<uint32_t, std::string> sources;
  uint32_t next_source = 1;

  std::vector<reader_rec> readers;
  uint64_t next_reader = 1;

  log_shipping shipping;
  uint64_t shipping_gen = 0;
  log_shipper_actor shipper;
  reader_rec cloud{{}, logic::log_queue{0}, "cloud", false, 0};

  std::set<std::string> dirty; // containers whose `done` is not stored
  bool persist_busy = false;   // a db write is out
  bool persist_armed = false;

  std::unique_ptr<persistent_log> file; // when persistent logging is on
  bool file_armed = false;
  history_slots history{max_history_reads};

  logs_telemetry counters;
};

using self_ptr = impl_actor::stateful_pointer<logs_state>;

int64_t now_ms(self_ptr self) {
  if (self->state.opts.now_ms)
    return self->state.opts.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

const logger& log(self_ptr self) {
  return *self->state.opts.log;
}

std::optional<int64_t> to_id(const std::string& s) {
  if (s.empty() || s.size() > 18
      || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoll(s);
}

// ------------------------------------------------------------ persistence --

void persist(self_ptr self);

void arm_persist(self_ptr self) {
  auto& st = self->state;
  if (st.persist_armed)
    return;
  st.persist_armed = true;
  self->delayed_send(self, st.opts.persist_interval, persist_due{});
}

// Writes every changed resume point in one transaction: at once after a
// quiet spell, then at most every persist_interval, one write at a time.
void persist(self_ptr self) {
  auto& st = self->state;
  if (st.persist_busy || st.persist_armed)
    return; // the reply or the timer comes back here
  std::map<std::string, std::string> kv;
  for (auto& id : st.dirty) {
    auto i = st.containers.find(id);
    if (i != st.containers.end() && i->second.done != i->second.stored)
      kv.emplace(key_prefix + id, logic::to_string(i->second.done));
  }
  st.dirty.clear();
  if (kv.empty() || !st.db)
    return;
  st.persist_busy = true;
  self->request(st.db, 10s, caf::put_atom_v, config_kv_atom_v, kv)
    .then(
      [self, kv] {
        auto& st = self->state;
        st.persist_busy = false;
        for (auto& [key, value] : kv) {
          auto i = st.containers.find(key.substr(std::strlen(key_prefix)));
          auto p = logic::parse_resume_point(value);
          if (p && i != st.containers.end() && i->second.stored < *p)
            i->second.stored = *p;
        }
        arm_persist(self);
      },
      [self, kv](const caf::error& e) {
        auto& st = self->state;
        st.persist_busy = false;
        log(self).warn("logs", "cannot store resume points: {}",
                       self->system().render(e));
        for (auto& [key, value] : kv)
          st.dirty.insert(key.substr(std::strlen(key_prefix)));
        arm_persist(self);
      });
}

void mark_done(self_ptr self, container_rec& c, const logic::resume_point& p) {
  if (!(c.done < p))
    return;
  c.done = p;
  auto& st = self->state;
  st.dirty.insert(c.id);
  persist(self);
}

void forget_key(self_ptr self, const std::string& id) {
  auto& st = self->state;
  if (!st.db)
    return;
  for (auto* prefix : {key_prefix, sent_prefix})
    self->request(st.db, 10s, caf::delete_atom_v, config_kv_atom_v, prefix + id)
      .then([] {}, [](const caf::error&) {});
}

// --------------------------------------------------------- persistent log --

void flush_file(self_ptr self) {
  auto& st = self->state;
  if (!st.file)
    return;
  if (auto change = st.file->flush()) {
    if (change->empty())
      log(self).info("logs", "the persistent log is written again");
    else
      log(self).warn("logs",
                     "persistent log: {}; lines are not kept on disk until it "
                     "works again",
                     *change);
  }
}

void arm_file(self_ptr self) {
  auto& st = self->state;
  if (!st.file_armed) {
    st.file_armed = true;
    self->delayed_send(self, st.opts.file_flush_interval, file_flush_due{});
  }
}

void file_line(self_ptr self, const log_entry& e) {
  auto& st = self->state;
  st.file->add(e);
  if (st.file->pending_bytes() >= st.opts.file_flush_bytes)
    return flush_file(self);
  arm_file(self);
}

// ---------------------------------------------------------------- readers --

// Lines that left a queue (taken or dropped) need no re-reading.
void lines_done(self_ptr self, const std::vector<logic::queued_line>& lines) {
  auto& st = self->state;
  for (auto& l : lines) {
    if (l.source == 0)
      continue;
    auto s = st.sources.find(l.source);
    if (s == st.sources.end())
      continue;
    auto c = st.containers.find(s->second);
    if (c != st.containers.end())
      mark_done(self, c->second, l.point);
  }
}

// The resume points the shipper stores before writing `lines`.
std::map<std::string, std::string>
sent_points(self_ptr self, const std::vector<logic::queued_line>& lines) {
  auto& st = self->state;
  std::map<uint32_t, logic::resume_point> last;
  for (auto& l : lines)
    if (l.source != 0)
      last[l.source] = l.point; // arrival order: the last is the latest
  std::map<std::string, std::string> out;
  for (auto& [source, p] : last)
    if (auto s = st.sources.find(source); s != st.sources.end())
      out.emplace(sent_prefix + s->second, logic::to_string(p));
  return out;
}

log_entry_ptr suppressed_entry(self_ptr self, uint64_t n) {
  auto e = std::make_shared<log_entry>();
  e->message = logic::suppressed_message(n);
  e->timestamp_ms = now_ms(self);
  e->is_system = true;
  e->is_stderr = true;
  return e;
}

// Sends the reader its queue when it asked for more.
template <class Handle>
void feed(self_ptr self, reader_rec& r, const Handle& to, bool cloud) {
  if (!r.wants || !to || (r.queue.empty() && r.queue.unannounced() == 0))
    return;
  auto lines = r.queue.take_all();
  log_batch b;
  b.entries.reserve(lines.size() + 1);
  for (auto& l : lines)
    b.entries.push_back(l.entry);
  if (r.queue.unannounced() > 0) {
    b.entries.push_back(suppressed_entry(self, r.queue.unannounced()));
    r.queue.announced();
  }
  r.wants = false;
  r.delivered += lines.size();
  if (cloud)
    b.resume = sent_points(self, lines);
  self->send(to, std::move(b));
}

void feed_cloud(self_ptr self) {
  auto& st = self->state;
  feed(self, st.cloud, st.shipper, true);
}

bool shipping_now(self_ptr self) {
  auto& st = self->state;
  return st.shipping.enabled && st.shipper;
}

// Every reader that asked for more gets its queue.
void feed_all(self_ptr self) {
  auto& st = self->state;
  for (auto& r : st.readers)
    feed(self, r, r.handle, false);
  feed_cloud(self);
}

// A new line to every reader's queue; `to_file`: to the persistent log too
// (a line read again after a restart is in it already). `now`: readers
// that asked get it at once (otherwise the caller calls feed_all).
void dispatch(self_ptr self, log_entry&& entry, uint32_t source,
              const logic::resume_point& point, container_rec* c, bool to_file,
              bool now = true) {
  auto& st = self->state;
  bool to_cloud = entry.is_system || entry.service_id.has_value();
  auto e = std::make_shared<const log_entry>(std::move(entry));
  if (st.file && to_file)
    file_line(self, *e);
  for (auto& r : st.readers) {
    r.queue.push(logic::queued_line{e, source, point});
    if (now)
      feed(self, r, r.handle, false);
  }
  if (to_cloud && shipping_now(self)) {
    auto dropped = st.cloud.queue.push(logic::queued_line{e, source, point});
    lines_done(self, dropped);
    if (now)
      feed_cloud(self);
  } else if (c != nullptr) {
    mark_done(self, *c, point);
  }
}

// ---------------------------------------------------------------- shipper --

void stop_shipper(self_ptr self) {
  auto& st = self->state;
  if (st.shipper) {
    self->demonitor(st.shipper.address());
    self->send_exit(st.shipper, caf::exit_reason::user_shutdown);
    st.shipper = nullptr;
  }
  st.cloud.wants = false;
  // Nothing will take these: they count as dropped (and need no re-read).
  lines_done(self, st.cloud.queue.clear());
  st.cloud.queue.announced();
}

void start_shipper(self_ptr self) {
  auto& st = self->state;
  if (!st.shipping.enabled || st.shipper)
    return;
  std::string why = "no log uploads configured";
  std::optional<log_upload::factory> f;
  if (st.opts.uploads)
    f = st.opts.uploads(st.shipping, why);
  if (!f) {
    log(self).error("logs", "cannot ship logs to {}: {}", st.shipping.endpoint,
                    why);
    st.counters.cloud.last_error = why;
    return;
  }
  auto so = st.opts.shipper;
  so.connect = std::move(*f);
  so.db = st.db;
  st.shipper
    = spawn_log_shipper(self->system(), caf::actor_cast<logs_actor>(self), so);
  self->monitor(st.shipper);
  log(self).info("logs", "shipping logs to {}", st.shipping.endpoint);
}

// -------------------------------------------------------------- containers --

container_rec& ensure(self_ptr self, const std::string& id,
                      const string_map& labels) {
  auto& st = self->state;
  auto i = st.containers.find(id);
  if (i != st.containers.end())
    return i->second;
  container_rec c;
  c.id = id;
  c.source = st.next_source++;
  auto label = [&](const char* k) -> std::string {
    auto l = labels.find(k);
    return l == labels.end() ? std::string{} : l->second;
  };
  c.service_id = to_id(label("io.balena.service-id"));
  c.service_name = label("io.balena.service-name");
  c.app_id = to_id(label("io.balena.app-id")).value_or(0);
  if (st.file)
    if (auto m = st.file->mark(id))
      if (auto p = logic::parse_resume_point(*m)) {
        c.file_filter = logic::resume_filter{*p};
        c.filed = *p;
      }
  if (auto l = st.loaded.find(id); l != st.loaded.end()) {
    c.filter = logic::resume_filter{l->second};
    c.done = c.stored = l->second;
    st.loaded.erase(l);
  }
  st.sources.emplace(c.source, id);
  return st.containers.emplace(id, std::move(c)).first->second;
}

void forget(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto i = st.containers.find(id);
  if (i == st.containers.end())
    return;
  if (i->second.stream != 0)
    self->send(st.engine, container_logs_cancel{i->second.stream});
  st.sources.erase(i->second.source);
  st.containers.erase(i);
  st.dirty.erase(id);
  forget_key(self, id);
  if (st.file) {
    st.file->erase_mark(id);
    arm_file(self);
  }
}

void attach(self_ptr self, container_rec& c) {
  if (c.stream != 0 || c.attaching) {
    c.again = true; // once this stream ends, read on from where it stopped
    return;
  }
  auto& st = self->state;
  c.attaching = true;
  c.again = false;
  c.filter.restart();
  c.file_filter.restart();
  container_logs_req req;
  req.id = c.id;
  req.options.follow = true;
  req.options.timestamps = true;
  req.options.since = logic::since_seconds(c.filter.current());
  req.listener = caf::actor_cast<log_listener_actor>(self);
  req.window = st.opts.stream_window;
  auto id = c.id;
  self->request(st.engine, 30s, std::move(req))
    .then(
      [self, id](uint64_t stream) {
        auto& st = self->state;
        auto i = st.containers.find(id);
        if (i == st.containers.end()) {
          self->send(st.engine, container_logs_cancel{stream});
          return;
        }
        i->second.attaching = false;
        i->second.stream = stream;
        ++st.counters.attached;
      },
      [self, id](const caf::error& e) {
        auto& st = self->state;
        auto i = st.containers.find(id);
        if (i == st.containers.end())
          return;
        i->second.attaching = false;
        if (e == engine_errc::not_found)
          return forget(self, id);
        log(self).debug("logs", "cannot read the log of {}: {}", id,
                        render_engine_error(e));
        // Down engine: its reconnect lists and attaches again.
        if (i->second.again && e != engine_errc::unavailable)
          attach(self, i->second);
      });
}

void list_and_attach(self_ptr self) {
  auto& st = self->state;
  container_list_req req;
  req.all = true;
  req.filters["label"] = {supervised_label};
  self->request(st.engine, 30s, std::move(req))
    .then(
      [self](const container_list& list) {
        auto& st = self->state;
        for (auto& c : list) {
          if (c.labels.count(supervised_label) == 0)
            continue;
          attach(self, ensure(self, c.id, c.labels));
        }
        if (!st.cleaned) {
          // Resume points of containers removed while we were away.
          st.cleaned = true;
          for (auto& [id, p] : st.loaded)
            forget_key(self, id);
          st.loaded.clear();
          if (st.file) {
            for (auto& id : st.file->mark_keys())
              if (st.containers.count(id) == 0)
                st.file->erase_mark(id);
            arm_file(self);
          }
        }
      },
      [self](const caf::error& e) {
        log(self).debug("logs", "cannot list containers: {}",
                        render_engine_error(e));
      });
}

void subscribe(self_ptr self) {
  auto& st = self->state;
  self
    ->request(st.engine, 10s,
              engine_subscribe{caf::actor_cast<engine_listener_actor>(self)})
    .then(
      [self](const engine_status& s) {
        auto& st = self->state;
        st.ready = true;
        st.engine_up = s.state == engine_state::up;
        if (st.engine_up)
          list_and_attach(self);
      },
      [self](const caf::error& e) {
        log(self).warn("logs", "cannot follow engine events: {}",
                       self->system().render(e));
        self->delayed_send(self, 2s, engine_status{engine_state::down, {}});
      });
}

// One line of `c`'s stream; the caller feeds the readers.
void on_line(self_ptr self, container_rec& c, log_line& l) {
  auto& st = self->state;
  std::optional<int64_t> ns;
  if (!l.timestamp.empty())
    ns = logic::parse_rfc3339_ns(l.timestamp);
  // Every line read, as the cloud's filter sees it: both start together.
  bool file_new = c.file_filter.admit(ns);
  if (!c.filter.admit(ns)) {
    ++st.counters.skipped;
    return;
  }
  ++st.counters.lines;
  log_entry e;
  e.message = std::move(l.text);
  // Cut first: repairing a megabyte only to drop most of it is waste.
  if (logic::cut_message(e.message))
    ++st.counters.cut;
  logic::sanitize_utf8(e.message);
  e.timestamp_ms = ns ? *ns / 1000000 : now_ms(self);
  e.is_stderr = l.source == log_source::err;
  e.service_id = c.service_id;
  e.service_name = c.service_name;
  e.app_id = c.app_id;
  if (st.file && file_new && c.filed != c.file_filter.current()) {
    c.filed = c.file_filter.current();
    st.file->set_mark(c.id, logic::to_string(c.filed));
  }
  dispatch(self, std::move(e), c.source, c.filter.current(), &c, file_new,
           false);
}

// A batch of one stream's lines, in order: readers get them together, and
// the engine learns they are handled (it reads ahead no further than
// opts.stream_window of unacknowledged bytes).
void on_lines(self_ptr self, log_lines& b) {
  auto& st = self->state;
  auto i = st.containers.find(b.container_id);
  // Not a stream we no longer read (its acknowledgement costs nothing).
  if (i != st.containers.end()
      && (i->second.stream == b.stream_id || i->second.attaching)) {
    for (auto& l : b.lines)
      on_line(self, i->second, l);
    feed_all(self);
  }
  if (b.bytes > 0)
    self->send(st.engine, log_ack{b.stream_id, b.bytes});
}

void on_ended(self_ptr self, const log_stream_ended& ev) {
  auto& st = self->state;
  auto i = st.containers.find(ev.container_id);
  if (i == st.containers.end() || i->second.stream != ev.stream_id)
    return;
  auto& c = i->second;
  c.stream = 0;
  if (st.counters.attached > 0)
    --st.counters.attached;
  if (ev.reason == engine_errc::cancelled
      || ev.reason == engine_errc::unavailable)
    return; // ours, or the engine's reconnect attaches again
  if (ev.reason)
    log(self).debug("logs", "log of {} ended: {}", c.id,
                    render_engine_error(ev.reason));
  if (c.again)
    attach(self, c);
}

logs_telemetry snapshot(self_ptr self) {
  auto& st = self->state;
  auto t = st.counters;
  t.containers = st.containers.size();
  auto stats = [](const reader_rec& r) {
    log_queue_stats q;
    q.name = r.name;
    q.queued_lines = r.queue.lines();
    q.queued_bytes = r.queue.bytes();
    q.capacity_bytes = r.queue.capacity();
    q.delivered = r.delivered;
    q.dropped = r.queue.dropped();
    return q;
  };
  t.queues.push_back(stats(st.cloud));
  for (auto& r : st.readers)
    t.queues.push_back(stats(r));
  t.cloud.state = st.shipping.enabled ? "starting" : "off";
  if (st.file)
    t.file = st.file->stats();
  return t;
}

} // namespace

impl_actor::behavior_type logs_impl(self_ptr self, engine_actor engine,
                                    db_actor db, logs_options opts) {
  auto& st = self->state;
  st.engine = std::move(engine);
  st.db = std::move(db);
  st.opts = std::move(opts);
  if (!st.opts.log)
    st.opts.log = std::make_shared<const logger>();
  st.cloud.queue.set_capacity(st.opts.cloud_queue_bytes);
  st.shipping = st.opts.shipping;
  if (!st.opts.file_dir.empty()) {
    st.file = std::make_unique<persistent_log>(st.opts.file_dir,
                                               st.opts.file_max_bytes);
    auto s = st.file->stats();
    if (!s.last_error.empty())
      log(self).warn("logs",
                     "persistent log: {}; lines are not kept on disk until it "
                     "works again",
                     s.last_error);
  }
  start_shipper(self);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.shipper && dm.source == st.shipper.address()) {
      st.shipper = nullptr;
      st.cloud.wants = false;
      log(self).warn("logs", "the log shipper stopped ({}); restarting it",
                     self->system().render(dm.reason));
      self->delayed_send(self, st.opts.respawn_delay,
                         respawn_due{st.shipping_gen});
      return;
    }
    auto& rs = st.readers;
    rs.erase(std::remove_if(rs.begin(), rs.end(),
                            [&](const reader_rec& r) {
                              return r.handle.address() == dm.source;
                            }),
             rs.end());
  });
  // Resume points first: attaching before they are known would re-read.
  auto start = [self] { subscribe(self); };
  if (st.db) {
    self->request(st.db, 10s, caf::get_atom_v, config_kv_atom_v)
      .then(
        [self, start](const std::map<std::string, std::string>& kv) {
          auto& st = self->state;
          for (auto* prefix : {key_prefix, sent_prefix}) {
            auto n = std::strlen(prefix);
            for (auto i = kv.lower_bound(prefix);
                 i != kv.end() && i->first.compare(0, n, prefix) == 0; ++i)
              if (auto p = logic::parse_resume_point(i->second)) {
                auto& at = st.loaded[i->first.substr(n)];
                if (at < *p)
                  at = *p;
              }
          }
          start();
        },
        [self, start](const caf::error& e) {
          log(self).warn("logs",
                         "cannot load resume points ({}); logs of "
                         "running containers are read from the start",
                         self->system().render(e));
          start();
        });
  } else {
    start();
  }
  return telemetry::instrument(
    self,
    {"logs",
     [self] {
       auto& st = self->state;
       if (st.counters.cloud.last_error.empty() && st.file)
         return st.file->stats().last_error;
       return st.counters.cloud.last_error;
     },
     [self] {
       std::vector<actor_child> out;
       if (self->state.shipper)
         out.push_back(actor_child{
           "log_shipper", caf::actor_cast<caf::actor>(self->state.shipper)});
       return out;
     }},
    [self](system_log& m) {
      auto& st = self->state;
      ++st.counters.system_lines;
      log_entry e;
      e.message = std::move(m.message);
      if (logic::cut_message(e.message))
        ++st.counters.cut;
      logic::sanitize_utf8(e.message);
      e.timestamp_ms = now_ms(self);
      e.is_system = true;
      e.is_stderr = m.is_stderr;
      dispatch(self, std::move(e), 0, {}, nullptr, true);
    },
    [self](log_shipping& s) {
      auto& st = self->state;
      if (s == st.shipping)
        return;
      stop_shipper(self);
      st.shipping = std::move(s);
      ++st.shipping_gen;
      start_shipper(self);
    },
    [self](log_subscribe& s) {
      auto& st = self->state;
      if (!s.reader)
        return;
      self->monitor(s.reader);
      st.readers.push_back(reader_rec{
        s.reader, logic::log_queue{std::max<size_t>(s.queue_bytes, 16384)},
        "local-" + std::to_string(st.next_reader++), false, 0});
    },
    [self](log_unsubscribe& u) {
      auto& rs = self->state.readers;
      auto addr = u.reader.address();
      rs.erase(std::remove_if(rs.begin(), rs.end(),
                              [&](const reader_rec& r) {
                                return r.handle.address() == addr;
                              }),
               rs.end());
    },
    [self](log_pull& p) {
      auto& st = self->state;
      if (st.shipper && p.reader.address() == st.shipper.address()) {
        st.cloud.wants = true;
        feed_cloud(self);
        return;
      }
      for (auto& r : st.readers)
        if (r.handle.address() == p.reader.address()) {
          r.wants = true;
          feed(self, r, r.handle, false);
          return;
        }
    },
    [self](caf::get_atom) -> caf::result<logs_telemetry> {
      auto& st = self->state;
      auto t = snapshot(self);
      if (!st.shipper)
        return t;
      auto rp = self->make_response_promise<logs_telemetry>();
      self->request(st.shipper, 2s, caf::get_atom_v)
        .then(
          [rp, t](const log_cloud_stats& c) mutable {
            t.cloud = c;
            rp.deliver(std::move(t));
          },
          [rp, t](const caf::error&) mutable {
            t.cloud.state = "unknown";
            rp.deliver(std::move(t));
          });
      return rp;
    },
    [self](log_history_req) {
      auto& st = self->state;
      log_history h;
      if (!st.file)
        return h;
      flush_file(self);
      h.enabled = true;
      h.files = st.file->files();
      h.max_bytes = st.file->max_bytes();
      return h;
    },
    [self](log_history_read& r) -> caf::result<log_history_lines> {
      auto& st = self->state;
      if (!st.file)
        return caf::make_error(logs_errc::persistence_off);
      if (!st.history.take())
        return caf::make_error(logs_errc::busy);
      flush_file(self); // the reply includes everything logged before
      log_history_job job{st.file->files(), st.file->max_bytes(),
                          std::move(r.query)};
      auto worker
        = spawn_history_worker(self->system(), st.opts.history_detached);
      auto rp = self->make_response_promise<log_history_lines>();
      self->request(worker, caf::infinite, std::move(job))
        .then(
          [self, rp](log_history_lines& l) mutable {
            self->state.history.give_back();
            rp.deliver(std::move(l));
          },
          [self, rp](caf::error& e) mutable {
            self->state.history.give_back();
            rp.deliver(std::move(e));
          });
      return rp;
    },
    [self](log_lines& b) { on_lines(self, b); },
    [self](const log_stream_ended& ev) { on_ended(self, ev); },
    [self](const engine_event& ev) {
      auto& st = self->state;
      if (!st.ready || ev.kind != engine_object::container)
        return;
      if (ev.verb == engine_verb::start) {
        if (ev.attributes.count(supervised_label) == 0)
          return;
        attach(self, ensure(self, ev.actor_id, ev.attributes));
      } else if (ev.verb == engine_verb::destroy) {
        forget(self, ev.actor_id);
      }
    },
    [self](const engine_status& s) {
      auto& st = self->state;
      if (!st.ready) {
        subscribe(self); // our retry after a failed subscribe
        return;
      }
      bool was = st.engine_up;
      st.engine_up = s.state == engine_state::up;
      if (st.engine_up && !was)
        list_and_attach(self);
    },
    [self](file_flush_due) {
      self->state.file_armed = false;
      flush_file(self);
    },
    [self](persist_due) {
      self->state.persist_armed = false;
      persist(self);
    },
    [self](const respawn_due& r) {
      auto& st = self->state;
      if (r.generation == st.shipping_gen)
        start_shipper(self);
    });
}

logs_actor spawn_logs(caf::actor_system& sys, engine_actor engine, db_actor db,
                      logs_options opts) {
  return caf::actor_cast<logs_actor>(
    sys.spawn(logs_impl, std::move(engine), std::move(db), std::move(opts)));
}

log_uploads asio_log_uploads(asio::io_context& io, http::env_lookup env) {
  return [&io, env](const log_shipping& s,
                    std::string& why) -> std::optional<log_upload::factory> {
    auto t
      = log_upload::device_target(s.endpoint, s.uuid, s.api_key, &why, env);
    if (!t)
      return std::nullopt;
    t->user_agent = std::string("bosun/") + BOSUN_VERSION;
    return log_upload::asio_factory(io, *t);
  };
}

} // namespace bosun
