#include "actors/telemetry/telemetry.hpp"

#include "actors/telemetry/counters.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace bosun {

namespace {

using promise_t = caf::typed_response_promise<telemetry_snapshot>;

struct node {
  actor_report report;
  size_t depth = 0;
  std::vector<size_t> kids; // indices into walk::nodes
};

// One collection: every actor asked once; done when nothing is pending.
struct walk {
  root_actor root;
  std::vector<promise_t> promises;
  std::vector<node> nodes; // nodes[0] is root
  std::optional<std::vector<child_status>> statuses;
  telemetry_snapshot snap;
  size_t pending = 0;
  std::chrono::steady_clock::time_point start;
  caf::actor_clock::time_point started_at; // on the actor's clock
  std::set<caf::actor_addr> seen;          // every actor this walk met
};

struct telemetry_state {
  static inline const char* name = "telemetry";
  telemetry_options opts;
  std::shared_ptr<walk> current;
  std::vector<std::pair<root_actor, promise_t>> waiting;
  // The last snapshot, its root, and when its walk started.
  std::optional<telemetry_snapshot> last;
  root_actor last_root;
  caf::actor_clock::time_point last_start;
  // Actors that answered telemetry_atom with unexpected_message: not asked
  // again (CAF prints every unexpected message), just reported.
  std::set<caf::actor_addr> silent;
};

using self_ptr = telemetry_actor::stateful_pointer<telemetry_state>;
using walk_ptr = std::shared_ptr<walk>;

std::string describe(self_ptr self, const caf::error& e) {
  if (e == caf::sec::unexpected_message)
    return "does not report telemetry";
  if (e == caf::sec::request_timeout)
    return "no answer within "
           + std::to_string(self->state.opts.ask_timeout.count()) + " ms";
  if (e == caf::sec::request_receiver_down)
    return "gone";
  return self->system().render(e);
}

void start_walk(self_ptr self);

// Depth-first, parents before children, in the order parents named them.
void flatten(walk& w, size_t i, std::vector<actor_report>& out) {
  out.push_back(std::move(w.nodes[i].report));
  for (auto k : w.nodes[i].kids)
    flatten(w, k, out);
}

void finish(self_ptr self, const walk_ptr& w) {
  if (w->statuses)
    for (auto& st : *w->statuses)
      for (auto k : w->nodes[0].kids) {
        auto& r = w->nodes[k].report;
        if (r.name != st.name)
          continue;
        r.restarts = st.restarts;
        r.running = r.running && st.running;
        if (r.last_error.empty())
          r.last_error = st.last_error;
        if (r.kind.empty())
          r.kind = r.name; // a core actor is named for its kind
      }
  // Forget the silent ones that are gone (restarted supervisors).
  auto& silent = self->state.silent;
  for (auto it = silent.begin(); it != silent.end();)
    it = w->seen.count(*it) != 0 ? std::next(it) : silent.erase(it);
  w->snap.actors.clear();
  flatten(*w, 0, w->snap.actors);
  w->snap.collection_time = std::chrono::steady_clock::now() - w->start;
  auto& wall = self->state.opts.wall_clock_ms;
  w->snap.collected_at
    = wall ? static_cast<double>(wall()) / 1000
           : std::chrono::duration<double>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  for (auto& p : w->promises)
    p.deliver(w->snap);
  self->state.last = w->snap;
  self->state.last_root = w->root;
  self->state.last_start = w->started_at;
  if (self->state.current == w)
    self->state.current.reset();
  start_walk(self);
}

void done(self_ptr self, const walk_ptr& w) {
  if (--w->pending == 0)
    finish(self, w);
}

void ask(self_ptr self, const walk_ptr& w, size_t index, caf::actor h);

size_t add_child(const walk_ptr& w, size_t parent, const actor_child& c) {
  node n;
  const auto& p = w->nodes[parent];
  n.depth = p.depth + 1;
  n.report.name = parent == 0 ? c.name : p.report.name + "/" + c.name;
  n.report.parent = p.report.name;
  n.report.running = static_cast<bool>(c.handle);
  if (!c.handle)
    n.report.error = "not running";
  w->nodes.push_back(std::move(n));
  auto index = w->nodes.size() - 1;
  w->nodes[parent].kids.push_back(index);
  return index;
}

// The engine's and the app manager's own state, beside their samples.
void ask_details(self_ptr self, const walk_ptr& w, const actor_child& c) {
  auto timeout = self->state.opts.ask_timeout;
  if (c.name == "engine") {
    ++w->pending;
    self
      ->request(caf::actor_cast<engine_actor>(c.handle), timeout,
                caf::get_atom_v)
      .then(
        [self, w](engine_telemetry& t) {
          w->snap.engine = std::move(t);
          done(self, w);
        },
        [self, w](caf::error&) { done(self, w); });
  } else if (c.name == "app_manager") {
    ++w->pending;
    self
      ->request(caf::actor_cast<app_manager_actor>(c.handle), timeout,
                caf::get_atom_v)
      .then(
        [self, w](apps_status& s) {
          w->snap.apps = std::move(s);
          done(self, w);
        },
        [self, w](caf::error&) { done(self, w); });
  } else if (c.name == "logs") {
    ++w->pending;
    self
      ->request(caf::actor_cast<logs_actor>(c.handle), timeout, caf::get_atom_v)
      .then(
        [self, w](logs_telemetry& t) {
          w->snap.logs = std::move(t);
          done(self, w);
        },
        [self, w](caf::error&) { done(self, w); });
  }
}

void ask(self_ptr self, const walk_ptr& w, size_t index, caf::actor h) {
  w->seen.insert(h.address());
  if (self->state.silent.count(h.address()) != 0) {
    w->nodes[index].report.error
      = describe(self, caf::make_error(caf::sec::unexpected_message));
    return;
  }
  ++w->pending;
  self->request(h, self->state.opts.ask_timeout, telemetry_atom_v)
    .then(
      [self, w, index](actor_sample& s) {
        auto children = std::move(s.children);
        s.children.clear();
        {
          auto& r = w->nodes[index].report;
          r.kind = s.kind;
          r.sampled = true;
          r.last_error = s.last_error;
          r.sample = std::move(s);
        }
        if (w->nodes[index].depth < self->state.opts.max_depth)
          for (auto& c : children) {
            auto k = add_child(w, index, c);
            if (!c.handle)
              continue;
            ask(self, w, k, c.handle);
            if (index == 0)
              ask_details(self, w, c);
          }
        done(self, w);
      },
      [self, w, index, h](caf::error& e) {
        if (e == caf::sec::unexpected_message)
          self->state.silent.insert(h.address());
        auto& r = w->nodes[index].report;
        r.error = describe(self, e);
        if (e == caf::sec::request_receiver_down)
          r.running = false;
        done(self, w);
      });
}

void start_walk(self_ptr self) {
  auto& st = self->state;
  if (st.current || st.waiting.empty())
    return;
  auto w = std::make_shared<walk>();
  w->root = st.waiting.front().first;
  // Every request for this root rides on this walk.
  auto it = st.waiting.begin();
  while (it != st.waiting.end())
    if (it->first == w->root) {
      w->promises.push_back(std::move(it->second));
      it = st.waiting.erase(it);
    } else {
      ++it;
    }
  st.current = w;
  w->start = std::chrono::steady_clock::now();
  w->started_at = self->clock().now();
  w->snap.process = st.opts.process();
  w->snap.actors_running = self->system().registry().running();
  node r;
  r.report.name = "root";
  r.report.kind = "root";
  r.report.running = static_cast<bool>(w->root);
  w->nodes.push_back(std::move(r));
  // Held open until both first requests are out, so a synchronous failure
  // cannot finish the walk early.
  ++w->pending;
  if (w->root) {
    ask(self, w, 0, caf::actor_cast<caf::actor>(w->root));
    ++w->pending;
    self->request(w->root, st.opts.ask_timeout, children_atom_v)
      .then(
        [self, w](std::vector<child_status>& s) {
          w->statuses = std::move(s);
          done(self, w);
        },
        [self, w](caf::error&) { done(self, w); });
  } else {
    w->nodes[0].report.error = "no root";
  }
  done(self, w);
}

telemetry_actor::behavior_type telemetry_impl(self_ptr self,
                                              telemetry_options opts) {
  self->state.opts = std::move(opts);
  return telemetry::instrument(
    self, {"telemetry", {}, {}}, [self](collect_telemetry& req) {
      auto& st = self->state;
      auto rp = self->make_response_promise<telemetry_snapshot>();
      if (st.last && st.last_root == req.root
          && self->clock().now() - st.last_start < st.opts.max_age) {
        rp.deliver(*st.last);
        return rp;
      }
      st.waiting.emplace_back(std::move(req.root), rp);
      start_walk(self);
      return rp;
    });
}

} // namespace

telemetry_actor spawn_telemetry(caf::actor_system& sys,
                                telemetry_options opts) {
  return sys.spawn(telemetry_impl, std::move(opts));
}

} // namespace bosun
