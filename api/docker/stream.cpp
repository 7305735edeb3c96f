#include "api/docker/stream.hpp"

namespace bosun::docker {

// --------------------------------------------------------- ndjson_splitter --

std::vector<std::string> ndjson_splitter::feed(std::string_view piece) {
  std::vector<std::string> lines;
  if (error_)
    return lines;
  auto fail = [&] {
    error_ = "line longer than " + std::to_string(max_line_) + " bytes";
    partial_.clear();
  };
  while (!piece.empty()) {
    auto nl = piece.find('\n');
    auto take = nl == std::string_view::npos ? piece.size() : nl;
    // One byte of slack: it may be the '\r' of a "\r\n" terminator.
    if (partial_.size() + take > max_line_ + 1) {
      fail();
      break;
    }
    partial_.append(piece.data(), take);
    if (nl == std::string_view::npos)
      break;
    piece.remove_prefix(nl + 1);
    if (!partial_.empty() && partial_.back() == '\r')
      partial_.pop_back();
    if (partial_.size() > max_line_) {
      fail();
      break;
    }
    if (!partial_.empty())
      lines.push_back(std::move(partial_));
    partial_.clear();
  }
  return lines;
}

std::optional<std::string> ndjson_splitter::finish() {
  if (error_ || partial_.empty())
    return std::nullopt;
  std::string last = std::move(partial_);
  partial_.clear();
  if (!last.empty() && last.back() == '\r')
    last.pop_back();
  if (last.empty())
    return std::nullopt;
  return last;
}

// ------------------------------------------------------------- log_demuxer --

namespace {
constexpr std::size_t header_size = 8;
}

std::vector<log_frame> log_demuxer::feed(std::string_view piece) {
  std::vector<log_frame> frames;
  if (error_ || piece.empty())
    return frames;
  if (mode_ == mode::raw) {
    frames.push_back({log_stream::stdout_, std::string(piece)});
    return frames;
  }
  buf_.append(piece.data(), piece.size());
  std::size_t pos = 0;
  while (buf_.size() - pos >= header_size) {
    auto byte = [&](std::size_t i) {
      return static_cast<unsigned char>(buf_[pos + i]);
    };
    if (byte(0) > 2 || byte(1) != 0 || byte(2) != 0 || byte(3) != 0) {
      error_ = "bad log frame header at byte " + std::to_string(consumed_ + pos)
               + " (not a multiplexed stream?)";
      buf_.clear();
      return frames;
    }
    std::size_t size = static_cast<std::size_t>(byte(4)) << 24
                       | static_cast<std::size_t>(byte(5)) << 16
                       | static_cast<std::size_t>(byte(6)) << 8
                       | static_cast<std::size_t>(byte(7));
    if (size > max_frame_) {
      error_ = "log frame of " + std::to_string(size) + " bytes exceeds "
               + std::to_string(max_frame_);
      buf_.clear();
      return frames;
    }
    if (buf_.size() - pos - header_size < size)
      break;
    frames.push_back(
      {static_cast<log_stream>(byte(0)), buf_.substr(pos + header_size, size)});
    pos += header_size + size;
  }
  buf_.erase(0, pos);
  consumed_ += pos;
  return frames;
}

bool log_demuxer::finish() {
  if (error_)
    return false;
  if (!buf_.empty()) {
    error_ = "log stream truncated: " + std::to_string(buf_.size())
             + " bytes of an incomplete frame";
    return false;
  }
  return true;
}

// --------------------------------------------------------- split_timestamp --

timestamped_line split_timestamp(std::string_view line) {
  // "2024-01-02T03:04:05" at least, then fraction/zone, then one space.
  auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t i = from; i < from + n; ++i)
      if (line[i] < '0' || line[i] > '9')
        return false;
    return true;
  };
  auto space = line.find(' ');
  if (space == std::string_view::npos || space < 19)
    return {{}, line};
  bool looks = digits(0, 4) && line[4] == '-' && digits(5, 2) && line[7] == '-'
               && digits(8, 2) && line[10] == 'T' && digits(11, 2)
               && line[13] == ':' && digits(14, 2) && line[16] == ':'
               && digits(17, 2);
  if (!looks)
    return {{}, line};
  return {line.substr(0, space), line.substr(space + 1)};
}

} // namespace bosun::docker
