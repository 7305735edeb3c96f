#pragma once

// Pure decoding of the engine actor's three streams, fed with body pieces as
// they arrive (any split): container logs into lines, pull progress, events.
// No I/O, no actors; unit-tested.
#include "api/docker/stream.hpp"
#include "messages/engine.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::engine_streams {

// A line as the listener gets it (source, timestamp, text).
using assembled_line = log_line;

// Demultiplexes (or passes raw TTY bytes) and cuts frames into lines, per
// source, splitting off the timestamp when asked.
class log_assembler {
public:
  log_assembler(bool tty, bool timestamps);

  std::vector<assembled_line> feed(std::string_view piece);
  // Flushes unterminated lines. False (with error()) when the stream was cut
  // inside a frame or carried a bad frame.
  bool finish(std::vector<assembled_line>& out);
  std::optional<std::string> error() const;

private:
  void cut(const docker::log_frame& f, std::vector<assembled_line>& out);
  void emit(log_source src, std::string_view line,
            std::vector<assembled_line>& out) const;

  docker::log_demuxer demux_;
  bool timestamps_;
  std::string partial_[2]; // stdout, stderr
};

// The NDJSON of POST /images/create: progress items, and the error the engine
// reports inside a 200 stream.
class pull_reader {
public:
  std::vector<pull_progress> feed(std::string_view piece);
  std::vector<pull_progress> finish();
  // The engine's error message, if it reported one.
  const std::optional<std::string>& failure() const {
    return failure_;
  }
  // A framing error (a line over the size limit).
  const std::optional<std::string>& error() const {
    return lines_.error();
  }

private:
  void take(const std::string& line, std::vector<pull_progress>& out);

  docker::ndjson_splitter lines_{docker::ndjson_splitter::default_max_line};
  std::optional<std::string> failure_;
};

// The NDJSON of GET /events, tracking the resume point.
class event_reader {
public:
  std::vector<engine_event> feed(std::string_view piece);
  // Unix ns of the newest event decoded so far (0: none).
  int64_t last_time_nano() const {
    return last_nano_;
  }
  // Lines that were not events (skipped).
  uint64_t skipped() const {
    return skipped_;
  }
  // A framing error (a line over the size limit): the stream is unusable.
  const std::optional<std::string>& error() const {
    return lines_.error();
  }

private:
  docker::ndjson_splitter lines_{docker::ndjson_splitter::default_max_line};
  int64_t last_nano_ = 0;
  uint64_t skipped_ = 0;
};

} // namespace bosun::engine_streams
