#pragma once

// Test helper: gzip text the way the agent's log stream does, one member
// whose pieces are sync-flushed, so each piece is decodable on arrival.
#include <stdexcept>
#include <string>
#include <vector>
#include <zlib.h>

namespace bosun::test {

class gzip_writer {
public:
  gzip_writer() {
    if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY)
        != Z_OK)
      throw std::runtime_error("deflateInit2");
  }
  ~gzip_writer() {
    deflateEnd(&z_);
  }
  gzip_writer(const gzip_writer&) = delete;
  gzip_writer& operator=(const gzip_writer&) = delete;

  // Compressed bytes for `text`, flushed (Z_SYNC_FLUSH) or ending the
  // stream (Z_FINISH).
  std::string write(const std::string& text, int flush = Z_SYNC_FLUSH) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z_.avail_in = static_cast<uInt>(text.size());
    std::string out;
    char buf[4096];
    for (;;) {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof(buf);
      int rc = deflate(&z_, flush);
      out.append(buf, sizeof(buf) - z_.avail_out);
      if (rc == Z_STREAM_END || (z_.avail_out != 0 && z_.avail_in == 0))
        break;
      if (rc != Z_OK && rc != Z_BUF_ERROR)
        throw std::runtime_error("deflate");
    }
    return out;
  }
  std::string finish(const std::string& text = {}) {
    return write(text, Z_FINISH);
  }

private:
  z_stream z_{};
};

inline std::string gzip(const std::string& text) {
  gzip_writer w;
  return w.finish(text);
}

} // namespace bosun::test
