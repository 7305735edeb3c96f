// The logs actors alone: how many lines per second the logs actor and the
// shipper take from the engine's log_lines batches to gzip bytes on a
// connection, on two CAF worker threads as in bosun. The engine, the db and
// the network are stand-ins that cost nothing (the connection inflates what
// it gets, to count the lines), so this is the actors' own ceiling; the
// end-to-end figure through dockerd and cloud-sim is tools/bench/logs.sh.
//
//   bench_logs_pipeline [lines=1000000] [rate=0 (as fast as possible)]
//   BENCH_BATCH=150: lines per log_lines batch (about one 16 KiB read);
//   the sender keeps at most the logs actor's flow-control window of
//   batches unacknowledged, as the engine does.
#include "actors/logs/logs.hpp"

#include <algorithm>
#include <atomic>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sys/resource.h>
#include <thread>
#include <zlib.h>

using namespace bosun;
using namespace std::chrono_literals;

namespace {

// The engine: one container, whose log stream the bench feeds itself.
struct engine_world {
  std::mutex m;
  caf::actor listener;
  uint64_t window = 0;            // what the logs actor asked for
  std::atomic<uint64_t> acked{0}; // log_ack bytes
};

caf::behavior fake_engine(caf::event_based_actor*,
                          std::shared_ptr<engine_world> w) {
  return {
    [](container_list_req&) {
      container_summary c;
      c.id = "c0ffee";
      c.labels["io.balena.supervised"] = "true";
      c.labels["io.balena.service-id"] = "7";
      c.labels["io.balena.service-name"] = "flood";
      return container_list{c};
    },
    [w](container_logs_req& r) {
      std::lock_guard<std::mutex> g(w->m);
      w->listener = caf::actor_cast<caf::actor>(r.listener);
      w->window = r.window;
      return uint64_t{1};
    },
    [](container_logs_cancel&) {},
    [w](const log_ack& a) { w->acked += a.bytes; },
    [](engine_subscribe&) {
      return engine_status{engine_state::up, {}};
    },
  };
}

caf::behavior fake_db(caf::event_based_actor*) {
  return {
    [](caf::get_atom, config_kv_atom) {
      return std::map<std::string, std::string>{};
    },
    [](caf::put_atom, config_kv_atom, const std::map<std::string, std::string>&)
      -> caf::result<void> { return caf::unit; },
    [](caf::delete_atom, config_kv_atom,
       const std::string&) -> caf::result<void> { return caf::unit; },
  };
}

// A connection that opens at once and takes every write at once.
struct sink : log_upload::connection {
  log_upload::events ev;
  z_stream z{};
  std::atomic<uint64_t>* lines;
  sink(log_upload::events e, std::atomic<uint64_t>* n)
      : ev(std::move(e)), lines(n) {
    inflateInit2(&z, 16 + MAX_WBITS);
    ev.opened();
  }
  ~sink() override {
    inflateEnd(&z);
  }
  void write(std::string d) override {
    z.next_in = reinterpret_cast<Bytef*>(d.data());
    z.avail_in = static_cast<uInt>(d.size());
    char buf[65536];
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof(buf);
      if (inflate(&z, Z_NO_FLUSH) < 0)
        break;
      uint64_t k = 0;
      for (char* p = buf; p < reinterpret_cast<char*>(z.next_out); ++p)
        k += *p == '\n' ? 1 : 0;
      *lines += k;
    } while (z.avail_out == 0);
    ev.written(d.size());
  }
  void finish(std::string) override {}
  void close() override {}
};

