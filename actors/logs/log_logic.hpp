#pragma once

// The logs actor's pure parts: line cutting and UTF-8 repair, engine
// timestamps, resume points (no duplicates, no gaps across restarts), the
// reconnect backoff, the bounded fair queue every reader has, and the
// persistent log's rotation. No I/O, no actors, no clock; unit-tested.
#include "messages/logs.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::log_logic {

// balena cuts a message to 10,000 characters, the cut one ending "[...]".
inline constexpr size_t max_message = 10000;
inline constexpr std::string_view cut_marker = "[...]";

// Cuts `s` to at most `limit` bytes ending in "[...]" when longer, never
// inside a UTF-8 sequence. True when it cut.
bool cut_message(std::string& s, size_t limit = max_message);

// Replaces every byte that is not part of valid UTF-8 with U+FFFD, as a
// JSON consumer decoding the line would. True when it changed anything.
bool sanitize_utf8(std::string& s);

// Unix nanoseconds of an RFC 3339 time as the engine writes it
// ("2024-01-02T03:04:05.123456789Z", any number of fraction digits, or an
// offset "+01:00"); std::nullopt when it is not one.
std::optional<int64_t> parse_rfc3339_ns(std::string_view s);

// Where a container's log was read up to: the time of the last line taken
// and how many lines with exactly that time were taken (the engine may give
// several lines one timestamp).
struct resume_point {
  int64_t ns = 0;
  uint64_t seq = 0;
};

inline bool operator==(const resume_point& a, const resume_point& b) {
  return a.ns == b.ns && a.seq == b.seq;
}
inline bool operator!=(const resume_point& a, const resume_point& b) {
  return !(a == b);
}
// Later in a log (a point with seq 0 is "before any line at ns").
inline bool operator<(const resume_point& a, const resume_point& b) {
  return a.ns < b.ns || (a.ns == b.ns && a.seq < b.seq);
}

// "<ns>:<seq>", as stored in the db (key "logs.last.<container id>").
std::string to_string(const resume_point& p);
std::optional<resume_point> parse_resume_point(std::string_view s);

// The engine's `since` (whole unix seconds) for reading on from `p`: lines
// before it are re-read and skipped by resume_filter.
int64_t since_seconds(const resume_point& p);

// Reads a log stream on from a resume point: lines up to it are skipped,
// later ones admitted; current() is the point after the last admitted line.
// Lines come in time order within one stream.
class resume_filter {
public:
  explicit resume_filter(resume_point from = {}) : from_(from), cur_(from) {}

  // Whether a line with this time is new. A line without a time
  // (std::nullopt) is always new and does not move the point.
  bool admit(std::optional<int64_t> ns);

  // The position after the last admitted line.
  const resume_point& current() const {
    return cur_;
  }

  // Starts a new read from the current position (a re-attach).
  void restart() {
    from_ = cur_;
    at_from_ = 0;
  }

private:
  resume_point from_;
  resume_point cur_;
  uint64_t at_from_ = 0; // lines seen with time == from_.ns in this read
};

// Reconnect delay after `failures` consecutive failures (1 = the first):
// min(5 s · 2^(failures-1), 300 s).
std::chrono::milliseconds reconnect_delay(uint32_t failures);

// What a queued line counts against a queue's bound: its text plus a fixed
// overhead for the entry, its pointer and the queue's bookkeeping.
size_t entry_cost(const log_entry& e);

// "Warning: Suppressed N message(s) due to high load".
std::string suppressed_message(uint64_t n);

// One queued line: the entry (shared by every queue it is in), the source it
// came from (0 = system, else a container's number) and, for container
// lines, the resume point just after it.
struct queued_line {
  log_entry_ptr entry;
  uint32_t source = 0;
  resume_point point;
};

