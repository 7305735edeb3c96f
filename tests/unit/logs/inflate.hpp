#pragma once

// Test helper: a gzip stream decoded piece by piece, as the cloud reads it.
#include <stdexcept>
#include <string>
#include <zlib.h>

namespace bosun::test {

class gunzip {
public:
  gunzip() {
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK)
      throw std::runtime_error("inflateInit2");
  }
  ~gunzip() {
    inflateEnd(&z_);
  }
  gunzip(const gunzip&) = delete;
  gunzip& operator=(const gunzip&) = delete;

  // The text decodable from everything fed so far.
  std::string feed(const std::string& bytes) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z_.avail_in = static_cast<uInt>(bytes.size());
    std::string out;
    char buf[4096];
    while (!ended_) {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof(buf);
      int rc = inflate(&z_, Z_NO_FLUSH);
      out.append(buf, sizeof(buf) - z_.avail_out);
      if (rc == Z_STREAM_END)
        ended_ = true;
      else if (rc == Z_BUF_ERROR)
        break;
      else if (rc != Z_OK)
        throw std::runtime_error("corrupt gzip");
      else if (z_.avail_in == 0 && z_.avail_out != 0)
        break;
    }
    return out;
  }
  bool ended() const {
    return ended_;
  }

private:
  z_stream z_{};
  bool ended_ = false;
};

} // namespace bosun::test
