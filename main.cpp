// bosun: parses the configuration, starts the actor system, the agent's
// actors and the device API, then waits for SIGTERM/SIGINT or for the agent
// to fail.
#include "actors/agent.hpp"
#include "actors/api_keys/api_keys.hpp"
#include "actors/engine/engine.hpp"
#include "actors/logger.hpp"
#include "actors/systemd/service_notifier.hpp"
#include "api/server/server.hpp"
#include "config/config.hpp"
#include "persistence/db.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string_view>
#include <thread>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;

caf::actor_system_config& system_config(caf::actor_system_config& cfg) {
  // Two workers: the device has few cores and the agent is mostly idle.
  cfg.set("scheduler.max-threads", 2);
  // An actor with a long mailbox (a log flood) yields its worker after this
  // many messages, so the device API's actors are not kept waiting behind
  // it (CAF's default: never; see docs/BENCHMARKS.md, logs).
  cfg.set("scheduler.max-throughput", 100);
  // Idle means asleep: CAF's default work-stealing workers never block (after
  // each job they poll 100 times, then 500 times 50 us apart, then wake every
  // 10 ms to look for work to steal: ~110 wakeups a second each, 0.26 CPU-s
  // a minute with nothing to do). The sharing policy's workers wait on one
  // condition variable without a timeout and every enqueue wakes one; with
  // two workers its one queue costs the device API nothing measurable
  // (docs/BENCHMARKS.md, idle).
  cfg.set("scheduler.policy", caf::atom("sharing"));
  // CAF's own logger and its console output stay quiet; we log ourselves.
  cfg.set("logger.verbosity", caf::atom("quiet"));
  bosun::add_db_error_category(cfg);
  bosun::add_engine_error_renderer(cfg);
  return cfg;
}

int run(const bosun::config& cfg) {
  auto log = std::make_shared<const bosun::logger>(cfg.level);
  log->info("main", "bosun {} starting (data {}, engine {}, {})", BOSUN_VERSION,
            cfg.data_dir, cfg.engine,
            cfg.local_mode ? "local mode" : "cloud mode");
  if (!cfg.config_file_found)
    log->info("main", "no config.json at {}: running unmanaged",
              cfg.config_path);

  // The io_context outlives the actor system: actors hold handles to it.
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  caf::actor_system_config sys_cfg;
  caf::actor_system sys{system_config(sys_cfg)};

  auto started = bosun::start_agent(sys, cfg, {io, log});
  if (auto* err = std::get_if<std::string>(&started)) {
    log->error("main", "{}", *err);
    return 1;
  }
  auto agent = std::get<bosun::agent>(std::move(started));

  int exit_code = 0;
  std::unique_ptr<bosun::api_server> server;
  caf::scoped_actor self{sys};
  self->monitor(agent.root);
  auto root = agent.root;
  auto stop_all
    = [root](caf::exit_reason why) { caf::anon_send_exit(root, why); };
  server = bosun::api_server::start(
    io,
    {cfg.listen_address, cfg.listen_port, cfg.local_mode,
     bosun::device_config_vars(cfg)},
    {sys, agent.root, log}, [log, stop_all](const std::string& why) {
      log->error("api", "cannot listen: {}", why);
      stop_all(caf::exit_reason::unhandled_exception);
    });
  // Never the key: logs end up in journals, support bundles and terminals
  // (`bosun api-key` prints it).
  log->info("api", "device API on http://{}:{}", cfg.listen_address,
            cfg.listen_port);

  // systemd: READY=1, WATCHDOG=1, STOPPING=1 (nothing without NOTIFY_SOCKET).
  auto notifier = bosun::service_notifier::start(
    io, sys, agent.root, {cfg.listen_address, cfg.listen_port}, log,
    bosun::process_environment());

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([log, stop_all](const std::error_code& ec, int sig) {
    if (ec)
      return;
    log->info("main", "{} received; shutting down",
              sig == SIGTERM ? "SIGTERM" : "SIGINT");
    stop_all(caf::exit_reason::user_shutdown);
  });
  std::thread io_thread([&io] { io.run(); });

  self->receive([&](caf::down_msg& dm) {
    if (dm.reason != caf::exit_reason::user_shutdown) {
      log->error("main", "the agent failed: {}", sys.render(dm.reason));
      exit_code = 1;
    }
  });
  // Stop the API on the io thread, then let io.run() return; outstanding
  // engine I/O must not hold the process past the grace period.
  asio::steady_timer grace(io);
  asio::post(io, [&] {
    signals.cancel();
    grace.expires_after(5s);
    grace.async_wait([&io](const std::error_code&) { io.stop(); });
    server->close([&io] { io.stop(); });
  });
  io_thread.join();
  log->info("main", "stopped");
  return exit_code;
}

// `bosun api-key [options]`: the global device API key from the data
// dir's database, on stdout. It is never logged.
int print_api_key(const bosun::config& cfg) {
  auto path = cfg.db_file();
  if (::access(path.c_str(), F_OK) != 0) {
    std::cerr << "bosun: no database at " << path
              << " (bosun has not run with this --data-dir yet)\n";
    return 1;
  }
  auto db = bosun::store::open(path);
  if (!db) {
    std::cerr << "bosun: " << bosun::db_error_message(db.error()) << '\n';
    return 1;
  }
  auto key = bosun::read_global_key(*db);
  if (auto* e = std::get_if<caf::error>(&key)) {
    std::cerr << "bosun: " << bosun::db_error_message(*e) << '\n';
    return 1;
  }
  const auto& k = std::get<std::optional<std::string>>(key);
  if (!k) {
    std::cerr << "bosun: no API key in " << path << " yet\n";
    return 1;
  }
  std::cout << *k << '\n';
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  // A command first, then the usual options.
  bool api_key_cmd = argc > 1 && std::string_view(argv[1]) == "api-key";
  int first = api_key_cmd ? 2 : 1;
  auto loaded = bosun::load_config({argv + first, argv + argc},
                                   bosun::process_environment());
  if (auto* e = std::get_if<bosun::config_error>(&loaded)) {
    std::cerr << "bosun: " << e->what() << '\n';
    return 2;
  }
  if (auto* h = std::get_if<bosun::show_help>(&loaded)) {
    std::cout << h->text;
    return 0;
  }
  if (auto* v = std::get_if<bosun::show_version>(&loaded)) {
    std::cout << v->text << '\n';
    return 0;
  }
  if (api_key_cmd)
    return print_api_key(std::get<bosun::config>(loaded));
  return run(std::get<bosun::config>(loaded));
}
