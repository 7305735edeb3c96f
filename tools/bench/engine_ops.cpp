// bench_engine_ops [N] — container create+start+stop(t=0)+remove cycles
// through the engine actor and through the docker CLI (one process per
// operation), interleaved in the same run against the same engine; prints
// per-cycle and per-operation medians and p90.
//
// Needs DOCKER_HOST (unix://...) and BOSUN_TEST_IMAGE (pulled if absent), as
// exported by `tools/dev env`. Figures, not a test: see docs/BENCHMARKS.md.
#include "actors/engine/engine.hpp"

#include <algorithm>
#include <array>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::array<const char*, 4> op_names{"create", "start", "stop",
                                              "remove"};

struct samples {
  std::vector<double> cycle;              // ms
  std::array<std::vector<double>, 4> ops; // ms, per op_names
};

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0)
    .count();
}

double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto idx = static_cast<size_t>(p * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(idx, xs.size() - 1)];
}

[[noreturn]] void die(const std::string& why) {
  std::cerr << "bench_engine_ops: " << why << "\n";
  std::exit(1);
}

// Runs a shell command; its stdout with the trailing newline removed.
std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr)
    die("popen failed: " + cmd);
  char buf[256];
  while (std::fgets(buf, sizeof(buf), p) != nullptr)
    out += buf;
  if (::pclose(p) != 0)
    die("command failed: " + cmd + "\n" + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out;
}

struct actor_bench {
  caf::actor_system& sys;
  bosun::engine_actor engine;
  caf::scoped_actor self{sys};

  template <class Req>
  void must(Req req, const char* what) {
    caf::error err;
    self->request(engine, 60s, std::move(req))
      .receive([] {}, [&](caf::error& e) { err = std::move(e); });
    if (err)
      die(std::string{what} + ": " + bosun::render_engine_error(err));
  }

  std::string create(const bosun::container_create& spec) {
    std::string id;
    self->request(engine, 60s, bosun::container_create_req{spec})
      .receive([&](std::string& x) { id = std::move(x); },
               [&](caf::error& e) {
                 die("create: " + bosun::render_engine_error(e));
               });
    return id;
  }

  void ensure_image(const std::string& image) {
    bool present = false;
    self->request(engine, 60s, bosun::image_inspect_req{image})
      .receive([&](bosun::image_inspect&) { present = true; },
               [&](caf::error&) {});
    if (!present)
      must(bosun::image_pull_req{bosun::image_pull{image, {}, {}}, {}}, "pull");
  }

  void cycle(const std::string& image, const std::string& name, samples& s) {
    bosun::container_create spec;
    spec.name = name;
    spec.config.image = image;
    spec.config.cmd = bosun::string_list{"/bin/busybox", "sleep", "1000"};
    spec.host.restart_policy.name = "no";
    auto t0 = clock_type::now();
    auto t = t0;
    auto id = create(spec);
    s.ops[0].push_back(ms_since(t));
    t = clock_type::now();
    must(bosun::container_start_req{id}, "start");
    s.ops[1].push_back(ms_since(t));
    t = clock_type::now();
    must(bosun::container_stop_req{id, 0}, "stop");
    s.ops[2].push_back(ms_since(t));
    t = clock_type::now();
    must(bosun::container_remove_req{id, false, false}, "remove");
    s.ops[3].push_back(ms_since(t));
    s.cycle.push_back(ms_since(t0));
  }
};

void cli_cycle(const std::string& docker, const std::string& image,
               const std::string& name, samples& s) {
  auto t0 = clock_type::now();
  auto t = t0;
  auto id = run(docker + " create --name " + name + " --restart no " + image
                + " /bin/busybox sleep 1000");
  s.ops[0].push_back(ms_since(t));
  t = clock_type::now();
  run(docker + " start " + id + " >/dev/null");
  s.ops[1].push_back(ms_since(t));
  t = clock_type::now();
  run(docker + " stop -t 0 " + id + " >/dev/null");
  s.ops[2].push_back(ms_since(t));
  t = clock_type::now();
  run(docker + " rm " + id + " >/dev/null");
  s.ops[3].push_back(ms_since(t));
  s.cycle.push_back(ms_since(t0));
}

void print_row(const char* label, const std::vector<double>& xs) {
  std::printf("  %-22s %9.1f %9.1f\n", label, percentile(xs, 0.5),
              percentile(xs, 0.9));
}

void print(const char* title, const samples& s) {
  std::printf("%s\n", title);
  print_row("cycle", s.cycle);
  for (size_t i = 0; i < op_names.size(); ++i)
    print_row(op_names[i], s.ops[i]);
}

} // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 50;
  if (n <= 0)
    die("usage: bench_engine_ops [cycles > 0]");
  const char* host = std::getenv("DOCKER_HOST");
  const char* image_env = std::getenv("BOSUN_TEST_IMAGE");
  if (host == nullptr || image_env == nullptr)
    die("DOCKER_HOST and BOSUN_TEST_IMAGE must be set (eval \"$(tools/dev "
        "env)\")");
  std::string image = image_env;
  std::string why;
  auto ep = bosun::http::parse_endpoint(host, &why);
  if (!ep)
    die(std::string{"DOCKER_HOST="} + host + ": " + why);

  asio::io_context io; // before the actor system: outlives its actors
  auto work = asio::make_work_guard(io);
  std::thread io_thread{[&] { io.run(); }};
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  bosun::add_engine_error_renderer(cfg);
  samples by_actor, by_cli;
  {
    caf::actor_system sys{cfg};
    auto engine = bosun::spawn_engine(sys, io, *ep);
    {
      actor_bench bench{sys, engine};
      bench.ensure_image(image);
      auto prefix = "bosun-bench-" + std::to_string(::getpid()) + "-";
      std::string docker = std::string{"docker -H "} + host;
      samples warmup;
      bench.cycle(image, prefix + "warm-a", warmup);
      cli_cycle(docker, image, prefix + "warm-c", warmup);
      // Interleaved, so drifting host load hits both alike.
      for (int i = 0; i < n; ++i) {
        bench.cycle(image, prefix + "a" + std::to_string(i), by_actor);
        cli_cycle(docker, image, prefix + "c" + std::to_string(i), by_cli);
      }
    }
    caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
  }
  work.reset();
  io.stop();
  io_thread.join();

  std::printf("engine_ops: %d cycles of create + start + stop(t=0) + remove\n"
              "  engine %s, image %s\n\n",
              n, host, image.c_str());
  std::printf("  %-22s %9s %9s   (ms)\n", "", "median", "p90");
  print("engine actor", by_actor);
  print("docker CLI", by_cli);
  auto a = percentile(by_actor.cycle, 0.5);
  auto c = percentile(by_cli.cycle, 0.5);
  std::printf("\nratio CLI / actor (median cycle): %.2f\n", a > 0 ? c / a : 0);
  return 0;
}
