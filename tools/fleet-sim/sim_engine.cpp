// Over 600 lines: it answers every request of the engine_actor interface
// (each a few lines over sim_world), plus pulls, log streams and timing.
// The simulated engine actor (sim_engine.hpp): requests run against the
// model (sim_world) after their configured time; the model's events go to
// subscribers and drive the containers' simulated lives (behaviours,
// healthchecks, log lines) and the log streams.
#include "tools/fleet-sim/sim_engine.hpp"

#include "actors/images/image_logic.hpp"
#include "actors/telemetry/counters.hpp"
#include "tools/fleet-sim/sim_pull.hpp"
#include "tools/fleet-sim/sim_world.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <functional>
#include <unordered_map>

namespace bosun::sim {

// A delayed piece of work of the actor's own (run_delayed, CAF 0.17 style).
struct sim_timer {
  uint64_t id = 0;
};

} // namespace bosun::sim

BOSUN_MESSAGE(bosun::sim::sim_timer)

namespace bosun::sim {

namespace {

using ms = std::chrono::milliseconds;
using impl_actor = sim_engine_actor::extend<caf::reacts_to<sim_timer>>;

struct log_stream {
  std::string container_id; // the full id
  std::string asked_id;     // as the request named it
  log_listener_actor listener;
  container_logs_options options;
  uint64_t next_seq = 1;
  uint64_t window = 0;
  uint64_t unacked = 0;
};

struct waiter {
  std::string condition;
  caf::typed_response_promise<container_wait_result> rp;
};

struct sim_state {
  static inline const char* name = "sim_engine";

