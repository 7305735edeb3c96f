#pragma once

// The process's own figures from /proc/self: resident memory, CPU time,
// threads and uptime. The parsers are pure and unit-tested; read_process
// reads the files (procfs is in memory: cheap enough for an actor).
#include "messages/telemetry.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bosun::telemetry {

// The fields of /proc/<pid>/stat we use (proc(5)); times in clock ticks.
struct proc_stat {
  uint64_t utime = 0;
  uint64_t stime = 0;
  uint64_t num_threads = 0;
  uint64_t starttime = 0; // since boot
  uint64_t rss_pages = 0;
};

// Parses one /proc/<pid>/stat line. The command name (field 2) is in
// parentheses and may itself contain spaces and parentheses, so fields are
// counted from the last ')'.
std::optional<proc_stat> parse_proc_stat(std::string_view text);

// A "Name:   <n> kB" line of /proc/<pid>/status, in bytes ("VmRSS",
// "VmHWM"); std::nullopt when absent or garbled.
std::optional<uint64_t> parse_status_kb(std::string_view text,
                                        std::string_view name);

// The first figure of /proc/uptime: seconds since boot.
std::optional<double> parse_uptime(std::string_view text);

// The stats from the three files' contents; `ticks_per_second` from
// sysconf(_SC_CLK_TCK), `page_size` from sysconf(_SC_PAGESIZE).
process_stats make_process_stats(std::string_view stat, std::string_view status,
                                 std::string_view uptime,
                                 uint64_t ticks_per_second, uint64_t page_size);

// Reads /proc/self; `available` is false when it cannot.
process_stats read_process_stats();

} // namespace bosun::telemetry
