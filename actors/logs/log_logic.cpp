#include "actors/logs/log_logic.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace bosun::log_logic {

bool cut_message(std::string& s, size_t limit) {
  if (s.size() <= limit)
    return false;
  size_t keep = limit > cut_marker.size() ? limit - cut_marker.size() : 0;
  // s[keep] is the first byte dropped: while it continues a sequence, the
  // sequence started inside what we keep, so drop its start too.
  while (keep > 0 && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80)
    --keep;
  s.resize(keep);
  s += cut_marker;
  return true;
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t valid_sequence(const std::string& s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(i);
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2))
      return 0;
    unsigned char c1 = b(i + 1);
    if (c == 0xE0 && c1 < 0xA0)
      return 0; // overlong
    if (c == 0xED && c1 >= 0xA0)
      return 0; // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3))
      return 0;
    unsigned char c1 = b(i + 1);
    if (c == 0xF0 && c1 < 0x90)
      return 0; // overlong
    if (c == 0xF4 && c1 >= 0x90)
      return 0; // above U+10FFFF
    return 4;
  }
  return 0;
}

} // namespace

bool sanitize_utf8(std::string& s) {
  size_t i = 0;
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80)
    ++i;
  if (i == s.size())
    return false;
  std::string out;
  bool changed = false;
  out.reserve(s.size() + 8);
  out.append(s, 0, i);
  while (i < s.size()) {
    auto n = valid_sequence(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      changed = true;
      ++i;
      continue;
    }
    out.append(s, i, n);
    i += n;
  }
  if (changed)
    s = std::move(out);
  return changed;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view s, size_t pos, size_t n, int64_t& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (size_t k = pos; k < pos + n; ++k) {
    if (s[k] < '0' || s[k] > '9')
      return false;
    out = out * 10 + (s[k] - '0');
  }
  return true;
}

} // namespace

std::optional<int64_t> parse_rfc3339_ns(std::string_view s) {
  int64_t y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-'
      || !digits(s, 5, 2, mo) || s[7] != '-' || !digits(s, 8, 2, d)
      || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h)
      || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':'
      || !digits(s, 17, 2, sec))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return std::nullopt;
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 9)
        frac = frac * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0)
      return std::nullopt;
    for (; n < 9; ++n)
      frac *= 10;
  }
  int64_t offset_s = 0;
  if (pos >= s.size())
    return std::nullopt;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int64_t oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':'
        || !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  auto days
    = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1000000000 + frac;
}

std::string to_string(const resume_point& p) {
  return std::to_string(p.ns) + ":" + std::to_string(p.seq);
}

