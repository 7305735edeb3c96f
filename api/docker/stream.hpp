#pragma once

// Incremental framing of Docker's streaming responses. Pure: feed the
// de-chunked body pieces as they arrive (any split), get complete units out.
//
//  - ndjson_splitter: /events and /images/create are NDJSON whose HTTP chunks
//    need not end on line boundaries.
//  - log_demuxer: non-TTY /containers/{id}/logs (and attach) multiplex stdout
//    and stderr in 8-byte-header frames; TTY containers send raw bytes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::docker {

// Splits a byte stream into lines on '\n', dropping a trailing '\r'. Empty
// lines are skipped (Docker never sends them as records).
class ndjson_splitter {
public:
  static constexpr std::size_t default_max_line = 1 << 20; // 1 MiB

  explicit ndjson_splitter(std::size_t max_line = default_max_line)
      : max_line_(max_line) {}

  // Appends a piece and returns the lines it completed. Once a line exceeds
  // max_line, the splitter fails for good: feed() returns nothing more and
  // error() says why.
  std::vector<std::string> feed(std::string_view piece);

  // At end of stream: the unterminated last line, if any (Docker ends every
  // record with '\n', so this is usually empty).
  std::optional<std::string> finish();

  const std::optional<std::string>& error() const {
    return error_;
  }
  // Bytes held waiting for '\n'.
  std::size_t pending() const {
    return partial_.size();
  }

private:
  std::size_t max_line_;
  std::string partial_;
  std::optional<std::string> error_;
};

// Which stream a log frame came from (the frame header's first byte).
enum class log_stream : uint8_t { stdin_ = 0, stdout_ = 1, stderr_ = 2 };

struct log_frame {
  log_stream stream = log_stream::stdout_;
  std::string data;
  friend bool operator==(const log_frame& a, const log_frame& b) {
    return a.stream == b.stream && a.data == b.data;
  }
};

// Decodes [stream, 0, 0, 0, size (u32 big-endian)] + payload frames. In raw
// mode (a TTY container) every piece passes through as one stdout frame.
class log_demuxer {
public:
  enum class mode { multiplexed, raw };
  static constexpr std::size_t default_max_frame = 16 << 20; // 16 MiB

  explicit log_demuxer(mode m = mode::multiplexed,
                       std::size_t max_frame = default_max_frame)
      : mode_(m), max_frame_(max_frame) {}

  // Returns the frames completed by this piece. A bad header (stream byte
  // > 2, non-zero padding, size over max_frame) fails for good: nothing more
  // is returned and error() says why.
  std::vector<log_frame> feed(std::string_view piece);

  // True when the stream ended on a frame boundary. Otherwise error() is set
  // to a "truncated" message.
  bool finish();

  const std::optional<std::string>& error() const {
    return error_;
  }

private:
  mode mode_;
  std::size_t max_frame_;
  std::string buf_;
  std::size_t consumed_ = 0; // bytes of complete frames, for error offsets
  std::optional<std::string> error_;
};

// A log line fetched with timestamps=1: "<RFC3339Nano> <message>".
struct timestamped_line {
  std::string_view timestamp; // empty when the line has none
  std::string_view message;   // the rest (the whole line without timestamp)
};

// Splits off the leading timestamp (up to the first space) when it looks like
// one ("YYYY-MM-DDTHH:MM:SS..."); otherwise timestamp is empty and message is
// the whole line. Views into `line`.
timestamped_line split_timestamp(std::string_view line);

} // namespace bosun::docker
