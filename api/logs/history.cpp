#include "api/logs/history.hpp"

#include "api/logs/log_json.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bosun::log_files {
namespace {

std::optional<int64_t> digits(std::string_view s) {
  if (s.empty() || s.size() > 18
      || s.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  int64_t n = 0;
  for (char c : s)
    n = n * 10 + (c - '0');
  return n;
}

struct open_file {
  int fd = -1;
  uint64_t size = 0;
  dev_t dev = 0;
  ino_t ino = 0;
};

} // namespace

std::optional<query> parse_query(const param_getter& get, std::string& why) {
  query q;
  if (auto v = get("count")) {
    auto n = digits(*v);
    if (!n || *n == 0) {
      why = "count must be a positive integer";
      return std::nullopt;
    }
    q.count = static_cast<uint64_t>(*n);
  }
  for (auto [name, out] :
       {std::pair{"since", &q.since}, std::pair{"until", &q.until}})
    if (auto v = get(name)) {
      *out = digits(*v);
      if (!*out) {
        why = std::string(name) + " must be a time in unix milliseconds";
        return std::nullopt;
      }
    }
  if (auto v = get("service"))
    q.service = std::move(*v);
  return q;
}

std::string filter(std::string_view ndjson, const query& q) {
  // The kept lines' places; with a count, only the last `count`.
  std::deque<std::string_view> kept;
  size_t start = 0;
  while (start < ndjson.size()) {
    auto nl = ndjson.find('\n', start);
    if (nl == std::string_view::npos)
      nl = ndjson.size(); // the last line, written without its '\n'
    auto line = ndjson.substr(start, nl - start);
    start = nl + 1;
    if (line.empty() || !log_json::local_line_matches(line, q))
      continue;
    kept.push_back(line);
    if (q.count && kept.size() > *q.count)
      kept.pop_front();
  }
  size_t total = 0;
  for (auto l : kept)
    total += l.size() + 1;
  std::string out;
  out.reserve(total);
  for (auto l : kept) {
    out.append(l);
    out.push_back('\n');
  }
  return out;
}

std::string read(const std::vector<std::string>& files, uint64_t max_bytes,
                 const query& q) {
  // Opened newest first: should the writer rotate in between, the older
  // name then holds the file already opened, which is read once.
  std::vector<open_file> open;
  for (auto i = files.rbegin(); i != files.rend(); ++i) {
    open_file f;
    f.fd = ::open(i->c_str(), O_RDONLY | O_CLOEXEC);
    if (f.fd < 0)
      continue;
    struct stat st {};
    bool seen = false;
    if (::fstat(f.fd, &st) == 0) {
      f.size = static_cast<uint64_t>(st.st_size);
      f.dev = st.st_dev;
      f.ino = st.st_ino;
      for (auto& o : open)
        seen = seen || (o.dev == f.dev && o.ino == f.ino);
    }
    if (seen) {
      ::close(f.fd);
      continue;
    }
    open.push_back(f);
  }
  std::reverse(open.begin(), open.end()); // oldest first
  uint64_t total = 0;
  for (auto& f : open)
    total += f.size;
  // Over the cap (a file grew since): skip the oldest bytes.
  uint64_t skip = total > max_bytes ? total - max_bytes : 0;
  std::string data;
  data.reserve(static_cast<size_t>(std::min(total, max_bytes)));
  for (auto& f : open) {
    uint64_t from = std::min(skip, f.size);
    skip -= from;
    std::string chunk(static_cast<size_t>(f.size - from), '\0');
    size_t got = 0;
    while (got < chunk.size()) {
      auto n = ::pread(f.fd, chunk.data() + got, chunk.size() - got,
                       static_cast<off_t>(from + got));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += static_cast<size_t>(n);
    }
    chunk.resize(got);
    ::close(f.fd);
    if (from > 0) { // started inside a line: drop its rest
      auto nl = chunk.find('\n');
      chunk.erase(0, nl == std::string::npos ? chunk.size() : nl + 1);
    }
    // A file ends at a line's end unless cut short: never join two files'
    // pieces into one line.
    if (!chunk.empty() && chunk.back() != '\n')
      chunk.push_back('\n');
    data += chunk;
  }
  return filter(data, q);
}

} // namespace bosun::log_files
