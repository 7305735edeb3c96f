#pragma once

// A gzip stream written in pieces (zlib deflate with a gzip header), for the
// cloud log stream: write() compresses, flush() makes everything written so
// far decodable by the peer (Z_SYNC_FLUSH), finish() ends the stream with
// the gzip trailer. Output is appended to the caller's string.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace bosun::log_json {

class gzip_stream {
public:
  // `level`: 1 (fastest) to 9; the device's CPU is the scarce resource.
  // `window_bits` (9..15) and `mem_level` (1..9) set zlib's memory:
  // memory_bytes() of them for as long as the stream lives. The defaults
  // (a 4 KiB window, memLevel 5: 38 KiB) compress NDJSON log lines as well
  // as zlib's own (32 KiB, 8: 262 KiB) at level 1: the repeats in log lines
  // are near each other (tools/bench/gzip.cpp, docs/BENCHMARKS.md).
  explicit gzip_stream(int level = 1, int window_bits = 12, int mem_level = 5);
  // What deflate allocates for these settings (zlib's own formula, zconf.h,
  // plus its fixed state).
  static size_t memory_bytes(int window_bits, int mem_level);
  ~gzip_stream();
  gzip_stream(const gzip_stream&) = delete;
  gzip_stream& operator=(const gzip_stream&) = delete;

  void write(std::string_view in, std::string& out);
  void flush(std::string& out);
  void finish(std::string& out);
  // A fresh stream (new gzip header), for a new connection.
  void reset();

  // Bytes given to write() since the last reset.
  size_t total_in() const {
    return total_in_;
  }

private:
  void run(std::string_view in, int mode, std::string& out);

  struct impl;
  std::unique_ptr<impl> impl_;
  size_t total_in_ = 0;
};

} // namespace bosun::log_json
