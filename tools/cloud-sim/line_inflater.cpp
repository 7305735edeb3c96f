#include "tools/cloud-sim/line_inflater.hpp"

#include <zlib.h>

namespace bosun::cloud_sim {

struct line_inflater::zstate {
  z_stream s{};
  bool ok = false;
  zstate() {
    // 16 + MAX_WBITS: a gzip wrapper, not raw zlib.
    ok = inflateInit2(&s, 16 + MAX_WBITS) == Z_OK;
  }
  ~zstate() {
    if (ok)
      inflateEnd(&s);
  }
  zstate(const zstate&) = delete;
  zstate& operator=(const zstate&) = delete;
};

line_inflater::line_inflater(bool gzip, size_t max_line) : max_line_(max_line) {
  if (gzip) {
    z_ = std::make_unique<zstate>();
    if (!z_->ok)
      error_ = "inflateInit2 failed";
  }
}

line_inflater::~line_inflater() = default;

bool line_inflater::feed(const char* data, size_t size,
                         const line_fn& on_line) {
  if (!error_.empty())
    return false;
  if (!z_) {
    bytes_out_ += size;
    split(data, size, on_line);
    return error_.empty();
  }
  auto& s = z_->s;
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  s.avail_in = static_cast<uInt>(size);
  char out[16384];
  for (;;) {
    if (member_done_) {
      if (s.avail_in == 0)
        break;
      // Another gzip member follows the one that ended.
      inflateReset(&s);
      member_done_ = false;
    }
    s.next_out = reinterpret_cast<Bytef*>(out);
    s.avail_out = sizeof(out);
    int rc = inflate(&s, Z_NO_FLUSH);
    size_t produced = sizeof(out) - s.avail_out;
    bytes_out_ += produced;
    split(out, produced, on_line);
    if (!error_.empty())
      return false;
    if (rc == Z_STREAM_END) {
      member_done_ = true;
      continue;
    }
    if (rc == Z_BUF_ERROR)
      break; // no progress possible: waits for more input
    if (rc != Z_OK) {
      error_ = std::string("gzip: ") + (s.msg != nullptr ? s.msg : "error");
      return false;
    }
    if (s.avail_in == 0 && s.avail_out != 0)
      break; // all input taken and all output given
  }
  return true;
}

bool line_inflater::finish(const line_fn& on_line) {
  if (!error_.empty())
    return false;
  // A gzip stream cut before its trailer still gave its lines: the agent may
  // close the request without finishing the member, which is no error here.
  if (!partial_.empty()) {
    std::string last;
    last.swap(partial_);
    if (!last.empty() && last.back() == '\r')
      last.pop_back();
    if (!last.empty())
      on_line(last);
  }
  return true;
}

void line_inflater::split(const char* data, size_t size,
                          const line_fn& on_line) {
  std::string_view rest(data, size);
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(rest.data(), rest.size());
      if (partial_.size() > max_line_)
        error_ = "line longer than " + std::to_string(max_line_) + " bytes";
      return;
    }
    std::string_view piece = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    std::string_view line;
    if (partial_.empty()) {
      line = piece;
    } else {
      partial_.append(piece.data(), piece.size());
      line = partial_;
    }
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (!line.empty())
      on_line(line);
    partial_.clear();
  }
}

} // namespace bosun::cloud_sim