std::string timestamp(int64_t ns) {
  auto s = ns / 1000000000;
  char buf[64];
  std::snprintf(
    buf, sizeof(buf), "2024-01-02T%02lld:%02lld:%02lld.%09lldZ",
    static_cast<long long>(s / 3600 % 24), static_cast<long long>(s / 60 % 60),
    static_cast<long long>(s % 60), static_cast<long long>(ns % 1000000000));
  return buf;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
         + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

} // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  const long rate = argc > 2 ? std::atol(argv[2]) : 0;
  const char* batch_env = std::getenv("BENCH_BATCH");
  const long batch = std::max(1L, batch_env ? std::atol(batch_env) : 150L);
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  if (const char* t = std::getenv("BENCH_MAX_THROUGHPUT"))
    cfg.set("scheduler.max-throughput", std::atol(t));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto ew = std::make_shared<engine_world>();
  auto engine = sys.spawn(fake_engine, ew);
  auto db = sys.spawn(fake_db);
  auto received = std::make_shared<std::atomic<uint64_t>>(0);
  logs_options o;
  o.shipping = {true, "http://cloud:1", "abc", "k"};
  o.uploads = [received](const log_shipping&,
                         std::string&) -> std::optional<log_upload::factory> {
    return [received](log_upload::events ev) {
      return std::make_unique<sink>(std::move(ev), received.get());
    };
  };
  o.log = std::make_shared<const logger>(log_level::error);
  auto logs = spawn_logs(sys, caf::actor_cast<engine_actor>(engine),
                         caf::actor_cast<db_actor>(db), o);
  caf::actor listener;
  while (!listener) {
    std::this_thread::sleep_for(10ms);
    std::lock_guard<std::mutex> g(ew->m);
    listener = ew->listener;
  }
  caf::scoped_actor self{sys};
  auto telemetry = [&] {
    logs_telemetry t;
    self->request(logs, 10s, caf::get_atom_v)
      .receive([&](const logs_telemetry& x) { t = x; },
               [](const caf::error&) {});
    return t;
  };
  // One line to open the stream, as in bosun after its grace period.
  int64_t ns = 1000000000;
  caf::anon_send(
    listener,
    log_lines{
      1, "c0ffee", {log_line{log_source::out, timestamp(ns), "warm up"}}, 0});
  while (telemetry().cloud.lines < 1)
    std::this_thread::sleep_for(10ms);

  const std::string pad = "flood line padded to about a hundred characters "
                          "..............................................";
  auto cpu0 = cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  uint64_t window = 0, sent_bytes = 0;
  {
    std::lock_guard<std::mutex> g(ew->m);
    window = ew->window;
  }
  log_lines b{1, "c0ffee", {}, 0};
  for (long i = 1; i <= n; ++i) {
    ns += 1000;
    auto text = pad + " " + std::to_string(i);
    b.bytes += text.size() + 40; // + timestamp and frame header, as read
    b.lines.push_back(
      log_line{log_source::out, timestamp(ns), std::move(text)});
    if (static_cast<long>(b.lines.size()) >= batch || i == n) {
      // The engine reads no further ahead than the window.
      while (window != 0 && sent_bytes - ew->acked >= window)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      sent_bytes += b.bytes;
      caf::anon_send(listener, std::move(b));
      b = log_lines{1, "c0ffee", {}, 0};
    }
    if (rate > 0 && i % 1000 == 0) {
      auto due = t0 + std::chrono::microseconds(i * 1000000 / rate);
      std::this_thread::sleep_until(due);
    }
  }
  auto sent = std::chrono::steady_clock::now();
  logs_telemetry t;
  uint64_t last = 0;
  auto quiet_since = std::chrono::steady_clock::now();
  for (;;) {
    t = telemetry();
    auto done = t.lines - 1;
    if (done >= static_cast<uint64_t>(n) && t.cloud.lines != last)
      quiet_since = std::chrono::steady_clock::now();
    if (done >= static_cast<uint64_t>(n)
        && std::chrono::steady_clock::now() - quiet_since > 300ms)
      break;
    last = t.cloud.lines;
    std::this_thread::sleep_for(5ms);
  }
  auto end = quiet_since;
  auto cpu = cpu_seconds() - cpu0;
  auto secs = std::chrono::duration<double>(end - t0).count();
  uint64_t dropped = 0;
  for (auto& q : t.queues)
    if (q.name == "cloud")
      dropped = q.dropped;
  std::printf("lines %ld, offered %s: sent in %.2f s, shipped %llu (of them "
              "%llu Suppressed notices), dropped %llu, in %.2f s = %.0f "
              "lines/s taken; CPU %.2f s (%.2f us/line, sender included); "
              "gzip %llu bytes for %llu NDJSON bytes\n",
              n,
              rate > 0 ? (std::to_string(rate) + " lines/s").c_str()
                       : "as fast as possible",
              std::chrono::duration<double>(sent - t0).count(),
              static_cast<unsigned long long>(t.cloud.lines - 1),
              static_cast<unsigned long long>(t.cloud.lines - 1 + dropped
                                              - static_cast<uint64_t>(n)),
              static_cast<unsigned long long>(dropped), secs,
              static_cast<double>(n) / secs, cpu,
              cpu * 1e6 / static_cast<double>(n),
              static_cast<unsigned long long>(t.cloud.bytes_sent),
              static_cast<unsigned long long>(t.cloud.bytes_raw));
  std::printf("the connection inflated %llu lines\n",
              static_cast<unsigned long long>(received->load()));
  caf::anon_send_exit(logs, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(engine, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
  return 0;
}
