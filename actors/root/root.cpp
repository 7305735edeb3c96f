#include "actors/root/root.hpp"

#include "actors/root/restart_window.hpp"
#include "actors/telemetry/counters.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace bosun {

namespace {

struct child {
  child_spec spec;
  caf::actor handle;
  child_status status;
  restart_window window;
};

struct root_state {
  static inline const char* name = "root";
  std::vector<child> children;
  core_actors core; // the running core actors' handles
  std::shared_ptr<const logger> log;
};

using root_self = root_actor::stateful_pointer<root_state>;

void start_child(root_self self, child& c) {
  c.handle = c.spec.spawn(self->system(), self->state.core);
  c.status.handle = c.handle;
  if (!c.handle) {
    c.spec.retire(self->state.core);
    // The factory logged why (e.g. the database cannot be opened): without
    // this core actor the agent cannot work, so escalate.
    c.status.running = false;
    c.status.last_error = c.spec.name + " could not be started";
    self->quit(caf::make_error(caf::sec::runtime_error, c.status.last_error));
    return;
  }
  // Linked both ways: the child's failure reaches us as an exit_msg (we
  // trap it), and our exit takes the children down with us.
  self->link_to(c.handle);
  c.status.running = true;
}

// The child is no longer running: its handle is dropped everywhere.
void forget_handle(root_self self, child& c) {
  c.handle = nullptr;
  c.status.handle = nullptr;
  c.status.running = false;
  c.spec.retire(self->state.core);
}

child* find_child(root_self self, const caf::actor_addr& addr) {
  for (auto& c : self->state.children)
    if (c.handle && c.handle.address() == addr)
      return &c;
  return nullptr;
}

root_actor::behavior_type root_impl(root_self self, root_options opts) {
  auto& st = self->state;
  st.log = opts.log ? opts.log : std::make_shared<const logger>();
  for (auto& spec : opts.children) {
    st.children.push_back(child{
      std::move(spec), {}, {}, restart_window{opts.max_restarts, opts.window}});
    st.children.back().status.name = st.children.back().spec.name;
  }
  for (auto& c : st.children) {
    start_child(self, c);
    if (!c.handle)
      break; // root is quitting
  }
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto* c = find_child(self, em.source);
    if (c == nullptr) {
      // Not a child: someone (main, on SIGTERM) asks us to stop. Stop the
      // children in reverse start order, then ourselves.
      for (auto it = self->state.children.rbegin();
           it != self->state.children.rend(); ++it)
        if (it->handle)
          self->send_exit(it->handle, em.reason);
      self->quit(em.reason);
      return;
    }
    forget_handle(self, *c);
    if (!em.reason || em.reason == caf::exit_reason::normal) {
      self->state.log->info("root", "{} stopped", c->spec.name);
      return;
    }
    auto why = self->system().render(em.reason);
    c->status.last_error = why;
    if (!c->window.allow(self->clock().now())) {
      self->state.log->error("root",
                             "{} failed {} times within the restart window "
                             "({}); giving up",
                             c->spec.name, c->window.recent() + 1, why);
      self->quit(em.reason);
      return;
    }
    // Rest-for-one: the children after it hold its old handle.
    auto& kids = self->state.children;
    auto pos = static_cast<size_t>(c - kids.data());
    for (auto i = kids.size(); i-- > pos + 1;)
      if (kids[i].handle) {
        self->unlink_from(kids[i].handle);
        self->send_exit(kids[i].handle, caf::exit_reason::user_shutdown);
        forget_handle(self, kids[i]);
      }
    ++c->status.restarts;
    self->state.log->warn(
      "root", "{} failed ({}); restarting it{}", c->spec.name, why,
      pos + 1 < kids.size() ? " and the actors after it" : "");
    for (auto i = pos; i < kids.size(); ++i) {
      start_child(self, kids[i]);
      if (!kids[i].handle)
        return;
    }
  });
  // Telemetry walks the tree from here: root's sample names the children.
  auto children = [self] {
    std::vector<actor_child> out;
    for (auto& c : self->state.children)
      out.push_back({c.spec.name, c.handle});
    return out;
  };
  return telemetry::instrument(
    self, {"root", {}, children},
    [self](caf::get_atom, core_atom) { return self->state.core; },
    [self](children_atom) {
      std::vector<child_status> out;
      for (auto& c : self->state.children)
        out.push_back(c.status);
      return out;
    },
    [self](health_atom) {
      agent_health h;
      for (auto& c : self->state.children)
        if (!c.status.running) {
          h.healthy = false;
          h.problems.push_back(c.spec.name + " is not running");
        }
      return h;
    });
}

} // namespace

root_actor spawn_root(caf::actor_system& sys, root_options opts) {
  return sys.spawn(root_impl, std::move(opts));
}

} // namespace bosun
