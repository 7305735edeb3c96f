#include "actors/logger.hpp"

#include <chrono>
#include <ctime>
#include <unistd.h>

namespace bosun {

void logger::write(log_level l, std::string_view component,
                   std::string_view message) const {
  if (!enabled(l))
    return;
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  auto line = fmt::format(
    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {:<5} {}{}: "
    "{}\n",
    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
    tm.tm_sec, ms, to_string(l), prefix_, component, message);
  // One write per line keeps lines from different threads whole.
  const char* p = line.data();
  auto left = line.size();
  while (left > 0) {
    auto n = ::write(fd_, p, left);
    if (n <= 0)
      return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

} // namespace bosun
