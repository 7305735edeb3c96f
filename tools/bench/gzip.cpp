// The log stream's gzip settings: how much memory a stream holds and how
// well and how fast it compresses the cloud's NDJSON log lines, for zlib's
// window and memLevel. The shipper keeps one stream per open log stream,
// so its memory is paid by every device with logs flowing (and by every
// simulated device in fleet-sim).
//
//   bench_gzip [lines=20000] [runs=5]
//
// Corpora are generated from a fixed seed: web access lines, sensor
// readings, a mixed application log (templates with numbers, a stack trace
// now and then), and random base64 (a control: incompressible). Each is
// compressed twice: a sync flush after every line (a quiet service: each
// line leaves at once) and after every 50 lines (a busy one). Figures:
// compressed/raw ratio; MB/s of raw input (median of the runs); the heap
// a stream holds (mallinfo2 around its construction, and zlib's formula).
#include "api/logs/gzip.hpp"

#include "api/logs/log_json.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <malloc.h>
#include <random>
#include <string>
#include <vector>

using namespace bosun;

namespace {

struct corpus {
  const char* name;
  std::vector<std::string> lines; // NDJSON, '\n' included
};

std::string pick(std::mt19937_64& rng, std::initializer_list<const char*> l) {
  std::uniform_int_distribution<size_t> d(0, l.size() - 1);
  return *(l.begin() + d(rng));
}

int num(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

std::string as_line(std::string message, int64_t ts, int64_t service) {
  log_entry e;
  e.message = std::move(message);
  e.timestamp_ms = ts;
  e.service_id = service;
  std::string out;
  log_json::append_cloud_line(e, out);
  return out;
}

std::vector<corpus> make_corpora(size_t n) {
  std::mt19937_64 rng(42);
  std::vector<corpus> all{{"web access", {}},
                          {"sensor", {}},
                          {"mixed app", {}},
                          {"random base64", {}}};
  int64_t ts = 1796000000000;
  char buf[512];
  for (size_t i = 0; i < n; ++i) {
    ts += num(rng, 1, 400);
    std::snprintf(
      buf, sizeof buf,
      "192.168.%d.%d - - [07/Dec/2026:20:%02d:%02d +0000] \"%s "
      "/api/v1/%s/%d HTTP/1.1\" %s %d \"-\" \"%s\"",
      num(rng, 0, 3), num(rng, 2, 254), num(rng, 0, 59), num(rng, 0, 59),
      pick(rng, {"GET", "GET", "POST", "PUT"}).c_str(),
      pick(rng, {"items", "users", "orders", "metrics"}).c_str(),
      num(rng, 1, 99999), pick(rng, {"200", "200", "304", "404"}).c_str(),
      num(rng, 0, 65536),
      pick(rng, {"curl/7.88.1", "Mozilla/5.0 (X11; Linux x86_64)",
                 "python-requests/2.31"})
        .c_str());
    all[0].lines.push_back(as_line(buf, ts, 1));
    std::snprintf(buf, sizeof buf,
                  "2026-12-07T20:%02d:%02d.%03dZ INFO sensor temp=%d.%02d "
                  "hum=%d.%d pressure=%d.%d seq=%zu",
                  num(rng, 0, 59), num(rng, 0, 59), num(rng, 0, 999),
                  num(rng, 18, 24), num(rng, 0, 99), num(rng, 30, 60),
                  num(rng, 0, 9), num(rng, 1000, 1020), num(rng, 0, 9), i);
    all[1].lines.push_back(as_line(buf, ts, 2));
    if (num(rng, 0, 200) == 0) {
      const char* trace[]
        = {"Traceback (most recent call last):",
           "  File \"/usr/src/app/main.py\", line 88, in <module>",
           "    run(loop)",
           "  File \"/usr/src/app/worker.py\", line 141, in run",
           "    conn.send(payload)",
           "ConnectionResetError: [Errno 104] Connection reset by peer"};
      for (auto* t : trace)
        all[2].lines.push_back(as_line(t, ts, 3));
    } else {
      std::snprintf(
        buf, sizeof buf, "[%s] %s %d %s (%d ms)",
        pick(rng, {"info", "info", "debug", "warn"}).c_str(),
        pick(rng, {"processed batch", "uploaded frame", "cache miss for key",
                   "retrying request", "queue depth"})
          .c_str(),
        num(rng, 0, 100000),
        pick(rng, {"ok", "from camera-1", "on /dev/ttyUSB0", "after timeout"})
          .c_str(),
        num(rng, 0, 2000));
      all[2].lines.push_back(as_line(buf, ts, 3));
    }
    static const char b64[]
      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string r(96, ' ');
    for (auto& c : r)
      c = b64[num(rng, 0, 63)];
    all[3].lines.push_back(as_line(r, ts, 4));
  }
  return all;
}

struct figure {
  double ratio = 0;
  double mb_per_s = 0;
};

figure measure(const corpus& c, int wb, int ml, size_t flush_every, int runs) {
  size_t raw = 0;
  for (auto& l : c.lines)
    raw += l.size();
  std::vector<double> secs;
  size_t out_size = 0;
  for (int r = 0; r < runs; ++r) {
    log_json::gzip_stream gz(1, wb, ml);
    std::string out;
    out.reserve(raw);
    auto t0 = std::chrono::steady_clock::now();
    size_t k = 0;
    for (auto& l : c.lines) {
      gz.write(l, out);
      if (++k % flush_every == 0)
        gz.flush(out);
    }
    gz.finish(out);
    secs.push_back(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
        .count());
    out_size = out.size();
  }
  std::sort(secs.begin(), secs.end());
  return {double(out_size) / double(raw),
          double(raw) / 1e6 / secs[secs.size() / 2]};
}

size_t held_bytes(int wb, int ml) {
  auto before = mallinfo2().uordblks;
  auto* gz = new log_json::gzip_stream(1, wb, ml);
  auto after = mallinfo2().uordblks;
  delete gz;
  return after - before;
}

} // namespace

int main(int argc, char** argv) {
  size_t lines = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  auto corpora = make_corpora(lines);
  struct setting {
    int wb, ml;
  };
  const setting settings[]
    = {{15, 8}, {14, 7}, {13, 6}, {12, 5}, {11, 4}, {10, 3}};
  std::printf("# bench_gzip: %zu lines per corpus, level 1, median of %d "
              "runs\n",
              lines, runs);
  std::printf("%-8s %10s %10s  %-14s %8s %8s %9s %9s\n", "window", "held KiB",
              "zlib KiB", "corpus", "ratio@1", "ratio@50", "MB/s@1", "MB/s@50");
  for (auto s : settings) {
    auto held = held_bytes(s.wb, s.ml);
    auto formula = log_json::gzip_stream::memory_bytes(s.wb, s.ml);
    for (auto& c : corpora) {
      auto each = measure(c, s.wb, s.ml, 1, runs);
      auto busy = measure(c, s.wb, s.ml, 50, runs);
      std::printf("%2d/%-5d %10.1f %10.1f  %-14s %8.3f %8.3f %9.1f %9.1f\n",
                  s.wb, s.ml, held / 1024.0, formula / 1024.0, c.name,
                  each.ratio, busy.ratio, each.mb_per_s, busy.mb_per_s);
    }
  }
  return 0;
}