// A reader's bounded queue. Over its bound, it drops the oldest line of the
// source holding the most bytes, so a flooding service loses its own lines
// rather than a quiet service's. Takes come out in arrival order.
class log_queue {
public:
  explicit log_queue(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  // Adds a line; returns the lines it had to drop (oldest first per drop).
  std::vector<queued_line> push(queued_line line);

  // Everything queued, in arrival order; the queue is then empty.
  std::vector<queued_line> take_all();

  // Drops everything (counted as dropped); returns what was dropped.
  std::vector<queued_line> clear();

  bool empty() const {
    return lines_ == 0;
  }
  size_t lines() const {
    return lines_;
  }
  size_t bytes() const {
    return bytes_;
  }
  size_t capacity() const {
    return capacity_;
  }
  void set_capacity(size_t c) {
    capacity_ = c;
  }
  uint64_t dropped() const {
    return dropped_;
  }
  // Drops not yet announced with a "Suppressed" line.
  uint64_t unannounced() const {
    return unannounced_;
  }
  void announced() {
    unannounced_ = 0;
  }

private:
  struct item {
    uint64_t seq;
    queued_line line;
    size_t cost;
  };
  struct per_source {
    std::deque<item> items;
    size_t bytes = 0;
  };

  size_t capacity_;
  uint64_t next_seq_ = 0;
  size_t lines_ = 0;
  size_t bytes_ = 0;
  uint64_t dropped_ = 0;
  uint64_t unannounced_ = 0;
  std::map<uint32_t, per_source> sources_;
};

// ------------------------------------------------------- persistent log --
// The on-disk log is two files: the current one and the one before it. Each
// holds at most half the cap, so both together never exceed it, and after a
// rotation the newest half-cap of lines is always there.

// Whether a line of `line_bytes` must start a new file: the current file
// holds `file_bytes` and may hold at most `file_cap`. An empty file takes
// the line (it is never rotated for nothing).
bool rotate_before(uint64_t file_bytes, uint64_t line_bytes, uint64_t file_cap);

// Encoded lines waiting to be appended, split where the files rotate. Only
// the last two pieces can survive the writes (an older piece would be
// rotated out at once), so only those are kept: pending memory never exceeds
// two files' worth.
class file_batch {
public:
  // `file_bytes`: what the current file already holds.
  file_batch(uint64_t file_cap, uint64_t file_bytes)
      : cap_(file_cap), file_bytes_(file_bytes) {}

  // Adds one encoded line ('\n' included). False (nothing added) when the
  // line alone is over a file's cap.
  bool add(std::string_view line);

  // A run of lines for one file. `fresh`: it starts a new file (the current
  // one becomes the old one first); else it is appended to the current one.
  struct piece {
    std::string text;
    uint64_t lines = 0;
    bool fresh = false;
  };

  // What to write, in order; the batch is then empty.
  std::vector<piece> take();

  // The current file's real size (after a failed write, or a reopen).
  void reset(uint64_t file_bytes);

  uint64_t file_cap() const {
    return cap_;
  }
  // The current file's size once everything pending is written.
  uint64_t file_bytes() const {
    return file_bytes_;
  }
  uint64_t pending_bytes() const {
    return pending_bytes_;
  }
  uint64_t pending_lines() const {
    return pending_lines_;
  }
  bool empty() const {
    return pieces_.empty();
  }
  // Lines that were rotated out before they were ever written.
  uint64_t skipped() const {
    return skipped_;
  }

private:
  uint64_t cap_;
  uint64_t file_bytes_;
  uint64_t pending_bytes_ = 0;
  uint64_t pending_lines_ = 0;
  uint64_t skipped_ = 0;
  std::deque<piece> pieces_;
};

// The persistent log's marks file: one "<key> <value>" per line (keys and
// values without spaces or line breaks; others are left out). parse_marks
// skips lines it cannot read, and a last line without its '\n'.
std::string encode_marks(const std::map<std::string, std::string>& marks);
std::map<std::string, std::string> parse_marks(std::string_view text);

} // namespace bosun::log_logic
