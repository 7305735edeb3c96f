// The kill points of chaos_hook.hpp.
#include "actors/apps/chaos_hook.hpp"

#include "actors/apps/app_state.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <type_traits>
#include <unistd.h>

namespace bosun::chaos {

// In the order of the step variant (messages/apps.hpp).
constexpr const char* step_kinds[]
  = {"fetch",         "network-create", "network-remove", "volume-create",
     "volume-remove", "stop",           "kill",           "remove",
     "start",         "replace",        "metadata",       "handover",
     "lock-take",     "lock-release",   "noop",           "commit"};
static_assert(std::size(step_kinds) == std::variant_size_v<step>,
              "a kind for every step");
// step_kinds follows the variant's order.
template <size_t I, class T>
constexpr bool step_at = std::is_same_v<std::variant_alternative_t<I, step>, T>;
static_assert(step_at<0, steps::fetch_image>);
static_assert(step_at<8, steps::start_service>);
static_assert(step_at<9, steps::replace_service>);
static_assert(step_at<15, steps::update_commit>);

const char* kind_of(const step& s) {
  return step_kinds[s.index()];
}

kill_point parse_kill_point(const std::string& text) {
  kill_point p;
  auto a = text.find(':');
  auto b = a == std::string::npos ? a : text.find(':', a + 1);
  if (b == std::string::npos || a == 0)
    return p;
  p.kind = text.substr(0, a);
  auto nth = text.substr(a + 1, b - a - 1);
  auto when = text.substr(b + 1);
  if (nth.empty() || nth.size() > 6
      || nth.find_first_not_of("0123456789") != std::string::npos)
    return p;
  p.nth = std::atoi(nth.c_str());
  if (p.nth < 1 || (when != "before" && when != "after"))
    return p;
  p.when = when == "before" ? phase::before : phase::after;
  p.ok = true;
  return p;
}

#ifdef BOSUN_CHAOS_HOOKS

namespace {

struct armed_point {
  kill_point point;
  std::atomic<int> seen{0};
};

// Read once; nullptr when the variable is unset (or malformed: said once).
armed_point* armed() {
  static armed_point* p = []() -> armed_point* {
    const char* v = std::getenv("BOSUN_CHAOS_KILL_AT");
    if (v == nullptr || *v == '\0')
      return nullptr;
    auto parsed = parse_kill_point(v);
    if (!parsed.ok) {
      std::fprintf(stderr,
                   "chaos: ignoring BOSUN_CHAOS_KILL_AT=%s (want "
                   "<kind>:<nth>:<before|after>)\n",
                   v);
      return nullptr;
    }
    auto* a = new armed_point; // lives until the process dies
    a->point = std::move(parsed);
    return a;
  }();
  return p;
}

} // namespace

void reached(const char* kind, phase when) {
  auto* a = armed();
  if (a == nullptr || when != a->point.when || a->point.kind != kind)
    return;
  if (a->seen.fetch_add(1) + 1 != a->point.nth)
    return;
  std::fprintf(stderr, "chaos: SIGKILL at %s:%d:%s\n", kind, a->point.nth,
               when == phase::before ? "before" : "after");
  std::fflush(stderr);
  ::raise(SIGKILL);
}

#endif

} // namespace bosun::chaos

#ifdef BOSUN_CHAOS_HOOKS

namespace bosun::appmgr {

fan_in_ptr chaos_after(fan_in_ptr fan, const step& s) {
  if (std::holds_alternative<steps::fetch_image>(s))
    return fan;
  auto kind = chaos::kind_of(s);
  return make_fan_in([fan, kind](std::vector<std::string> errors) {
    if (errors.empty())
      chaos::reached(kind, chaos::phase::after);
    fan->done(errors.empty() ? std::nullopt
                             : std::optional<std::string>(join(errors)));
  });
}

} // namespace bosun::appmgr

#endif
