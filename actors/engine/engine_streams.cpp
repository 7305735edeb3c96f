#include "actors/engine/engine_streams.hpp"

#include "api/docker/codec.hpp"

#include <algorithm>

namespace bosun::engine_streams {

log_assembler::log_assembler(bool tty, bool timestamps)
    : demux_(tty ? docker::log_demuxer::mode::raw
                 : docker::log_demuxer::mode::multiplexed),
      timestamps_(timestamps) {}

std::vector<assembled_line> log_assembler::feed(std::string_view piece) {
  std::vector<assembled_line> out;
  for (auto& f : demux_.feed(piece))
    cut(f, out);
  return out;
}

bool log_assembler::finish(std::vector<assembled_line>& out) {
  for (auto src : {log_source::out, log_source::err}) {
    auto& buf = partial_[src == log_source::err ? 1 : 0];
    if (!buf.empty())
      emit(src, buf, out);
    buf.clear();
  }
  return demux_.finish();
}

std::optional<std::string> log_assembler::error() const {
  return demux_.error();
}

void log_assembler::cut(const docker::log_frame& f,
                        std::vector<assembled_line>& out) {
  // stdin frames do not occur in logs; count them as stdout.
  auto src = f.stream == docker::log_stream::stderr_ ? log_source::err
                                                     : log_source::out;
  auto& buf = partial_[src == log_source::err ? 1 : 0];
  buf += f.data;
  size_t start = 0;
  for (auto nl = buf.find('\n'); nl != std::string::npos;
       nl = buf.find('\n', start)) {
    emit(src, std::string_view{buf}.substr(start, nl - start), out);
    start = nl + 1;
  }
  buf.erase(0, start);
}

void log_assembler::emit(log_source src, std::string_view line,
                         std::vector<assembled_line>& out) const {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  assembled_line a;
  a.source = src;
  if (timestamps_) {
    auto parts = docker::split_timestamp(line);
    a.timestamp = std::string{parts.timestamp};
    a.text = std::string{parts.message};
  } else {
    a.text = std::string{line};
  }
  out.push_back(std::move(a));
}

std::vector<pull_progress> pull_reader::feed(std::string_view piece) {
  std::vector<pull_progress> out;
  for (auto& line : lines_.feed(piece))
    take(line, out);
  return out;
}

std::vector<pull_progress> pull_reader::finish() {
  std::vector<pull_progress> out;
  if (auto last = lines_.finish())
    take(*last, out);
  return out;
}

void pull_reader::take(const std::string& line,
                       std::vector<pull_progress>& out) {
  auto p = docker::decode_pull_progress(line);
  if (!p)
    return; // a line shape we do not know is progress we cannot show
  if (p->error)
    failure_ = *p->error;
  out.push_back(std::move(*p));
}

std::vector<engine_event> event_reader::feed(std::string_view piece) {
  std::vector<engine_event> out;
  for (auto& line : lines_.feed(piece)) {
    auto ev = docker::decode_event(line);
    if (!ev) {
      ++skipped_; // one bad line must not cost the stream
      continue;
    }
    auto t = ev->time_nano != 0 ? ev->time_nano : ev->time * 1000000000;
    last_nano_ = std::max(last_nano_, t);
    out.push_back(std::move(*ev));
  }
  return out;
}

} // namespace bosun::engine_streams
