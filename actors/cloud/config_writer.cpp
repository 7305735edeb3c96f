#include "actors/cloud/config_writer.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <unistd.h>

namespace bosun {

namespace {

std::string os_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

std::optional<std::string> atomic_write(const std::string& path,
                                        std::string_view data,
                                        const before_rename_hook& hook) {
  auto tmp = path + ".tmp";
  mode_t mode = 0644;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0)
    mode = st.st_mode & 07777;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return os_error("cannot create", tmp);
  auto fail = [&](const std::string& what) {
    auto why = os_error(what, tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return why;
  };
  for (size_t off = 0; off < data.size();) {
    auto n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail("cannot write");
    off += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0)
    return fail("cannot set the mode of");
  if (::fsync(fd) != 0)
    return fail("cannot sync");
  if (::close(fd) != 0) {
    auto why = os_error("cannot close", tmp);
    ::unlink(tmp.c_str());
    return why;
  }
  if (hook && !hook())
    return std::string("stopped before the rename");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto why = os_error("cannot rename to " + path + ":", tmp);
    ::unlink(tmp.c_str());
    return why;
  }
  // The rename itself is durable once the directory is synced.
  auto dir = directory_of(path);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return std::nullopt;
}

std::optional<std::string>
rewrite_config_json(const std::string& path,
                    const cloud::config_json_edit& edit,
                    const before_rename_hook& hook) {
  std::string text;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      return "cannot read " + path;
    text.assign(std::istreambuf_iterator<char>(in),
                std::istreambuf_iterator<char>());
  } else if (errno != ENOENT) {
    return os_error("cannot read", path);
  }
  auto edited = cloud::edit_config_json(text, edit);
  if (!edited.text)
    return path + ": " + edited.error;
  return atomic_write(path, *edited.text, hook);
}

} // namespace bosun
