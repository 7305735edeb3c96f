#include "api/logs/gzip.hpp"

#include <stdexcept>
#include <zlib.h>

namespace bosun::log_json {

struct gzip_stream::impl {
  z_stream z{};
  int level = 1;
  int window_bits = 12;
  int mem_level = 5;
  bool finished = false;
};

namespace {

void init(z_stream& z, int level, int window_bits, int mem_level) {
  z = z_stream{};
  // + 16: a gzip header and trailer around the deflate stream.
  if (deflateInit2(&z, level, Z_DEFLATED, window_bits + 16, mem_level,
                   Z_DEFAULT_STRATEGY)
      != Z_OK)
    throw std::bad_alloc();
}

} // namespace

gzip_stream::gzip_stream(int level, int window_bits, int mem_level)
    : impl_(std::make_unique<impl>()) {
  impl_->level = level;
  impl_->window_bits = window_bits;
  impl_->mem_level = mem_level;
  init(impl_->z, level, window_bits, mem_level);
}

size_t gzip_stream::memory_bytes(int window_bits, int mem_level) {
  // zconf.h: (1 << (windowBits + 2)) + (1 << (memLevel + 9)), plus the
  // deflate_state itself (about 6 KiB).
  return (size_t{1} << (window_bits + 2)) + (size_t{1} << (mem_level + 9))
         + sizeof(z_stream) + 6 * 1024;
}

gzip_stream::~gzip_stream() {
  deflateEnd(&impl_->z);
}

void gzip_stream::reset() {
  deflateEnd(&impl_->z);
  init(impl_->z, impl_->level, impl_->window_bits, impl_->mem_level);
  impl_->finished = false;
  total_in_ = 0;
}

void gzip_stream::write(std::string_view in, std::string& out) {
  if (!in.empty())
    run(in, Z_NO_FLUSH, out);
  total_in_ += in.size();
}

void gzip_stream::flush(std::string& out) {
  run({}, Z_SYNC_FLUSH, out);
}

void gzip_stream::finish(std::string& out) {
  run({}, Z_FINISH, out);
  impl_->finished = true;
}

void gzip_stream::run(std::string_view in, int mode, std::string& out) {
  if (impl_->finished)
    return;
  auto& z = impl_->z;
  // zlib does not write through next_in.
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[16384];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    int rc = deflate(&z, mode);
    out.append(buf, sizeof(buf) - z.avail_out);
    if (rc == Z_STREAM_END)
      return;
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      throw std::runtime_error("deflate failed");
    // Done when zlib took all input and had room left over.
    if (z.avail_in == 0 && z.avail_out != 0)
      return;
  }
}

} // namespace bosun::log_json