  sim_options opts;
  std::shared_ptr<world> w;
  uint64_t rng = 0;
  caf::actor_clock::time_point t0;
  bool up = true;
  std::string down_reason;
  std::vector<engine_listener_actor> subscribers;
  std::map<std::string, behaviour> behaviours; // by service
  std::unordered_map<uint64_t, std::function<void()>> timers;
  uint64_t next_timer = 1;
  std::map<uint64_t, log_stream> streams;
  uint64_t next_stream = 1;
  std::map<std::string, std::vector<waiter>> waits; // by container id
  engine_telemetry counters;
  sim_stats stats;
};

using self_ptr = impl_actor::stateful_pointer<sim_state>;

// ------------------------------------------------------------- basics --

void set_now(self_ptr self) {
  auto& st = self->state;
  auto since = self->clock().now() - st.t0;
  st.w->now_ns
    = st.opts.epoch_unix_ns
      + std::chrono::duration_cast<std::chrono::nanoseconds>(since).count();
}

// A uniform double in [0, 1) from the seeded generator (splitmix64).
double uniform(self_ptr self) {
  uint64_t z = (self->state.rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// Runs `f` after `d` of actor-clock time (at once when d is zero).
void after(self_ptr self, ms d, std::function<void()> f) {
  if (d.count() <= 0) {
    f();
    return;
  }
  auto id = self->state.next_timer++;
  self->state.timers.emplace(id, std::move(f));
  self->delayed_send(self, d, sim_timer{id});
}

caf::error down_error(self_ptr self) {
  return caf::make_error(engine_errc::unavailable,
                         "engine down: " + self->state.down_reason);
}

void count_failure(self_ptr self, const caf::error& e) {
  ++self->state.counters.requests_failed;
  self->state.counters.last_error = render_engine_error(e);
}

void publish(self_ptr self);

// Runs `op` against the model after `delay`, then delivers its result.
// `op` returns caf::expected<T> (or caf::error for void replies).
template <class T, class Op>
caf::typed_response_promise<T> run(self_ptr self, ms delay, Op op) {
  auto& st = self->state;
  auto rp = self->make_response_promise<T>();
  ++st.counters.requests_total;
  ++st.stats.requests;
  if (!st.up) {
    count_failure(self, down_error(self));
    rp.deliver(down_error(self));
    return rp;
  }
  ++st.counters.requests_in_flight;
  after(self, delay, [self, rp, op]() mutable {
    auto& st = self->state;
    --st.counters.requests_in_flight;
    if (!st.up) {
      count_failure(self, down_error(self));
      rp.deliver(down_error(self));
      return;
    }
    set_now(self);
    auto r = op();
    publish(self);
    if constexpr (std::is_same_v<T, void>) {
      if (r) {
        count_failure(self, r);
        rp.deliver(r);
      } else {
        static_cast<caf::response_promise&>(rp).deliver(caf::unit);
      }
    } else {
      if (!r) {
        count_failure(self, r.error());
        rp.deliver(r.error());
      } else {
        rp.deliver(std::move(*r));
      }
    }
  });
  return rp;
}

// ----------------------------------------------------------- log streams --

// A removed container's log, once no stream reads it, is dropped.
void forget_if_unread(self_ptr self, const std::string& cid) {
  auto& st = self->state;
  if (st.w->removed(cid) == nullptr)
    return;
  for (const auto& [_, s] : st.streams)
    if (s.container_id == cid)
      return;
  st.w->forget_removed(cid);
}

void forget_unread(self_ptr self) {
  for (const auto& cid : self->state.w->removed_ids())
    forget_if_unread(self, cid);
}

void end_stream(self_ptr self, uint64_t id, caf::error reason = {}) {
  auto& st = self->state;
  auto i = st.streams.find(id);
  if (i == st.streams.end())
    return;
  auto cid = i->second.container_id;
  self->send(i->second.listener,
             log_stream_ended{id, i->second.asked_id, std::move(reason)});
  st.streams.erase(i);
  st.counters.log_streams = st.streams.size();
  forget_if_unread(self, cid);
}

// Sends what the stream may read now; ends it once it has read everything
// of a container that stopped (or when not following).
void pump(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.streams.find(id);
  if (i == st.streams.end())
    return;
  auto& s = i->second;
  // A removed container's follower reads the rest of its log, then ends.
  const auto* c = st.w->find(s.container_id);
  const auto* gone = c == nullptr ? st.w->removed(s.container_id) : nullptr;
  if (c == nullptr && gone == nullptr)
    return end_stream(self, id);
  const auto& log = c != nullptr ? c->log : gone->log;
  auto log_seq = c != nullptr ? c->log_seq : gone->log_seq;
  bool running = c != nullptr && c->running();
  log_lines batch;
  batch.stream_id = id;
  batch.container_id = s.asked_id;
  const auto& o = s.options;
  if (!log.empty() && s.next_seq < log.front().seq)
    s.next_seq = log.front().seq;
  while (!log.empty() && s.next_seq <= log_seq
         && (s.window == 0 || s.unacked < s.window)) {
    const auto& l = log[s.next_seq - log.front().seq];
    ++s.next_seq;
    bool wanted
      = l.source == log_source::out ? o.include_stdout : o.include_stderr;
    if (!wanted || (o.since > 0 && l.time_ns < o.since * 1000000000)
        || (o.until > 0 && l.time_ns >= o.until * 1000000000))
      continue;
    log_line out{l.source, o.timestamps ? rfc3339_nano(l.time_ns) : "", l.text};
    // The multiplexed frame: 8 header bytes, the timestamp and a space,
    // the text and its newline.
    uint64_t bytes = 8 + out.text.size() + 1
                     + (out.timestamp.empty() ? 0 : out.timestamp.size() + 1);
    batch.bytes += bytes;
    if (s.window > 0)
      s.unacked += bytes;
    batch.lines.push_back(std::move(out));
  }
  if (!batch.lines.empty())
    self->send(s.listener, std::move(batch));
  if (s.next_seq > log_seq && (!o.follow || !running))
    end_stream(self, id);
}

void pump_container(self_ptr self, const std::string& cid) {
  std::vector<uint64_t> ids;
  for (const auto& [id, s] : self->state.streams)
    if (s.container_id == cid)
      ids.push_back(id);
  for (auto id : ids)
    pump(self, id);
}

void write_lines(self_ptr self, const std::string& cid, size_t n,
                 log_source src) {
  auto& st = self->state;
  set_now(self);
  for (size_t k = 0; k < n; ++k) {
    auto* c = st.w->find(cid);
    if (c == nullptr)
      return;
    auto text = c->name + ": line " + std::to_string(c->log_seq + 1);
    if (st.w->write_log(cid, src, std::move(text)))
      return;
    ++st.stats.log_lines;
  }
  pump_container(self, cid);
}

// ------------------------------------------------------- container lives --

std::string service_of(const container_rec& c) {
  auto i = c.spec.config.labels.find("io.balena.service-name");
  return i != c.spec.config.labels.end() ? i->second : c.name;
}

// Work for a container's current run: dropped once it has stopped or
// started again.
void in_run(self_ptr self, const std::string& cid, uint64_t run, ms d,
            std::function<void(container_rec&)> f) {
  after(self, d, [self, cid, run, f] {
    auto* c = self->state.w->find(cid);
    if (c == nullptr || c->run != run || !c->running())
      return;
    set_now(self);
    f(*c);
    publish(self);
  });
}

void tick_logs(self_ptr self, const std::string& cid, uint64_t run) {
  in_run(self, cid, run, self->state.opts.log_every,
         [self, cid, run](container_rec&) {
           write_lines(self, cid, 1, log_source::out);
           tick_logs(self, cid, run);
         });
}

void on_started(self_ptr self, const std::string& cid) {
  auto& st = self->state;
  auto* c = st.w->find(cid);
  if (c == nullptr)
    return;
  auto run = c->run;
  st.w->write_log(cid, log_source::out, c->name + ": started");
  ++st.stats.log_lines;
  pump_container(self, cid);
  if (st.opts.log_every.count() > 0)
    tick_logs(self, cid, run);
  auto b = st.behaviours.find(service_of(*c));
  if (b != st.behaviours.end() && b->second.kind != behaviour_kind::run) {
    auto how = b->second;
    if (how.kind == behaviour_kind::exit_once)
      st.behaviours.erase(b);
    if (how.kind == behaviour_kind::unhealthy) {
      in_run(self, cid, run, how.run_for, [self](container_rec& c) {
        self->state.w->set_health(c.id, "unhealthy");
      });
      return;
    }
    in_run(self, cid, run, how.run_for, [self, how](container_rec& c) {
      self->state.w->write_log(c.id, log_source::err,
                               c.name + ": exiting with "
                                 + std::to_string(how.exit_code));
      self->state.w->exited(c.id, how.exit_code);
    });
  }
  if (c->health) {
    const auto& hc = *c->spec.config.healthcheck;
    ms interval{hc.interval.value_or(0) / 1000000};
    if (interval.count() <= 0)
      interval = std::chrono::seconds(30);
    in_run(self, cid, run, interval, [self](container_rec& c) {
      if (c.health == "starting")
        self->state.w->set_health(c.id, "healthy");
    });
  }
}

void settle_waits(self_ptr self, const std::string& cid, bool removed) {
  auto& st = self->state;
  auto i = st.waits.find(cid);
  if (i == st.waits.end())
    return;
  const auto* c = st.w->find(cid);
  auto code = c != nullptr ? c->exit_code : 0;
  auto& ws = i->second;
  for (auto it = ws.begin(); it != ws.end();) {
    if (removed || it->condition != "removed") {
      it->rp.deliver(container_wait_result{code, {}});
      it = ws.erase(it);
    } else {
      ++it;
    }
  }
  if (ws.empty())
    st.waits.erase(i);
}

// Sends the model's events to subscribers, and lets them drive the rest.
void publish(self_ptr self) {
  auto& st = self->state;
  auto events = std::move(st.w->events);
  st.w->events.clear();
  for (auto& ev : events) {
    ++st.counters.events_seen;
    ++st.stats.events;
    for (auto& s : st.subscribers)
      self->send(s, ev);
    if (ev.type != "container")
      continue;
    if (ev.action == "start")
      on_started(self, ev.actor_id);
    else if (ev.action == "die") {
      pump_container(self, ev.actor_id);
      settle_waits(self, ev.actor_id, false);
    } else if (ev.action == "destroy") {
      settle_waits(self, ev.actor_id, true);
    }
  }
  // Streams of containers that are gone read the rest of their log (as
  // their acks allow) and end; a removed log nobody reads is forgotten.
  std::vector<uint64_t> gone;
  for (const auto& [id, s] : st.streams)
    if (st.w->find(s.container_id) == nullptr)
      gone.push_back(id);
  for (auto id : gone)
    pump(self, id);
  forget_unread(self);
}

// -------------------------------------------------------------- pulls --

void pull(self_ptr self, image_pull_req& req) {
  auto& st = self->state;
  auto rp = self->make_response_promise<void>();
  ++st.counters.requests_total;
  ++st.stats.requests;
  if (!st.up) {
    count_failure(self, down_error(self));
    rp.deliver(down_error(self));
    return;
  }
  auto shown
    = req.pull.from_image + (req.pull.tag.empty() ? "" : ":" + req.pull.tag);
  auto norm = image_logic::normalise_name(shown);
  const auto& reg = st.opts.registry;
  ++st.counters.pulls;
  ++st.stats.pulls_started;
  auto finish = [self, rp](caf::error err) mutable {
    auto& st = self->state;
    --st.counters.pulls;
    if (!err && !st.up)
      err = down_error(self);
    if (err) {
      ++st.stats.pulls_failed;
      count_failure(self, err);
      rp.deliver(err);
      return;
    }
    static_cast<caf::response_promise&>(rp).deliver(caf::unit);
  };
  if (reg.missing.count(norm) != 0) {
    after(self, reg.latency, [finish, norm]() mutable {
      finish(caf::make_error(engine_errc::not_found,
                             "manifest for " + norm
                               + " not found: manifest unknown: manifest "
                                 "unknown"));
    });
    return;
  }
  bool present = st.w->has_image(norm);
  bool fails = !present && uniform(self) < reg.failure_rate;
  auto plan
    = present ? plan_up_to_date(norm, reg) : plan_pull(norm, reg, fails);
  auto listener = req.listener;
  for (auto& step : plan.steps)
    after(self, step.at, [self, listener, shown, line = step.line] {
      if (listener && self->state.up)
        self->send(listener, image_pull_event{shown, line});
    });
  auto size = plan.size;
  after(self, plan.done, [self, finish, fails, present, norm, size]() mutable {
    auto& st = self->state;
    if (fails)
      return finish(caf::make_error(engine_errc::stream_error,
                                    st.opts.registry.failure_message));
    if (!present && st.up) {
      set_now(self);
      st.w->add_image(norm, size, st.opts.registry.image_config);
      st.stats.pull_bytes += static_cast<uint64_t>(size);
      publish(self);
    }
    finish({});
  });
}

// ---------------------------------------------------------------- control --

std::vector<std::string> targets(self_ptr self, const std::string& t) {
  std::vector<std::string> out;
  if (const auto* c = self->state.w->find(t))
    return {c->id};
  for (const auto& [id, c] : self->state.w->containers())
    if (service_of(c) == t)
      out.push_back(id);
  return out;
}

void set_up(self_ptr self, const sim_set_up& m) {
  auto& st = self->state;
  if (st.up == m.up)
    return;
  st.up = m.up;
  st.down_reason = m.up ? "" : m.reason;
  if (!m.up) {
    std::vector<uint64_t> ids;
    for (const auto& [id, _] : st.streams)
      ids.push_back(id);
    for (auto id : ids)
      end_stream(self, id, down_error(self));
  } else {
    ++st.counters.reconnects;
  }
  st.counters.state = m.up ? engine_state::up : engine_state::down;
  for (auto& s : st.subscribers)
    self->send(s, engine_status{st.counters.state, st.down_reason});
}

sim_stats stats_of(self_ptr self) {
  auto& st = self->state;
  auto s = st.stats;
  s.containers = s.running = 0;
  for (const auto& [_, c] : st.w->containers()) {
    ++s.containers;
    if (c.running())
      ++s.running;
  }
  s.images = st.w->images({}).size();
  s.volumes = st.w->volumes({}).volumes.size();
  s.networks = st.w->networks({}).size() - 3;
  return s;
}

void drop_listener(self_ptr self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto& subs = st.subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const auto& s) { return s.address() == who; }),
             subs.end());
  st.counters.subscribers = subs.size();
  for (auto it = st.streams.begin(); it != st.streams.end();)
    it = it->second.listener.address() == who ? st.streams.erase(it)
                                              : std::next(it);
  st.counters.log_streams = st.streams.size();
}

// --------------------------------------------------------------- actor --

impl_actor::behavior_type sim_engine_impl(self_ptr self, sim_options opts,
                                          std::shared_ptr<world> device) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.w = device ? std::move(device)
                : std::make_shared<world>(st.opts.seed, st.opts.hostname);
  st.w->log_keep = st.opts.log_keep;
  // A model that outlived an earlier engine: its time goes on.
  st.opts.epoch_unix_ns = std::max(st.opts.epoch_unix_ns, st.w->now_ns);
  st.w->events.clear();
  st.rng = st.opts.seed;
  st.t0 = self->clock().now();
  st.counters.state = engine_state::up;
  self->set_down_handler(
    [self](caf::down_msg& dm) { drop_listener(self, dm.source); });
  const auto& t = st.opts.timing;
  auto w = [self] { return self->state.w.get(); };
  return telemetry::instrument(
    self, {"engine", [self] { return self->state.counters.last_error; }, {}},
    [self](engine_ping_req) {
      return run<engine_ping>(self, ms{0}, [] {
        return caf::expected<engine_ping>{engine_ping{"1.41", "linux"}};
      });
    },
    [self](engine_version_req) {
      return run<engine_version>(self, ms{0}, [] {
        engine_version v{"20.10.24+sim", "1.41", "1.12",   "linux", "amd64",
                         "6.1.0-sim",    "sim",  "go1.19", ""};
        return caf::expected<engine_version>{v};
      });
    },
    [self, w](engine_info_req) {
      return run<engine_info>(
        self, ms{0}, [w] { return caf::expected<engine_info>{w()->info()}; });
    },
    [self, w, t](container_list_req& r) {
      return run<container_list>(self, t.other, [w, r] {
        return caf::expected<container_list>{w()->list(r.all, r.filters)};
      });
    },
    [self, w, t](container_inspect_req& r) {
      return run<container_inspect>(self, t.other,
                                    [w, r] { return w()->inspect(r.id); });
    },
    [self, w, t](container_create_req& r) {
      return run<std::string>(self, t.create,
                              [w, r] { return w()->create(r.spec); });
    },
    [self, w, t](container_start_req& r) {
      return run<void>(self, t.start, [w, r] { return w()->start(r.id); });
    },
    [self, w, t](container_stop_req& r) {
      return run<void>(self, t.stop, [w, r] { return w()->stop(r.id); });
    },
    [self, w, t](container_kill_req& r) {
      return run<void>(self, t.other,
                       [w, r] { return w()->kill(r.id, r.signal); });
    },
    [self, w, t](container_restart_req& r) {
      return run<void>(self, t.stop + t.start,
                       [w, r] { return w()->restart(r.id); });
    },
    [self, w, t](container_remove_req& r) {
      return run<void>(self, t.remove, [w, r] {
        return w()->remove(r.id, r.force, r.volumes);
      });
    },
    [self](container_wait_req& r) {
      auto& st = self->state;
      auto rp = self->make_response_promise<container_wait_result>();
      ++st.counters.requests_total;
      const auto* c = st.w->find(r.id);
      if (c == nullptr) {
        rp.deliver(caf::make_error(engine_errc::not_found,
                                   "No such container: " + r.id));
        return rp;
      }
      auto cond = r.condition.empty() ? "not-running" : r.condition;
      if (cond == "not-running" && !c->running()) {
        rp.deliver(container_wait_result{c->exit_code, {}});
        return rp;
      }
      st.waits[c->id].push_back({cond, rp});
      return rp;
    },
    [self, w, t](container_rename_req& r) {
      return run<void>(self, t.other,
                       [w, r] { return w()->rename(r.id, r.name); });
    },
    [self, w, t](container_update_req& r) {
      return run<container_update_result>(
        self, t.other, [w, r] { return w()->update(r.id, r.spec); });
    },
    [self](container_logs_req& r) {
      auto& st = self->state;
      auto rp = self->make_response_promise<uint64_t>();
      ++st.counters.requests_total;
      const auto* c = st.w->find(r.id);
      caf::error err;
      if (!st.up)
        err = down_error(self);
      else if (!r.listener)
        err = caf::make_error(engine_errc::bad_request,
                              "container_logs_req without a listener");
      else if (c == nullptr)
        err = caf::make_error(engine_errc::not_found,
                              "No such container: " + r.id);
      if (err) {
        count_failure(self, err);
        rp.deliver(err);
        return rp;
      }
      auto id = st.next_stream++;
      log_stream s{c->id, r.id, r.listener, r.options, 1, r.window, 0};
      auto first = c->log.empty() ? c->log_seq + 1 : c->log.front().seq;
      s.next_seq = first;
      if (r.options.tail && *r.options.tail >= 0)
        s.next_seq = std::max<uint64_t>(
          first, c->log_seq + 1
                   - std::min<uint64_t>(
                     c->log_seq, static_cast<uint64_t>(*r.options.tail)));
      self->monitor(r.listener);
      st.streams.emplace(id, std::move(s));
      st.counters.log_streams = st.streams.size();
      rp.deliver(id); // the id first, then the lines
      pump(self, id);
      return rp;
    },
    [self](container_logs_cancel& r) {
      end_stream(self, r.stream_id,
                 caf::make_error(engine_errc::cancelled, "cancelled"));
    },
    [self](const log_ack& m) {
      auto i = self->state.streams.find(m.stream_id);
      if (i == self->state.streams.end())
        return;
      auto& s = i->second;
      s.unacked -= std::min(s.unacked, m.bytes);
      pump(self, m.stream_id);
    },
    [self, w, t](image_list_req& r) {
      return run<image_list>(self, t.other, [w, r] {
        return caf::expected<image_list>{w()->images(r.filters)};
      });
    },
    [self, w, t](image_inspect_req& r) {
      return run<image_inspect>(self, t.other,
                                [w, r] { return w()->image(r.name); });
    },
    [self](image_pull_req& r) { pull(self, r); },
    [self, w, t](image_tag_req& r) {
      return run<void>(self, t.other,
                       [w, r] { return w()->tag(r.name, r.tag); });
    },
    [self, w, t](image_remove_req& r) {
      return run<image_delete_result>(
        self, t.other, [w, r] { return w()->remove_image(r.name, r.force); });
    },
    [self, w, t](volume_list_req& r) {
      return run<volume_list>(self, t.other, [w, r] {
        return caf::expected<volume_list>{w()->volumes(r.filters)};
      });
    },
    [self, w, t](volume_inspect_req& r) {
      return run<volume_info>(self, t.other,
                              [w, r] { return w()->volume(r.name); });
    },
    [self, w, t](volume_create_req& r) {
      return run<volume_info>(self, t.other,
                              [w, r] { return w()->create_volume(r.spec); });
    },
    [self, w, t](volume_remove_req& r) {
      return run<void>(self, t.other,
                       [w, r] { return w()->remove_volume(r.name, r.force); });
    },
    [self, w, t](network_list_req& r) {
      return run<network_infos>(self, t.other, [w, r] {
        return caf::expected<network_infos>{w()->networks(r.filters)};
      });
    },
    [self, w, t](network_inspect_req& r) {
      return run<network_info>(self, t.other,
                               [w, r] { return w()->network(r.id); });
    },
    [self, w, t](network_create_req& r) {
      return run<std::string>(self, t.other,
                              [w, r] { return w()->create_network(r.spec); });
    },
    [self, w, t](network_connect_req& r) {
      return run<void>(self, t.other,
                       [w, r] { return w()->connect(r.network, r.spec); });
    },
    [self, w, t](network_disconnect_req& r) {
      return run<void>(self, t.other,
                       [w, r] { return w()->disconnect(r.network, r.spec); });
    },
    [self, w, t](network_remove_req& r) {
      return run<void>(self, t.other,
                       [w, r] { return w()->remove_network(r.id); });
    },
    [self](engine_subscribe& r) {
      auto& st = self->state;
      if (r.listener) {
        self->monitor(r.listener);
        st.subscribers.push_back(r.listener);
        st.counters.subscribers = st.subscribers.size();
      }
      return engine_status{st.counters.state, st.down_reason};
    },
    [self](engine_unsubscribe& r) {
      // Its log streams stay: only its death ends them.
      auto& subs = self->state.subscribers;
      subs.erase(std::remove(subs.begin(), subs.end(), r.listener), subs.end());
      self->state.counters.subscribers = subs.size();
    },
    [self](caf::get_atom) { return self->state.counters; },
    // -- control
    [self](sim_behave& m) { self->state.behaviours[m.service] = m.how; },
    [self](sim_crash& m) {
      uint64_t n = 0;
      set_now(self);
      for (const auto& id : targets(self, m.target)) {
        const auto* c = self->state.w->find(id);
        if (c != nullptr && c->running()) {
          self->state.w->exited(id, m.exit_code);
          ++n;
        }
      }
      publish(self);
      return n;
    },
    [self](sim_write_logs& m) {
      for (const auto& id : targets(self, m.target))
        write_lines(self, id, m.lines,
                    m.stderr_lines ? log_source::err : log_source::out);
    },
    [self](sim_set_up& m) { set_up(self, m); },
    [self](sim_stats_req) { return stats_of(self); },
    [self](sim_timer& m) {
      auto& timers = self->state.timers;
      auto i = timers.find(m.id);
      if (i == timers.end())
        return;
      auto f = std::move(i->second);
      timers.erase(i);
      f();
    });
}

} // namespace

sim_engine_actor spawn_sim_engine(caf::actor_system& sys, sim_options opts,
                                  std::shared_ptr<world> device) {
  return sys.spawn(sim_engine_impl, std::move(opts), std::move(device));
}

} // namespace bosun::sim
