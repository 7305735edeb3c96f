#include "actors/telemetry/process_stats.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace bosun::telemetry {

namespace {

std::optional<uint64_t> to_u64(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
    return std::nullopt;
  return v;
}

std::vector<std::string_view> fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
      ++i;
    auto start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n')
      ++i;
    if (i > start)
      out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string slurp(const char* path) {
  std::ifstream in(path);
  if (!in)
    return {};
  std::ostringstream o;
  o << in.rdbuf();
  return o.str();
}

} // namespace

std::optional<proc_stat> parse_proc_stat(std::string_view text) {
  auto close = text.rfind(')');
  if (close == std::string_view::npos)
    return std::nullopt;
  // After "pid (comm)": field 3 (state) is rest[0], so field n is rest[n-3].
  auto rest = fields(text.substr(close + 1));
  auto field = [&](size_t n) -> std::optional<uint64_t> {
    if (n < 3 || n - 3 >= rest.size())
      return std::nullopt;
    return to_u64(rest[n - 3]);
  };
  auto utime = field(14);
  auto stime = field(15);
  auto threads = field(20);
  auto start = field(22);
  auto rss = field(24);
  if (!utime || !stime || !threads || !start || !rss)
    return std::nullopt;
  return proc_stat{*utime, *stime, *threads, *start, *rss};
}

std::optional<uint64_t> parse_status_kb(std::string_view text,
                                        std::string_view name) {
  size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    auto line = text.substr(
      pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    if (line.size() <= name.size() || line.substr(0, name.size()) != name
        || line[name.size()] != ':')
      continue;
    auto f = fields(line.substr(name.size() + 1));
    if (f.size() != 2 || f[1] != "kB")
      return std::nullopt;
    auto kb = to_u64(f[0]);
    if (!kb)
      return std::nullopt;
    return *kb * 1024;
  }
  return std::nullopt;
}

std::optional<double> parse_uptime(std::string_view text) {
  auto f = fields(text);
  if (f.empty())
    return std::nullopt;
  // "12345.67": whole and hundredths, without locale-dependent strtod.
  auto dot = f[0].find('.');
  auto whole = to_u64(f[0].substr(0, dot));
  if (!whole)
    return std::nullopt;
  double v = static_cast<double>(*whole);
  if (dot != std::string_view::npos) {
    auto frac = f[0].substr(dot + 1);
    auto digits = to_u64(frac);
    if (!digits)
      return std::nullopt;
    double scale = 1;
    for (size_t i = 0; i < frac.size(); ++i)
      scale *= 10;
    v += static_cast<double>(*digits) / scale;
  }
  return v;
}

process_stats make_process_stats(std::string_view stat, std::string_view status,
                                 std::string_view uptime,
                                 uint64_t ticks_per_second,
                                 uint64_t page_size) {
  process_stats out;
  auto st = parse_proc_stat(stat);
  auto up = parse_uptime(uptime);
  if (!st || !up || ticks_per_second == 0)
    return out;
  auto hz = static_cast<double>(ticks_per_second);
  out.available = true;
  out.cpu_user_seconds = static_cast<double>(st->utime) / hz;
  out.cpu_system_seconds = static_cast<double>(st->stime) / hz;
  out.threads = st->num_threads;
  auto started = static_cast<double>(st->starttime) / hz;
  out.uptime_seconds = *up > started ? *up - started : 0;
  out.rss_bytes
    = parse_status_kb(status, "VmRSS").value_or(st->rss_pages * page_size);
  out.rss_peak_bytes = parse_status_kb(status, "VmHWM").value_or(out.rss_bytes);
  return out;
}

process_stats read_process_stats() {
  auto hz = ::sysconf(_SC_CLK_TCK);
  auto page = ::sysconf(_SC_PAGESIZE);
  return make_process_stats(slurp("/proc/self/stat"),
                            slurp("/proc/self/status"), slurp("/proc/uptime"),
                            hz > 0 ? static_cast<uint64_t>(hz) : 0,
                            page > 0 ? static_cast<uint64_t>(page) : 4096);
}

} // namespace bosun::telemetry
