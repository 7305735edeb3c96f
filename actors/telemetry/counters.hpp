#pragma once

// Per-actor counters, kept by the actor itself (messages/telemetry.hpp says
// how they are collected).
//
// An actor opts in by building its behaviour through `instrument`:
//
//   return telemetry::instrument(self, {"engine", last_error_fn, {}},
//                                [self](engine_ping_req) { ... },
//                                [self](container_list_req& r) { ... });
//
// `instrument` wraps each handler in one that keeps the handler's exact
// signature (typed interfaces still check at compile time) and, around the
// call, counts the message, its time in the handler and the mailbox depth;
// and it sets the actor's default handler to answer telemetry_atom with an
// actor_sample. The counters live in a shared_ptr held only by that actor's
// own handlers: no other actor or thread ever touches them, so nothing is
// atomic or locked. CAF's built-in profiler is not usable here (STACK.md).
#include "messages/telemetry.hpp"

#include <algorithm>
#include <caf/detail/type_traits.hpp>
#include <caf/message.hpp>
#include <caf/scheduled_actor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bosun::telemetry {

// The counting itself, pure so it is unit-tested on its own.
struct actor_counters {
  uint64_t handled = 0;
  std::chrono::nanoseconds busy_total{0};
  std::chrono::nanoseconds busy_max{0};
  uint64_t mailbox_max = 0;

  // One message handled in `busy`, with `waiting` messages behind it.
  void record(std::chrono::nanoseconds busy, uint64_t waiting) {
    ++handled;
    busy_total += busy;
    busy_max = std::max(busy_max, busy);
    mailbox_max = std::max(mailbox_max, waiting);
  }
};

// Mean time in a handler; 0 before the first message.
inline std::chrono::nanoseconds mean_busy(const actor_sample& s) {
  return s.handled == 0 ? std::chrono::nanoseconds{0}
                        : s.busy_total / static_cast<int64_t>(s.handled);
}

// What an actor adds to its sample beyond the counters; all optional.
struct hooks {
  std::string kind;                        // "" = the actor's name()
  std::function<std::string()> last_error; // the actor's own last error
  std::function<std::vector<actor_child>()> children; // actors it supervises
};

namespace detail {

// Records on scope exit, so a handler that throws is counted too.
struct busy_scope {
  actor_counters* c;
  uint64_t waiting;
  std::chrono::steady_clock::time_point start
    = std::chrono::steady_clock::now();
  ~busy_scope() {
    c->record(std::chrono::steady_clock::now() - start, waiting);
  }
};

template <class Self, class F, class... Ts>
auto counted(Self* self, std::shared_ptr<actor_counters> c, F f,
             caf::detail::type_list<Ts...>) {
  return [self, c, f](Ts... xs) mutable {
    // The messages already taken into the actor's queue, waiting behind
    // this one: a plain read. Not mailbox().size(), which also drains the
    // concurrent inbox (an atomic exchange that senders contend for) on
    // every message. Messages still in the inbox are seen once CAF takes
    // them in, at its next round.
    busy_scope scope{c.get(), self->mailbox().queue().total_task_size()};
    return f(std::forward<Ts>(xs)...);
  };
}

} // namespace detail

// `f` with counting around it, same signature.
template <class Self, class F>
auto counted(Self* self, std::shared_ptr<actor_counters> c, F f) {
  using args = typename caf::detail::get_callable_trait<F>::arg_types;
  return detail::counted(self, std::move(c), std::move(f), args{});
}

// The actor's sample now (call inside the actor).
template <class Self>
actor_sample sample(Self* self, const actor_counters& c, const hooks& h) {
  actor_sample s;
  s.kind = h.kind.empty() ? std::string{self->name()} : h.kind;
  s.handled = c.handled;
  s.busy_total = c.busy_total;
  s.busy_max = c.busy_max;
  s.mailbox = self->mailbox().size();
  s.mailbox_max = c.mailbox_max;
  if (h.last_error)
    s.last_error = h.last_error();
  if (h.children)
    s.children = h.children();
  return s;
}

// Answers telemetry_atom from the default handler (the typed interface does
// not list it); anything else unexpected is dropped as CAF does by default.
template <class Self>
void answer_telemetry(Self* self, std::shared_ptr<actor_counters> c, hooks h) {
  self->set_default_handler(
    [self, c, h](caf::scheduled_actor* sa,
                 caf::message_view& x) -> caf::result<caf::message> {
      if (x.content().match_elements<telemetry_atom>())
        return caf::make_message(sample(self, *c, h));
      return caf::print_and_drop(sa, x);
    });
}

// The behaviour made of `fs`, each handler counted, answering telemetry.
template <class Self, class... Fs>
typename Self::behavior_type instrument(Self* self, hooks h, Fs... fs) {
  auto c = std::make_shared<actor_counters>();
  answer_telemetry(self, c, std::move(h));
  return {counted(self, c, std::move(fs))...};
}

} // namespace bosun::telemetry
