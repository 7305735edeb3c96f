#pragma once

// Turns a (gzip-compressed) byte stream into lines as the bytes arrive: the
// log-stream body is one long gzip stream, flushed every ~100 ms, whose
// chunks need not end on a line or on a deflate block.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace bosun::cloud_sim {

class line_inflater {
public:
  using line_fn = std::function<void(std::string_view)>;

  // gzip = false passes bytes through (a client that sent no
  // Content-Encoding).
  explicit line_inflater(bool gzip, size_t max_line = 1 << 20);
  ~line_inflater();
  line_inflater(const line_inflater&) = delete;
  line_inflater& operator=(const line_inflater&) = delete;

  // Calls `on_line` for each complete line (without "\n" or "\r\n"; empty
  // lines skipped). False once the stream is corrupt; see error().
  bool feed(const char* data, size_t size, const line_fn& on_line);
  // The body ended: emits a last unterminated line.
  bool finish(const line_fn& on_line);

  const std::string& error() const {
    return error_;
  }
  uint64_t bytes_out() const {
    return bytes_out_;
  }

private:
  void split(const char* data, size_t size, const line_fn& on_line);

  struct zstate;
  std::unique_ptr<zstate> z_; // null when not gzip
  size_t max_line_;
  std::string partial_;
  std::string error_;
  bool member_done_ = false; // between concatenated gzip members
  uint64_t bytes_out_ = 0;
};

} // namespace bosun::cloud_sim
