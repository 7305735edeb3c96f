// One service's supervisor. Over 600 lines because its state machine (apply,
// adopt, start/stop/restart/remove, exits, health, engine up/down) reads best
// in one place; the pure parts (restart_policy, event_lines) are apart.

#include "actors/apps/service_supervisor.hpp"

#include "actors/apps/chaos_hook.hpp"
#include "actors/apps/event_lines.hpp"
#include "actors/telemetry/counters.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <string_view>
#include <tuple>
#include <utility>

namespace bosun {
namespace {

using std::chrono::milliseconds;
using self_ptr = service_supervisor_pointer;
using clock_tp = caf::actor_clock::time_point;
using done_fn = std::function<void(const caf::error&)>;

// ------------------------------------------------------------- helpers --

clock_tp now(self_ptr self) {
  return self->clock().now();
}

milliseconds ran_for(self_ptr self) {
  const auto& started = self->state.status.started_at;
  if (!started)
    return milliseconds{0};
  return std::chrono::duration_cast<milliseconds>(now(self) - *started);
}

// The engine is away (down, not answering, or its actor gone): nothing is
// wrong with the container, so such failures never consume the policy.
bool engine_away(const caf::error& e) {
  return e == engine_errc::unavailable || e == engine_errc::timeout
         || e == caf::sec::request_timeout
         || e == caf::sec::request_receiver_down;
}

// The engine kept the task of the container's last run across its own
// restart ("task <id>: already exists"): that container cannot start again,
// a fresh one from the same spec can (as `docker rm -f` then `docker run`).
bool stale_task(self_ptr self, const caf::error& e) {
  if (e != engine_errc::server_error)
    return false;
  auto text = self->system().render(e);
  return text.find("task ") != std::string::npos
         && text.find("already exists") != std::string::npos;
}

// Docker's zero time, as State.FinishedAt of a container that never exited.
bool never(const std::string& stamp) {
  return stamp.empty() || stamp.rfind("0001-01-01", 0) == 0;
}

auto fields(const service_status& s) {
  return std::tie(s.app_uuid, s.app_id, s.service_name, s.container_id, s.phase,
                  s.restart, s.desired_running, s.restart_count,
                  s.last_exit_code, s.last_exit_at, s.last_exit_finished_at,
                  s.started_at, s.backoff, s.next_restart_at,
                  s.consecutive_restarts, s.crash_looping, s.health,
                  s.engine_up, s.last_error);
}

// Copies the policy's view into the status.
void sync(service_supervisor_state& st) {
  st.status.backoff = st.policy.backoff();
  st.status.consecutive_restarts = st.policy.consecutive();
  st.status.crash_looping = st.policy.crash_looping();
}

// Sends the status to the listener when anything changed since last time.
void publish(self_ptr self) {
  auto& st = self->state;
  sync(st);
  if (st.sent && fields(*st.sent) == fields(st.status))
    return;
  ++st.status.revision;
  st.sent = st.status;
  if (st.listener)
    self->send(st.listener, st.status);
}

void set_phase(self_ptr self, service_phase p) {
  self->state.status.phase = p;
  publish(self);
}

void fail(self_ptr self, const caf::error& e) {
  self->state.status.last_error = render_engine_error(e);
}

// One system line about this service, named as balena names it.
void tell(self_ptr self, const char* what, const std::string& error = {}) {
  auto& st = self->state;
  if (!st.opts.logs || !st.spec)
    return;
  auto object = apps::service_object(st.spec->service_name,
                                     st.spec->container.config.image);
  apps::send_line(st.opts.logs, system_event(what, object, error));
}

void tell(self_ptr self, const char* what, const caf::error& e) {
  tell(self, what, render_engine_error(e));
}

// -------------------------------------------------- one op at a time --

using next_fn = std::function<void()>;

void pump(self_ptr self) {
  auto& st = self->state;
  if (st.pumping)
    return; // an op ended synchronously: the loop below goes on
  st.pumping = true;
  while (!st.busy && !st.ops.empty()) {
    auto op = std::move(st.ops.front());
    st.ops.pop_front();
    st.busy = true;
    op();
  }
  st.pumping = false;
  // Removed: every command queued behind the remove has been refused; done.
  if (!st.busy && st.status.phase == service_phase::removed)
    self->quit();
}

void op_done(self_ptr self) {
  self->state.busy = false;
  publish(self);
  pump(self);
}

// Queues `op(next)` after the ops already queued; every op ends by calling
// `next` exactly once, which runs the following op.
template <class F>
void then_pump(self_ptr self, F op) {
  self->state.ops.emplace_back(
    [self, op]() mutable { op(next_fn{[self] { op_done(self); }}); });
  pump(self);
}

// ------------------------------------------------------ engine calls --

milliseconds call_timeout(self_ptr self, std::optional<int64_t> extra_s = {}) {
  return self->state.opts.request_timeout
         + std::chrono::seconds(extra_s.value_or(0));
}

// The stop timeout the engine will use: the given one, else the
// container's StopTimeout, else Docker's 10 s.
int64_t stop_seconds(self_ptr self, std::optional<int64_t> timeout_s) {
  if (timeout_s)
    return *timeout_s;
  const auto& spec = self->state.spec;
  if (spec && spec->container.config.stop_timeout)
    return *spec->container.config.stop_timeout;
  return 10;
}

void schedule_timer(self_ptr self, milliseconds delay, service_timer_kind k) {
  self->delayed_send(self, delay, service_timer{k, self->state.epoch});
}

// The container runs (we started it, or saw it running).
void enter_running(self_ptr self, bool counted) {
  auto& st = self->state;
  auto& s = st.status;
  ++st.epoch;
  s.phase = service_phase::running;
  s.started_at = now(self);
  s.next_restart_at.reset();
  s.last_error.clear();
  if (counted)
    ++s.restart_count;
  schedule_timer(self, st.policy.options().stable_after,
                 service_timer_kind::stable);
  schedule_timer(self, st.policy.options().reset_after,
                 service_timer_kind::settled);
  publish(self);
}

void schedule_restart(self_ptr self, milliseconds delay) {
  auto& st = self->state;
  ++st.epoch;
  st.status.phase = service_phase::backing_off;
  st.status.next_restart_at = now(self) + delay;
  schedule_timer(self, delay, service_timer_kind::restart);
  publish(self);
}

// The container stopped running by itself (or was killed from outside).
void handle_exit(self_ptr self, int64_t exit_code) {
  auto& st = self->state;
  auto& s = st.status;
  auto ran = ran_for(self);
  ++st.epoch;
  s.last_exit_code = exit_code;
  s.last_exit_at = now(self);
  s.started_at.reset();
  st.restart_cause.clear();
  tell(self, apps::lines::service_exited);
  if (!s.desired_running) {
    set_phase(self, service_phase::stopped);
    return;
  }
  auto d = st.policy.on_exit(exit_code, ran);
  if (d.restart)
    schedule_restart(self, d.delay);
  else
    set_phase(self, service_phase::exited);
}

// Records what an inspection says about the last exit, once per exit.
void record_exit(self_ptr self, const container_inspect& info) {
  auto& st = self->state;
  const auto& fin = info.state.finished_at;
  if (never(fin) || fin == st.seen_finished_at)
    return;
  st.seen_finished_at = fin;
  st.status.last_exit_code = info.state.exit_code;
  st.status.last_exit_finished_at = fin;
}

void record_health(self_ptr self, const container_inspect& info) {
  auto& h = self->state.status.health;
  h = info.state.health && info.state.health->status != "none"
        ? info.state.health->status
        : std::string{};
}

// A start (or create) failed for a reason of the container's own: the policy
// decides as for an exit that never ran. When the engine is away, the start
// is retried after the current backoff instead, and as soon as it is back.
void start_failed(self_ptr self, const caf::error& e) {
  auto& st = self->state;
  fail(self, e);
  if (engine_away(e)) {
    st.start_deferred = true;
    auto delay = st.policy.backoff() > milliseconds{0}
                   ? st.policy.backoff()
                   : st.policy.options().first_delay;
    schedule_restart(self, delay);
    return;
  }
  st.status.last_exit_code = -1;
  st.status.last_exit_at = now(self);
  auto d = st.policy.on_exit(-1, milliseconds{0});
  if (d.restart)
    schedule_restart(self, d.delay);
  else
    set_phase(self, service_phase::failed);
}

// Creating the container for a spec failed. The engine's refusal (image
// missing, bad spec) waits for the next command; the engine's absence is
// retried like a start, when it should run.
void create_failed(self_ptr self, const caf::error& e) {
  if (engine_away(e) && self->state.status.desired_running)
    return start_failed(self, e);
  fail(self, e);
  set_phase(self, service_phase::failed);
}

// Joins the extra networks of the spec, one after the other, then calls k.
void connect_networks(
  self_ptr self, std::map<std::string, endpoint_settings>::const_iterator it,
  const done_fn& k) {
  auto& st = self->state;
  if (!st.spec || it == st.spec->extra_networks.end())
    return k({});
  network_connect_req req;
  req.network = it->first;
  req.spec.container = st.status.container_id;
  req.spec.endpoint_config = it->second;
  self->request(st.engine, call_timeout(self), req)
    .then([self, it, k] { connect_networks(self, std::next(it), k); },
          [self, k](caf::error& e) {
            fail(self, e);
            k(e);
          });
}

void create_container(self_ptr self, bool show_installing, const done_fn& k) {
  auto& st = self->state;
  auto before = st.status.phase;
  if (show_installing)
    set_phase(self, service_phase::installing);
  tell(self, apps::lines::installing_service);
  chaos::reached("create", chaos::phase::before);
  self
    ->request(st.engine, call_timeout(self),
              container_create_req{st.spec->container})
    .then(
      [self, before, show_installing, k](std::string& id) {
        chaos::reached("create", chaos::phase::after);
        auto& st = self->state;
        st.status.container_id = std::move(id);
        st.status.health.clear();
        st.seen_finished_at.clear();
        st.status.last_error.clear();
        if (!show_installing)
          st.status.phase = before;
        publish(self);
        connect_networks(self, st.spec->extra_networks.begin(),
                         [self, k](const caf::error& e) {
                           if (e)
                             tell(self, apps::lines::install_failed, e);
                           else
                             tell(self, apps::lines::installed_service);
                           k(e);
                         });
      },
      [self, k](caf::error& e) {
        fail(self, e);
        if (!engine_away(e))
          tell(self, apps::lines::install_failed, e);
        k(e);
      });
}

void remove_container(self_ptr self, bool volumes, const done_fn& k);

// Starts the container (creating it first when it is gone). On failure the
// policy (or the engine's absence) decides what happens next; k gets the
// error for the command that asked.
void start_container(self_ptr self, bool counted, bool may_create,
                     service_phase phase, const done_fn& k) {
  auto& st = self->state;
  if (st.status.container_id.empty()) {
    if (!may_create) {
      auto e = caf::make_error(engine_errc::not_found, "container is gone");
      start_failed(self, e);
      return k(e);
    }
    return create_container(self, false,
                            [self, counted, phase, k](const caf::error& e) {
                              if (e) {
                                start_failed(self, e);
                                return k(e);
                              }
                              start_container(self, counted, false, phase, k);
                            });
  }
  set_phase(self, phase);
  // A restart is told once it happened (as balena tells the engine's
  // restarts: when the container starts again after it died).
  bool restart = phase == service_phase::restarting;
  if (!restart)
    tell(self, apps::lines::starting_service);
  self
    ->request(st.engine, call_timeout(self),
              container_start_req{st.status.container_id})
    .then(
      [self, counted, restart, k] {
        auto& st = self->state;
        st.start_deferred = false;
        if (restart) {
          tell(self, apps::lines::restarting_service, st.restart_cause);
          st.restart_cause.clear();
        } else {
          tell(self, apps::lines::started_service);
        }
        enter_running(self, counted);
        k({});
      },
      [self, counted, may_create, phase, k](caf::error& e) {
        auto& st = self->state;
        if (e == engine_errc::not_modified) { // it already runs
          st.start_deferred = false;
          enter_running(self, false);
          return k({});
        }
        if (e == engine_errc::not_found && may_create) {
          st.status.container_id.clear();
          return start_container(self, counted, false, phase, k);
        }
        if (stale_task(self, e) && st.spec) {
          tell(self, apps::lines::start_failed, e);
          return remove_container(
            self, false, [self, counted, phase, k](const caf::error& re) {
              if (re) {
                start_failed(self, re);
                return k(re);
              }
              start_container(self, counted, true, phase, k);
            });
        }
        // The engine's absence is the engine's news, not the service's:
        // the start is retried when it is back.
        if (!engine_away(e))
          tell(self, apps::lines::start_failed, e);
        start_failed(self, e);
        k(e);
      });
}

// Stops the container (already stopped and gone count as stopped).
void stop_container(self_ptr self, std::optional<int64_t> timeout_s,
                    const done_fn& k) {
  auto& st = self->state;
  ++st.epoch; // no restart or run timer survives a stop
  st.status.next_restart_at.reset();
  st.restart_cause.clear();
  if (st.status.container_id.empty())
    return k({});
  set_phase(self, service_phase::stopping);
  tell(self, apps::lines::killing_service);
  auto secs = stop_seconds(self, timeout_s);
  self
    ->request(st.engine, call_timeout(self, secs),
              container_stop_req{st.status.container_id, timeout_s})
    .then(
      [self, k] {
        self->state.status.started_at.reset();
        tell(self, apps::lines::killed_service);
        k({});
      },
      [self, k](caf::error& e) {
        auto& st = self->state;
        if (e == engine_errc::not_modified || e == engine_errc::not_found) {
          if (e == engine_errc::not_found)
            st.status.container_id.clear();
          st.status.started_at.reset();
          tell(self, apps::lines::killed_service);
          return k({});
        }
        fail(self, e);
        tell(self, apps::lines::kill_failed, e);
        k(e);
      });
}

void remove_container(self_ptr self, bool volumes, const done_fn& k) {
  auto& st = self->state;
  if (st.status.container_id.empty())
    return k({});
  set_phase(self, service_phase::removing);
  self
    ->request(st.engine, call_timeout(self),
              container_remove_req{st.status.container_id, true, volumes})
    .then(
      [self, k] {
        self->state.status.container_id.clear();
        k({});
      },
      [self, k](caf::error& e) {
        if (e == engine_errc::not_found) {
          self->state.status.container_id.clear();
          return k({});
        }
        fail(self, e);
        k(e);
      });
}

// Stops and removes the current container: the spec changed.
void discard_container(self_ptr self, const done_fn& k) {
  stop_container(self, std::nullopt, [self, k](const caf::error& e) {
    if (e)
      return k(e);
    remove_container(self, false, [self, k](const caf::error& e) {
      if (e)
        return k(e);
      auto& st = self->state;
      st.status.restart_count = 0;
      st.status.health.clear();
      st.policy.reset();
      k({});
    });
  });
}

// Brings a container whose running state is `running_now` to the desired
// state: starts it, or stops it.
void converge(self_ptr self, bool running_now, const done_fn& k) {
  auto& s = self->state.status;
  if (s.desired_running) {
    if (running_now) {
      if (s.phase != service_phase::running)
        enter_running(self, false);
      return k({});
    }
    return start_container(self, false, true, service_phase::starting, k);
  }
  if (!running_now) {
    ++self->state.epoch;
    s.next_restart_at.reset();
    set_phase(self, service_phase::stopped);
    return k({});
  }
  stop_container(self, std::nullopt, [self, k](const caf::error& e) {
    if (!e)
      set_phase(self, service_phase::stopped);
    k(e);
  });
}

void inspect(self_ptr self,
             const std::function<void(caf::expected<container_inspect>)>& k) {
  auto& st = self->state;
  self
    ->request(st.engine, call_timeout(self),
              container_inspect_req{st.status.container_id})
    .then([k](container_inspect& info) { k(std::move(info)); },
          [k](caf::error& e) { k(std::move(e)); });
}

// Takes an existing container as ours (or creates one when it is gone).
void adopt(self_ptr self, std::string id, const done_fn& k) {
  auto& st = self->state;
  st.status.container_id = std::move(id);
  inspect(self, [self, k](caf::expected<container_inspect> info) {
    auto& st = self->state;
    if (!info) {
      if (info.error() != engine_errc::not_found) {
        fail(self, info.error());
        return k(info.error());
      }
      st.status.container_id.clear();
      return create_container(self, true, [self, k](const caf::error& e) {
        if (e) {
          create_failed(self, e);
          return k(e);
        }
        converge(self, false, k);
      });
    }
    st.status.container_id = info->id;
    record_health(self, *info);
    // An exit from before we adopted it is history, not ours to act on.
    record_exit(self, *info);
    converge(self, info->state.running, k);
  });
}

// -------------------------------------------------------------- checks --

// The container vanished (removed behind our back): create it again from
// the spec; start it only if it should be running and the policy agrees.
void container_gone(self_ptr self, const done_fn& k) {
  auto& st = self->state;
  st.status.container_id.clear();
  st.status.health.clear();
  switch (st.status.phase) {
    case service_phase::idle:
    case service_phase::installing:
    case service_phase::removing:
    case service_phase::removed:
      return k({});
    case service_phase::running:
    case service_phase::starting:
    case service_phase::restarting:
      handle_exit(self, -1); // it died with it; the code is lost
      break;
    default:
      break;
  }
  if (!st.spec)
    return k({});
  // When backing off, the restart timer starts the new container.
  create_container(self, false, k);
}

void observe(self_ptr self, const container_inspect& info, bool engine_back,
             const done_fn& k) {
  auto& st = self->state;
  record_health(self, info);
  if (info.state.running) {
    if (st.status.phase != service_phase::running)
      enter_running(self, false); // started from outside, or just now
    return k({});
  }
  auto phase = st.status.phase;
  record_exit(self, info);
  if (phase == service_phase::running) {
    handle_exit(self, info.state.exit_code);
    return k({});
  }
  if (engine_back && st.start_deferred && phase == service_phase::backing_off) {
    return start_container(self, true, true, service_phase::restarting,
                           [k](const caf::error&) { k({}); });
  }
  k({});
}

void check(self_ptr self, bool engine_back, const done_fn& k) {
  auto& st = self->state;
  if (st.status.container_id.empty()) {
    if (engine_back && st.start_deferred
        && st.status.phase == service_phase::backing_off)
      return start_container(self, true, true, service_phase::restarting,
                             [k](const caf::error&) { k({}); });
    return k({});
  }
  inspect(self, [self, engine_back, k](caf::expected<container_inspect> info) {
    if (info)
      return observe(self, *info, engine_back, k);
    if (info.error() == engine_errc::not_found)
      return container_gone(self, k);
    if (!engine_away(info.error()))
      fail(self, info.error());
    k({});
  });
}

void queue_check(self_ptr self, bool engine_back) {
  auto& st = self->state;
  if (st.check_queued && !engine_back)
    return;
  st.check_queued = true;
  then_pump(self, [self, engine_back](auto next) {
    self->state.check_queued = false;
    check(self, engine_back, [next](const caf::error&) { next(); });
  });
}

// Healthcheck said unhealthy: confirm, then stop and restart per policy.
void on_unhealthy(self_ptr self, const next_fn& next) {
  auto& st = self->state;
  if (st.status.phase != service_phase::running
      || st.status.container_id.empty())
    return next();
  inspect(self, [self, next](caf::expected<container_inspect> info) {
    auto& st = self->state;
    if (!info || !info->state.running || !info->state.health
        || info->state.health->status != "unhealthy"
        || st.status.phase != service_phase::running)
      return next();
    record_health(self, *info);
    auto d = st.policy.on_unhealthy(ran_for(self));
    publish(self);
    if (!d.restart)
      return next();
    stop_container(self, std::nullopt, [self, d, next](const caf::error& e) {
      auto& st = self->state;
      if (e) {
        // Could not stop it: it keeps running; the next event decides.
        st.status.phase = service_phase::running;
        publish(self);
        return next();
      }
      st.status.last_exit_at = now(self);
      if (!st.status.desired_running) {
        set_phase(self, service_phase::stopped);
      } else {
        st.restart_cause = "unhealthy";
        schedule_restart(self, d.delay);
      }
      next();
    });
  });
}

// ------------------------------------------------------------ commands --

void apply_spec(self_ptr self, service_apply spec,
                caf::typed_response_promise<std::string> rp,
                const next_fn& next) {
  auto& st = self->state;
  auto& s = st.status;
  s.app_uuid = spec.app_uuid;
  s.app_id = spec.app_id;
  s.service_name = spec.service_name;
  s.restart = spec.restart;
  s.desired_running = spec.running;
  st.policy.set_mode(spec.restart);
  auto adopt_id = spec.container_id;
  st.spec = std::move(spec);
  publish(self);
  done_fn reply = [self, rp, next](const caf::error& e) mutable {
    if (e)
      rp.deliver(e);
    else
      rp.deliver(self->state.status.container_id);
    next();
  };
  auto current = s.container_id;
  auto create_new = [self, reply](const caf::error& e) {
    if (e)
      return reply(e);
    create_container(self, true, [self, reply](const caf::error& e) {
      if (e) {
        create_failed(self, e);
        return reply(e);
      }
      converge(self, false, reply);
    });
  };
  if (adopt_id && (current.empty() || *adopt_id == current))
    return adopt(self, *adopt_id, reply);
  if (adopt_id) // another container: ours goes
    return discard_container(self,
                             [self, adopt_id, reply](const caf::error& e) {
                               if (e)
                                 return reply(e);
                               adopt(self, *adopt_id, reply);
                             });
  if (!current.empty())
    return discard_container(self, create_new);
  create_new({});
}

template <class Reply>
done_fn status_reply(self_ptr self, Reply rp, const next_fn& next) {
  return [self, rp, next](const caf::error& e) mutable {
    publish(self);
    if (e)
      rp.deliver(e);
    else
      rp.deliver(self->state.status);
    next();
  };
}

void start_service(self_ptr self, const done_fn& k) {
  auto& st = self->state;
  st.status.desired_running = true;
  st.spec->running = true;
  st.policy.reset(); // the user asked: start afresh, no backoff
  ++st.epoch;
  st.status.next_restart_at.reset();
  if (st.status.container_id.empty())
    return start_container(self, false, true, service_phase::starting, k);
  inspect(self, [self, k](caf::expected<container_inspect> info) {
    auto& st = self->state;
    if (!info && info.error() == engine_errc::not_found) {
      st.status.container_id.clear();
      return start_container(self, false, true, service_phase::starting, k);
    }
    if (!info) {
      fail(self, info.error());
      return k(info.error());
    }
    record_health(self, *info);
    record_exit(self, *info);
    converge(self, info->state.running, k);
  });
}

void stop_service(self_ptr self, std::optional<int64_t> timeout_s,
                  const done_fn& k) {
  auto& st = self->state;
  st.status.desired_running = false;
  st.spec->running = false;
  stop_container(self, timeout_s, [self, k](const caf::error& e) {
    if (!e)
      set_phase(self, service_phase::stopped);
    k(e);
  });
}

// The device API's restart, as balena's: kill and remove the container,
// then create and start a new one from the spec (counted as a restart). The
// policy's restarts after an exit start the same container again instead.
void restart_service(self_ptr self, std::optional<int64_t> timeout_s,
                     const done_fn& k) {
  auto& st = self->state;
  st.status.desired_running = true;
  st.spec->running = true;
  st.restart_cause.clear(); // the user asked
  stop_container(self, timeout_s, [self, k](const caf::error& e) {
    if (e)
      return k(e);
    remove_container(self, false, [self, k](const caf::error& e) {
      if (e)
        return k(e);
      start_container(self, true, true, service_phase::starting, k);
    });
  });
}

void remove_service(self_ptr self, service_remove req,
                    caf::typed_response_promise<service_status> rp,
                    const next_fn& next) {
  auto& st = self->state;
  st.status.desired_running = false;
  if (st.spec)
    st.spec->running = false;
  stop_container(
    self, req.timeout_s, [self, req, rp, next](const caf::error& e) mutable {
      auto fail_with = [self, rp, next](const caf::error& e) mutable {
        set_phase(self, service_phase::failed);
        rp.deliver(e);
        next();
      };
      if (e)
        return fail_with(e);
      remove_container(
        self, req.volumes,
        [self, rp, next, fail_with](const caf::error& e) mutable {
          if (e)
            return fail_with(e);
          set_phase(self, service_phase::removed);
          rp.deliver(self->state.status);
          next(); // refuses what is queued, then quits
        });
    });
}

// Delivers an error for a command that cannot run: nothing applied yet, or
// the container was removed (the actor is about to quit).
template <class T>
bool refused(self_ptr self, caf::typed_response_promise<T>& rp,
             bool needs_spec = true) {
  if (self->state.status.phase == service_phase::removed) {
    rp.deliver(caf::make_error(supervisor_errc::removed,
                               "the service's container was removed"));
    return true;
  }
  if (!needs_spec || self->state.spec)
    return false;
  rp.deliver(
    caf::make_error(supervisor_errc::no_spec, "no service_apply received yet"));
  return true;
}

void on_timer(self_ptr self, const service_timer& t) {
  auto& st = self->state;
  if (t.epoch != st.epoch)
    return; // a newer run, stop or command made it moot
  switch (t.kind) {
    case service_timer_kind::restart:
      if (st.status.phase != service_phase::backing_off)
        return;
      then_pump(self, [self, epoch = t.epoch](auto next) {
        auto& st = self->state;
        // A command queued before this op may have changed the plan.
        if (epoch != st.epoch || st.status.phase != service_phase::backing_off)
          return next();
        st.status.next_restart_at.reset();
        start_container(self, true, true, service_phase::restarting,
                        [next](const caf::error&) { next(); });
      });
      return;
    case service_timer_kind::stable:
    case service_timer_kind::settled:
      if (st.status.phase != service_phase::running)
        return;
      if (st.policy.on_running(ran_for(self)))
        publish(self);
      return;
  }
}

void on_engine_event(self_ptr self, const engine_event& ev) {
  auto& st = self->state;
  if (ev.kind != engine_object::container || st.status.container_id.empty()
      || ev.actor_id != st.status.container_id)
    return;
  switch (ev.verb) {
    case engine_verb::health_status:
      st.status.health = ev.health;
      publish(self);
      if (ev.health == "unhealthy")
        then_pump(self, [self](auto next) { on_unhealthy(self, next); });
      return;
    case engine_verb::die:
    case engine_verb::start:
    case engine_verb::destroy:
    case engine_verb::restart:
    case engine_verb::stop:
      queue_check(self, false);
      return;
    default:
      // exec_* (healthcheck runs), attach, resize, ... tell nothing new.
      return;
  }
}

void on_engine_status(self_ptr self, const engine_status& es) {
  auto& st = self->state;
  bool was_up = st.status.engine_up;
  st.status.engine_up = es.state == engine_state::up;
  if (st.status.engine_up && !was_up && st.spec)
    queue_check(self, true);
  publish(self);
}

} // namespace

service_supervisor_actor::behavior_type
service_supervisor(service_supervisor_pointer self, engine_actor engine,
                   service_status_listener listener, supervisor_options opts) {
  auto& st = self->state;
  st.engine = std::move(engine);
  st.listener = std::move(listener);
  st.opts = opts;
  st.policy = apps::restart_policy{restart_mode::always, opts.policy};
  engine_listener_actor me = self;
  self->request(st.engine, call_timeout(self), engine_subscribe{me})
    .then([self](engine_status& es) { on_engine_status(self, es); },
          [self](caf::error& e) { fail(self, e); });
  return telemetry::instrument(
    self,
    {"service_supervisor",
     [self] { return self->state.status.last_error; },
     {}},
    [self](service_apply& spec) {
      auto rp = self->make_response_promise<std::string>();
      then_pump(self, [self, spec = std::move(spec), rp](auto next) mutable {
        if (refused(self, rp, false))
          return next();
        apply_spec(self, spec, rp, next);
      });
      return rp;
    },
    [self](service_start) {
      auto rp = self->make_response_promise<service_status>();
      then_pump(self, [self, rp](auto next) mutable {
        if (refused(self, rp))
          return next();
        start_service(self, status_reply(self, rp, next));
      });
      return rp;
    },
    [self](service_stop req) {
      auto rp = self->make_response_promise<service_status>();
      then_pump(self, [self, req, rp](auto next) mutable {
        if (refused(self, rp))
          return next();
        stop_service(self, req.timeout_s, status_reply(self, rp, next));
      });
      return rp;
    },
    [self](service_restart req) {
      auto rp = self->make_response_promise<service_status>();
      then_pump(self, [self, req, rp](auto next) mutable {
        if (refused(self, rp))
          return next();
        restart_service(self, req.timeout_s, status_reply(self, rp, next));
      });
      return rp;
    },
    [self](service_remove req) {
      auto rp = self->make_response_promise<service_status>();
      then_pump(self, [self, req, rp](auto next) mutable {
        if (self->state.status.phase == service_phase::removed) {
          rp.deliver(self->state.status);
          return next();
        }
        remove_service(self, req, rp, next);
      });
      return rp;
    },
    [self](caf::get_atom) {
      sync(self->state);
      return self->state.status;
    },
    [self](const engine_event& ev) { on_engine_event(self, ev); },
    [self](const engine_status& es) { on_engine_status(self, es); },
    [self](const service_timer& t) { on_timer(self, t); });
}

service_supervisor_actor
spawn_service_supervisor(caf::actor_system& sys, engine_actor engine,
                         service_status_listener listener,
                         supervisor_options opts) {
  return sys.spawn(service_supervisor, std::move(engine), std::move(listener),
                   opts);
}

} // namespace bosun
