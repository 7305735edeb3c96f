#pragma once

// The persistent log: every line the logs actor gets, as NDJSON (the
// /v2/local/logs shape), appended to <dir>/bosun.log; when that file would
// pass half the cap it becomes <dir>/bosun.log.1 (replacing the older one)
// and a new bosun.log starts, so both files together stay within the cap
// and the newest lines survive. Restarts append to what is there.
//
// Owned by the logs actor, used on its thread: add() only encodes into
// memory (bounded by the cap); flush() does the writes, one batch at a time
// and no fsync. Failures (full disk, unwritable dir) are counted, reported
// once, and never stop the logging elsewhere; the file is reopened at the
// next flush. A partial line left by a failed write or a crash is ended
// with '\n' before anything else is appended (readers skip it).
// Marks: small notes kept beside the files (bosun.log.marks), e.g. up to
// where each container's log is in them; rewritten after the lines of the
// same flush, so after a crash a mark never claims more than the files hold.
#include "actors/logs/log_logic.hpp"
#include "messages/logs.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bosun {

class persistent_log {
public:
  // The files' names in `dir`.
  static constexpr const char* current_name = "bosun.log";
  static constexpr const char* old_name = "bosun.log.1";
  static constexpr const char* marks_name = "bosun.log.marks";
  // The smallest cap allowed (config checks it): a longest line (10,000
  // characters) fits in half of it.
  static constexpr uint64_t min_max_bytes = 64 * 1024;

  // Opens (creating `dir` when needed); errors count, then are retried at
  // each flush.
  persistent_log(std::string dir, uint64_t max_bytes);
  // Writes what is pending.
  ~persistent_log();
  persistent_log(const persistent_log&) = delete;
  persistent_log& operator=(const persistent_log&) = delete;

  // Encodes one line into the pending batch.
  void add(const log_entry& e);

  bool pending() const {
    return !batch_.empty();
  }
  size_t pending_bytes() const {
    return batch_.pending_bytes();
  }

  // Writes the pending batch. When it fails and the previous flush did not,
  // returns the reason (to be logged once); also when it works again after
  // failing ("" then).
  std::optional<std::string> flush();

  std::optional<std::string> mark(const std::string& key) const;
  void set_mark(const std::string& key, std::string value);
  void erase_mark(const std::string& key);
  std::vector<std::string> mark_keys() const;
  // Something to write: lines or changed marks.
  bool dirty() const {
    return !batch_.empty() || marks_dirty_;
  }

  // The files that exist, oldest first.
  std::vector<std::string> files() const;
  uint64_t max_bytes() const {
    return max_bytes_;
  }
  log_file_stats stats() const;

private:
  bool open(std::string& why);
  bool rotate(std::string& why);
  bool write(const std::string& data, std::string& why);
  bool write_marks(std::string& why);
  void close();

  std::string dir_, current_, old_, marks_path_;
  uint64_t max_bytes_;
  int fd_ = -1;
  uint64_t cur_bytes_ = 0; // of the current file
  uint64_t old_bytes_ = 0; // of the old file
  log_logic::file_batch batch_;
  std::map<std::string, std::string> marks_;
  bool marks_dirty_ = false;
  std::string scratch_;
  bool failing_ = false;
  log_file_stats stats_;
};

} // namespace bosun
