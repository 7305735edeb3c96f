#include "actors/images/images.hpp"

#include "actors/apps/chaos_hook.hpp"
#include "actors/images/image_logic.hpp"
#include "actors/telemetry/counters.hpp"

#include <algorithm>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace bosun::images_detail {

// A fetch's backoff passed: check again, then pull.
struct retry_due {
  std::string key;
  uint64_t generation;
};
// A throttled progress value may be published now.
struct flush_due {
  std::string key;
  uint64_t generation;
};

} // namespace bosun::images_detail

BOSUN_MESSAGE(bosun::images_detail::retry_due)
BOSUN_MESSAGE(bosun::images_detail::flush_due)

namespace bosun {
namespace {

using namespace images_detail;
namespace logic = image_logic;

// The public interface, plus pull progress from the engine and our timers.
using impl_actor
  = images_actor::extend<caf::reacts_to<image_pull_event>,
                         caf::reacts_to<retry_due>, caf::reacts_to<flush_due>>;

enum class phase {
  checking, // inspecting the engine for it
  queued,   // waiting for a pull slot
  pulling,
  backoff, // waiting to try again
};

struct waiter {
  caf::typed_response_promise<image_fetched> rp;
  std::string image; // as this requester spelled it
  image_user user;
};

// One image being fetched, for however many requesters.
struct fetch_job {
  std::string pull_name; // normalised: never pulls "every tag"
  std::string shown;     // the name as first requested (progress, errors)
  std::optional<registry_auth> auth;
  std::vector<waiter> waiters;
  phase ph = phase::checking;
  uint32_t failures = 0;
  uint64_t generation = 0; // tells our stale timers apart
  logic::pull_tracker tracker;
  logic::progress_throttle throttle;
  bool flush_pending = false;
};

struct images_state {
  static inline const char* name = "images";

