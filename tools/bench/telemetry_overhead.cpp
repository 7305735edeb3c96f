// What the per-actor telemetry costs: the same typed actor with and without
// telemetry::instrument, (1) handling a deep mailbox of one-way messages on
// the deterministic scheduler, timed in thread CPU time (the cost per
// message, free of scheduling noise), and (2) request/reply ping-pong
// between two actors on the real scheduler (wall time, latency-bound).
// Alternates the two variants and prints medians.
//
//   bench_telemetry_overhead [messages=1000000] [rounds=5]
#include "actors/telemetry/counters.hpp"

#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <vector>

namespace {

using namespace std::chrono;

using sink_actor
  = caf::typed_actor<caf::reacts_to<int>, caf::replies_to<int, int>::with<int>,
                     caf::replies_to<caf::get_atom>::with<int>>;

struct sink_state {
  static inline const char* name = "sink";
  int seen = 0;
};

using sink_ptr = sink_actor::stateful_pointer<sink_state>;

auto handlers(sink_ptr self) {
  return std::make_tuple([self](int) { ++self->state.seen; },
                         [](int x, int y) { return x + y; },
                         [self](caf::get_atom) { return self->state.seen; });
}

sink_actor::behavior_type plain_sink(sink_ptr self) {
  auto [a, b, c] = handlers(self);
  return {a, b, c};
}

sink_actor::behavior_type counted_sink(sink_ptr self) {
  auto [a, b, c] = handlers(self);
  return bosun::telemetry::instrument(self, {"sink", {}, {}}, a, b, c);
}

// CPU time of this thread, immune to other processes taking the cores.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// N one-way messages queued, then handled on this thread by the
// deterministic scheduler: the CPU cost of handling one message, without
// the noise of threads and a shared machine. ns per message.
double flood(caf::actor_system& det, bool counted, int n) {
  auto& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(det.scheduler());
  auto sink = counted ? det.spawn(counted_sink) : det.spawn(plain_sink);
  sched.run();
  caf::scoped_actor self{det};
  for (int i = 0; i < n; ++i)
    self->send(sink, i);
  auto t0 = thread_cpu_ns();
  sched.run();
  auto ns = thread_cpu_ns() - t0;
  self->send_exit(sink, caf::exit_reason::user_shutdown);
  sched.run();
  return ns / n;
}

// N request/reply round trips between two actors: ns per round trip.
double ping_pong(caf::actor_system& sys, bool counted, int n) {
  auto sink = counted ? sys.spawn(counted_sink) : sys.spawn(plain_sink);
  caf::scoped_actor self{sys};
  auto t0 = steady_clock::now();
  auto driver = sys.spawn([sink, n](caf::event_based_actor* me) {
    return caf::behavior{[me, sink, n](caf::get_atom) {
      auto rp = me->make_response_promise();
      auto left = std::make_shared<int>(n);
      auto step = std::make_shared<std::function<void()>>();
      *step = [me, sink, left, rp, step]() mutable {
        if (--*left < 0) {
          rp.deliver(0);
          *step = nullptr; // break the cycle
          return;
        }
        me->request(sink, caf::infinite, *left, 1).then([step](int) {
          (*step)();
        });
      };
      (*step)();
      return rp;
    }};
  });
  self->request(driver, caf::infinite, caf::get_atom_v)
    .receive([](int) {}, [](caf::error&) { std::abort(); });
  auto ns = duration<double, std::nano>(steady_clock::now() - t0).count();
  self->send_exit(sink, caf::exit_reason::user_shutdown);
  return ns / n;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  caf::actor_system_config det_cfg;
  det_cfg.set("scheduler.policy", caf::atom("testing"));
  det_cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system det{det_cfg};
  std::vector<double> fp, fc, pp, pc;
  for (int r = 0; r < rounds; ++r) {
    fp.push_back(flood(det, false, n));
    fc.push_back(flood(det, true, n));
    pp.push_back(ping_pong(sys, false, n / 10));
    pc.push_back(ping_pong(sys, true, n / 10));
  }
  auto row = [](const char* what, double plain, double counted) {
    std::printf("| %s | %.0f | %.0f | %+.0f ns (%+.1f%%) |\n", what, plain,
                counted, counted - plain, 100 * (counted - plain) / plain);
  };
  std::printf("medians of %d rounds; %d queued messages, %d round trips\n",
              rounds, n, n / 10);
  std::printf("| ns per | plain | instrumented | difference |\n");
  std::printf("|---|---|---|---|\n");
  row("handling one queued message (CPU, one thread)", median(fp), median(fc));
  row("request/reply round trip", median(pp), median(pc));
  return 0;
}
