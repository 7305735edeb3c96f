#include "actors/logs/log_file.hpp"

#include "api/logs/log_json.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace bosun {
namespace {

std::string failure(const char* what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

// The size of `path`; std::nullopt when it does not exist (or is no file).
std::optional<uint64_t> file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

} // namespace

persistent_log::persistent_log(std::string dir, uint64_t max_bytes)
    : dir_(std::move(dir)), current_(dir_ + "/" + current_name),
      old_(dir_ + "/" + old_name), marks_path_(dir_ + "/" + marks_name),
      max_bytes_(std::max(max_bytes, min_max_bytes)),
      batch_(max_bytes_ / 2, 0) {
  stats_.enabled = true;
  {
    std::ifstream in(marks_path_, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    marks_ = log_logic::parse_marks(text.str());
  }
  std::string why;
  if (!open(why)) {
    ++stats_.write_errors;
    stats_.last_error = why;
    failing_ = true;
  }
}

persistent_log::~persistent_log() {
  flush();
  close();
}

void persistent_log::add(const log_entry& e) {
  scratch_.clear();
  log_json::append_local_line(e, scratch_);
  if (!batch_.add(scratch_))
    ++stats_.dropped;
}

bool persistent_log::open(std::string& why) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    why = "cannot create " + dir_ + ": " + ec.message();
    return false;
  }
  // Over a file's cap only when the cap was lowered: start afresh.
  auto cap = batch_.file_cap();
  for (auto* path : {&old_, &current_})
    if (auto n = file_size(*path); n && *n > cap)
      ::unlink(path->c_str());
  fd_ = ::open(current_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    why = failure("cannot open", current_);
    return false;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    why = failure("cannot stat", current_);
    close();
    return false;
  }
  cur_bytes_ = static_cast<uint64_t>(st.st_size);
  old_bytes_ = file_size(old_).value_or(0);
  if (cur_bytes_ > 0) {
    // A line cut short (a crash, a failed write) ends before ours start.
    char last = '\n';
    if (::pread(fd_, &last, 1, static_cast<off_t>(cur_bytes_ - 1)) != 1) {
      why = failure("cannot read", current_);
      close();
      return false;
    }
    if (last != '\n' && !write("\n", why)) {
      close();
      return false;
    }
  }
  batch_.reset(cur_bytes_);
  return true;
}

bool persistent_log::rotate(std::string& why) {
  close();
  if (::rename(current_.c_str(), old_.c_str()) != 0 && errno != ENOENT) {
    why = failure("cannot rotate", current_);
    return false;
  }
  old_bytes_ = cur_bytes_;
  cur_bytes_ = 0;
  ++stats_.rotations;
  fd_ = ::open(current_.c_str(),
               O_RDWR | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    why = failure("cannot open", current_);
    return false;
  }
  return true;
}

bool persistent_log::write(const std::string& data, std::string& why) {
  size_t done = 0;
  while (done < data.size()) {
    auto n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      why = failure("cannot write", current_);
      return false;
    }
    done += static_cast<size_t>(n);
    cur_bytes_ += static_cast<uint64_t>(n);
    stats_.bytes_written += static_cast<uint64_t>(n);
  }
  return true;
}

void persistent_log::close() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

bool persistent_log::write_marks(std::string& why) {
  auto tmp = marks_path_ + ".tmp";
  auto text = log_logic::encode_marks(marks_);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    why = failure("cannot open", tmp);
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      why = failure("cannot write", tmp);
      ::close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), marks_path_.c_str()) != 0) {
    why = failure("cannot rename", tmp);
    return false;
  }
  marks_dirty_ = false;
  return true;
}

std::optional<std::string> persistent_log::mark(const std::string& key) const {
  auto i = marks_.find(key);
  if (i == marks_.end())
    return std::nullopt;
  return i->second;
}

void persistent_log::set_mark(const std::string& key, std::string value) {
  auto& v = marks_[key];
  if (v != value) {
    v = std::move(value);
    marks_dirty_ = true;
  }
}

void persistent_log::erase_mark(const std::string& key) {
  marks_dirty_ = marks_.erase(key) > 0 || marks_dirty_;
}

std::vector<std::string> persistent_log::mark_keys() const {
  std::vector<std::string> out;
  for (auto& [k, v] : marks_)
    out.push_back(k);
  return out;
}

std::optional<std::string> persistent_log::flush() {
  if (!dirty())
    return std::nullopt;
  std::string why;
  bool ok = fd_ >= 0 || open(why);
  auto pieces = batch_.take();
  for (auto& p : pieces) {
    if (ok && p.fresh)
      ok = rotate(why);
    if (ok)
      ok = write(p.text, why);
    if (ok)
      stats_.lines += p.lines;
    else
      stats_.dropped += p.lines;
  }
  if (ok && marks_dirty_)
    ok = write_marks(why);
  if (!ok) {
    ++stats_.write_errors;
    stats_.last_error = why;
    close(); // reopened (and repaired) at the next flush
    batch_.reset(cur_bytes_);
    if (failing_)
      return std::nullopt;
    failing_ = true;
    return why;
  }
  if (!failing_)
    return std::nullopt;
  failing_ = false;
  stats_.last_error.clear();
  return std::string{};
}

std::vector<std::string> persistent_log::files() const {
  std::vector<std::string> out;
  for (auto* path : {&old_, &current_})
    if (file_size(*path))
      out.push_back(*path);
  return out;
}

log_file_stats persistent_log::stats() const {
  auto s = stats_;
  s.max_bytes = max_bytes_;
  s.size_bytes
    = (fd_ >= 0 ? cur_bytes_ : file_size(current_).value_or(0)) + old_bytes_;
  s.pending_bytes = batch_.pending_bytes();
  return s;
}

} // namespace bosun