  engine_actor engine;
  images_options opts;
  std::map<std::string, fetch_job> jobs; // by normalised name
  std::deque<std::string> queue;
  size_t active = 0;
  uint64_t next_generation = 1;
  std::set<std::string> fetched; // normalised names fetched by us
  std::vector<image_listener_actor> listeners;
  images_telemetry counters;
};

using self_ptr = impl_actor::stateful_pointer<images_state>;

std::string why_of(const caf::error& e) {
  auto msg = engine_error_message(e);
  if (!msg.empty())
    return msg;
  if (e.category() == caf::atom("engine"))
    return render_engine_error(e);
  return caf::to_string(e);
}

std::vector<image_user> users_of(const fetch_job& job) {
  std::vector<image_user> out;
  for (auto& w : job.waiters)
    if (std::find(out.begin(), out.end(), w.user) == out.end())
      out.push_back(w.user);
  return out;
}

void publish(self_ptr self, const std::string& key, fetch_job& job) {
  auto pct = job.tracker.percent();
  auto now = self->clock().now();
  auto d = job.throttle.decide(pct, now);
  if (d.send) {
    job.throttle.sent(pct, now);
    image_progress ev{job.shown, pct, users_of(job), {}};
    for (auto& l : self->state.listeners)
      self->send(l, ev);
    return;
  }
  if (d.wait.count() > 0 && !job.flush_pending) {
    job.flush_pending = true;
    self->delayed_send(caf::actor_cast<impl_actor>(self), d.wait,
                       flush_due{key, job.generation});
  }
}

void finish_ok(self_ptr self, const std::string& key, const std::string& id,
               bool pulled) {
  auto& st = self->state;
  auto i = st.jobs.find(key);
  if (i == st.jobs.end())
    return;
  auto job = std::move(i->second);
  st.jobs.erase(i);
  if (pulled) {
    job.tracker.finish();
    publish(self, key, job); // 100 is never throttled
  }
  st.fetched.insert(key);
  for (auto& w : job.waiters) {
    ++st.counters.done;
    if (pulled)
      ++st.counters.pulled;
    w.rp.deliver(image_fetched{w.image, id, pulled});
  }
}

void finish_error(self_ptr self, const std::string& key, caf::error err) {
  auto& st = self->state;
  auto i = st.jobs.find(key);
  if (i == st.jobs.end())
    return;
  auto job = std::move(i->second);
  st.jobs.erase(i);
  st.counters.last_error = images_error_message(err);
  for (auto& w : job.waiters) {
    ++st.counters.failed;
    w.rp.deliver(err);
  }
}

void check(self_ptr self, const std::string& key);
void pump(self_ptr self);

// One attempt failed: back off and try again, or give up.
void attempt_failed(self_ptr self, const std::string& key,
                    const caf::error& err) {
  auto& st = self->state;
  auto i = st.jobs.find(key);
  if (i == st.jobs.end())
    return;
  auto& job = i->second;
  ++job.failures;
  auto msg = logic::fetch_failure_message(job.shown, why_of(err));
  st.counters.last_error = msg;
  if (job.failures >= st.opts.attempts)
    return finish_error(self, key,
                        caf::make_error(images_errc::fetch_failed, msg));
  job.ph = phase::backoff;
  job.generation = st.next_generation++;
  job.flush_pending = false;
  // The waiters learn of the failure now; the retry goes on.
  image_progress ev{job.shown, job.tracker.percent(), users_of(job), msg};
  for (auto& l : st.listeners)
    self->send(l, ev);
  auto delay = logic::retry_delay(job.failures, st.opts.backoff_initial,
                                  st.opts.backoff_max);
  self->delayed_send(caf::actor_cast<impl_actor>(self), delay,
                     retry_due{key, job.generation});
}

// Present on the engine? Then done; else queue a pull.
void check(self_ptr self, const std::string& key) {
  auto& st = self->state;
  auto i = st.jobs.find(key);
  if (i == st.jobs.end())
    return;
  i->second.ph = phase::checking;
  // Inspect by the name as requested: the engine resolves it as a pull would.
  self
    ->request(st.engine, st.opts.request_timeout,
              image_inspect_req{i->second.shown})
    .then(
      [self, key](image_inspect& img) { finish_ok(self, key, img.id, false); },
      [self, key](caf::error& e) {
        auto& st = self->state;
        auto i = st.jobs.find(key);
        if (i == st.jobs.end())
          return;
        if (e != engine_errc::not_found)
          return attempt_failed(self, key, e);
        if (!logic::has_registry(i->second.shown))
          return finish_error(
            self, key,
            caf::make_error(images_errc::not_available,
                            "Image '" + i->second.shown
                              + "' is not on the engine and names no "
                                "registry to download it from"));
        i->second.ph = phase::queued;
        st.queue.push_back(key);
        pump(self);
      });
}

void start_pull(self_ptr self, const std::string& key) {
  auto& st = self->state;
  auto& job = st.jobs.at(key);
  job.ph = phase::pulling;
  job.tracker = logic::pull_tracker{};
  job.throttle = logic::progress_throttle{st.opts.progress_interval};
  job.flush_pending = false;
  job.generation = st.next_generation++;
  ++st.active;
  ++st.counters.attempts;
  publish(self, key, job); // 0: the download started
  image_pull req;
  req.from_image = job.pull_name;
  req.auth = job.auth;
  auto gen = job.generation;
  auto done = [self, key, gen](caf::error err) {
    auto& st = self->state;
    --st.active;
    auto i = st.jobs.find(key);
    if (i != st.jobs.end() && i->second.generation == gen) {
      if (err)
        attempt_failed(self, key, err);
      else
        // The pull ended well: its id, by the name we pulled.
        self
          ->request(st.engine, st.opts.request_timeout,
                    image_inspect_req{i->second.pull_name})
          .then([self, key](
                  image_inspect& img) { finish_ok(self, key, img.id, true); },
                [self, key](caf::error& e) { attempt_failed(self, key, e); });
    }
    pump(self);
  };
  self
    ->request(st.engine, st.opts.pull_timeout,
              image_pull_req{std::move(req),
                             caf::actor_cast<pull_listener_actor>(self)})
    .then([done] { done(caf::error{}); },
          [done](caf::error& e) { done(std::move(e)); });
}

void pump(self_ptr self) {
  auto& st = self->state;
  while (st.active < st.opts.max_pulls && !st.queue.empty()) {
    auto key = std::move(st.queue.front());
    st.queue.pop_front();
    auto i = st.jobs.find(key);
    if (i != st.jobs.end() && i->second.ph == phase::queued)
      start_pull(self, key);
  }
}

// ------------------------------------------------------------- cleanup --

struct cleanup_run {
  caf::typed_response_promise<image_cleanup_result> rp;
  image_cleanup_result result;
  size_t outstanding = 0;
};

void cleanup_step_done(self_ptr self, const std::shared_ptr<cleanup_run>& run) {
  if (--run->outstanding == 0) {
    self->state.counters.removed += run->result.removed.size();
    run->rp.deliver(std::move(run->result));
  }
}

void remove_image(self_ptr self, const std::shared_ptr<cleanup_run>& run,
                  const std::string& ref, bool fetched_name) {
  ++run->outstanding;
  self
    ->request(self->state.engine, self->state.opts.request_timeout,
              image_remove_req{ref, false, false})
    .then(
      [self, run, ref, fetched_name](image_delete_result&) {
        run->result.removed.push_back(ref);
        if (fetched_name)
          self->state.fetched.erase(ref);
        cleanup_step_done(self, run);
      },
      [self, run, ref, fetched_name](caf::error& e) {
        if (e == engine_errc::conflict) {
          run->result.in_use.push_back(ref);
        } else if (e == engine_errc::not_found) {
          if (fetched_name)
            self->state.fetched.erase(ref); // gone already
        } else {
          run->result.failed.push_back(ref + ": " + why_of(e));
        }
        cleanup_step_done(self, run);
      });
}

void run_cleanup(self_ptr self, const std::shared_ptr<cleanup_run>& run,
                 image_list& images, const image_cleanup& req) {
  auto& st = self->state;
  string_list fetched{st.fetched.begin(), st.fetched.end()};
  fetched.insert(fetched.end(), req.fetched.begin(), req.fetched.end());
  // An image being fetched right now is needed, whatever `keep` says.
  fetched.erase(std::remove_if(fetched.begin(), fetched.end(),
                               [&](const std::string& f) {
                                 return st.jobs.count(logic::normalise_name(f))
                                        > 0;
                               }),
                fetched.end());
  auto keep = req.keep;
  for (auto& [key, job] : st.jobs)
    keep.push_back(key);
  auto plan = logic::plan_cleanup(images, keep, fetched);
  for (auto& f : plan.forget)
    st.fetched.erase(f);
  run->outstanding = 1; // held until every removal is sent
  for (auto& n : plan.remove_names)
    remove_image(self, run, n, true);
  if (req.dangling)
    for (auto& id : plan.remove_ids)
      remove_image(self, run, id, false);
  cleanup_step_done(self, run);
}

// ------------------------------------------------------------ behaviour --

impl_actor::behavior_type images_impl(self_ptr self, engine_actor engine,
                                      images_options opts) {
  self->state.engine = std::move(engine);
  self->state.opts = opts;
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& ls = self->state.listeners;
    ls.erase(
      std::remove_if(ls.begin(), ls.end(),
                     [&](const auto& l) { return l.address() == dm.source; }),
      ls.end());
  });
  return telemetry::instrument(
    self, {"images", [self] { return self->state.counters.last_error; }, {}},
    [self](image_fetch& req) -> caf::typed_response_promise<image_fetched> {
      auto& st = self->state;
      auto rp = self->make_response_promise<image_fetched>();
      auto key = logic::normalise_name(req.image);
      if (key.empty()) {
        ++st.counters.failed;
        rp.deliver(caf::make_error(
          images_errc::fetch_failed,
          logic::fetch_failure_message(req.image, "empty image name")));
        return rp;
      }
      waiter w{rp, req.image, image_user{req.app_id, req.service_name}};
      auto i = st.jobs.find(key);
      if (i != st.jobs.end()) {
        // Already on its way: share it.
        if (!i->second.auth && req.auth)
          i->second.auth = std::move(req.auth);
        i->second.waiters.push_back(std::move(w));
        return rp;
      }
      fetch_job job;
      job.pull_name = logic::is_image_id(req.image) ? req.image : key;
      job.shown = req.image;
      job.auth = std::move(req.auth);
      job.waiters.push_back(std::move(w));
      job.throttle = logic::progress_throttle{st.opts.progress_interval};
      job.generation = st.next_generation++;
      st.jobs.emplace(key, std::move(job));
      check(self, key);
      return rp;
    },
    [self](
      image_cleanup& req) -> caf::typed_response_promise<image_cleanup_result> {
      auto run = std::make_shared<cleanup_run>();
      run->rp = self->make_response_promise<image_cleanup_result>();
      auto rp = run->rp;
      self
        ->request(self->state.engine, self->state.opts.request_timeout,
                  image_list_req{})
        .then([self, run, req](
                image_list& images) { run_cleanup(self, run, images, req); },
              [run](caf::error& e) { run->rp.deliver(e); });
      return rp;
    },
    [self](image_subscribe& req) {
      if (!req.listener)
        return;
      self->monitor(req.listener);
      self->state.listeners.push_back(std::move(req.listener));
    },
    [self](caf::get_atom) {
      auto& st = self->state;
      auto t = st.counters;
      t.pulling = st.active;
      t.queued = st.queue.size();
      t.retrying = static_cast<uint64_t>(
        std::count_if(st.jobs.begin(), st.jobs.end(), [](const auto& j) {
          return j.second.ph == phase::backoff;
        }));
      return t;
    },
    // -- pull progress from the engine
    [self](image_pull_event& ev) {
      auto& st = self->state;
      auto key = logic::normalise_name(ev.image);
      auto i = st.jobs.find(key);
      if (i == st.jobs.end() || i->second.ph != phase::pulling)
        return;
      chaos::reached("pull", chaos::phase::after); // a kill mid-pull
      i->second.tracker.add(ev.progress);
      publish(self, key, i->second);
    },
    // -- timers
    [self](retry_due& m) {
      auto i = self->state.jobs.find(m.key);
      if (i == self->state.jobs.end() || i->second.generation != m.generation
          || i->second.ph != phase::backoff)
        return;
      check(self, m.key);
    },
    [self](flush_due& m) {
      auto i = self->state.jobs.find(m.key);
      if (i == self->state.jobs.end() || i->second.generation != m.generation)
        return;
      i->second.flush_pending = false;
      if (i->second.ph == phase::pulling)
        publish(self, m.key, i->second);
    });
}

} // namespace

images_actor spawn_images(caf::actor_system& sys, engine_actor engine,
                          images_options opts) {
  return sys.spawn(images_impl, std::move(engine), opts);
}

void add_images_error_renderer(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::atom("images"), [](uint8_t code, caf::atom_value,
                                                 const caf::message& ctx) {
    std::string out = "images ";
    out += to_string(static_cast<images_errc>(code));
    if (ctx.size() == 1 && ctx.match_element<std::string>(0)) {
      out += ": ";
      out += ctx.get_as<std::string>(0);
    }
    return out;
  });
}

} // namespace bosun