std::optional<resume_point> parse_resume_point(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size())
    return std::nullopt;
  auto number = [](std::string_view t, uint64_t& out) {
    if (t.size() > 19)
      return false;
    out = 0;
    for (char c : t) {
      if (c < '0' || c > '9')
        return false;
      out = out * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  uint64_t ns = 0, seq = 0;
  if (!number(s.substr(0, colon), ns) || !number(s.substr(colon + 1), seq)
      || ns > static_cast<uint64_t>(INT64_MAX))
    return std::nullopt;
  return resume_point{static_cast<int64_t>(ns), seq};
}

int64_t since_seconds(const resume_point& p) {
  return p.ns <= 0 ? 0 : p.ns / 1000000000;
}

bool resume_filter::admit(std::optional<int64_t> ns) {
  if (!ns)
    return true;
  if (*ns < from_.ns)
    return false;
  if (*ns == from_.ns && at_from_ < from_.seq) {
    // Lines at the resume time: the first from_.seq of them were taken.
    ++at_from_;
    return false;
  }
  if (*ns == cur_.ns)
    ++cur_.seq;
  else if (*ns > cur_.ns)
    cur_ = resume_point{*ns, 1};
  // else: a line older than the last one taken (stdout and stderr are
  // stamped apart): new, but the point stays where it is.
  return true;
}

std::chrono::milliseconds reconnect_delay(uint32_t failures) {
  using namespace std::chrono;
  constexpr milliseconds first = seconds(5);
  constexpr milliseconds cap = seconds(300);
  if (failures <= 1)
    return first;
  auto shift = std::min<uint32_t>(failures - 1, 16);
  return std::min(cap, first * (int64_t{1} << shift));
}

size_t entry_cost(const log_entry& e) {
  return e.message.size() + e.service_name.size() + 64;
}

std::string suppressed_message(uint64_t n) {
  return "Warning: Suppressed " + std::to_string(n)
         + " message(s) due to high load";
}

std::vector<queued_line> log_queue::push(queued_line line) {
  std::vector<queued_line> dropped;
  auto cost = line.entry ? entry_cost(*line.entry) : 64;
  auto& src = sources_[line.source];
  src.items.push_back(item{next_seq_++, std::move(line), cost});
  src.bytes += cost;
  bytes_ += cost;
  ++lines_;
  while (bytes_ > capacity_ && lines_ > 0) {
    // The heaviest source pays; ties go to the one whose oldest line is
    // oldest.
    per_source* victim = nullptr;
    for (auto& [id, s] : sources_) {
      if (s.items.empty())
        continue;
      if (victim == nullptr || s.bytes > victim->bytes
          || (s.bytes == victim->bytes
              && s.items.front().seq < victim->items.front().seq))
        victim = &s;
    }
    auto& it = victim->items.front();
    victim->bytes -= it.cost;
    bytes_ -= it.cost;
    --lines_;
    ++dropped_;
    ++unannounced_;
    dropped.push_back(std::move(it.line));
    victim->items.pop_front();
  }
  return dropped;
}

std::vector<queued_line> log_queue::take_all() {
  std::vector<queued_line> out;
  out.reserve(lines_);
  // Merge the per-source queues by arrival order; there are few sources.
  for (;;) {
    per_source* next = nullptr;
    for (auto& [id, s] : sources_)
      if (!s.items.empty()
          && (next == nullptr || s.items.front().seq < next->items.front().seq))
        next = &s;
    if (next == nullptr)
      break;
    out.push_back(std::move(next->items.front().line));
    next->items.pop_front();
  }
  sources_.clear();
  lines_ = 0;
  bytes_ = 0;
  return out;
}

std::vector<queued_line> log_queue::clear() {
  auto out = take_all();
  dropped_ += out.size();
  return out;
}

// ------------------------------------------------------- persistent log --

bool rotate_before(uint64_t file_bytes, uint64_t line_bytes,
                   uint64_t file_cap) {
  return file_bytes > 0 && file_bytes + line_bytes > file_cap;
}

bool file_batch::add(std::string_view line) {
  if (line.size() > cap_)
    return false;
  bool rotate = rotate_before(file_bytes_, line.size(), cap_);
  if (rotate || pieces_.empty()) {
    pieces_.push_back(piece{{}, 0, rotate});
    if (rotate)
      file_bytes_ = 0;
    if (pieces_.size() > 2) {
      // Written, it would be rotated out by the next two pieces at once.
      auto& gone = pieces_.front();
      pending_bytes_ -= gone.text.size();
      pending_lines_ -= gone.lines;
      skipped_ += gone.lines;
      pieces_.pop_front();
    }
  }
  auto& p = pieces_.back();
  p.text.append(line);
  ++p.lines;
  file_bytes_ += line.size();
  pending_bytes_ += line.size();
  ++pending_lines_;
  return true;
}

std::vector<file_batch::piece> file_batch::take() {
  std::vector<piece> out(std::make_move_iterator(pieces_.begin()),
                         std::make_move_iterator(pieces_.end()));
  pieces_.clear();
  pending_bytes_ = 0;
  pending_lines_ = 0;
  return out;
}

void file_batch::reset(uint64_t file_bytes) {
  if (pieces_.empty()) {
    file_bytes_ = file_bytes;
    return;
  }
  // The pending lines were split for the size it was thought to have.
  auto& first = pieces_.front();
  if (!first.fresh && rotate_before(file_bytes, first.text.size(), cap_))
    first.fresh = true;
  auto& last = pieces_.back();
  file_bytes_ = last.fresh ? last.text.size() : file_bytes + last.text.size();
}

namespace {

bool mark_word(std::string_view s) {
  return !s.empty() && s.find_first_of(" \n\r") == std::string_view::npos;
}

} // namespace

std::string encode_marks(const std::map<std::string, std::string>& marks) {
  std::string out;
  for (auto& [k, v] : marks)
    if (mark_word(k) && mark_word(v))
      out += k + " " + v + "\n";
  return out;
}

std::map<std::string, std::string> parse_marks(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  for (auto nl = text.find('\n'); nl != std::string_view::npos;
       nl = text.find('\n', start)) {
    auto line = text.substr(start, nl - start);
    start = nl + 1;
    auto sp = line.find(' ');
    if (sp == std::string_view::npos)
      continue;
    auto k = line.substr(0, sp), v = line.substr(sp + 1);
    if (mark_word(k) && mark_word(v))
      out[std::string(k)] = std::string(v);
  }
  return out;
}

} // namespace bosun::log_logic
