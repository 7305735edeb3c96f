#include "actors/systemd/notify.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace bosun {

struct notify_socket::fd_holder {
  int fd = -1;
  sockaddr_un addr{};
  socklen_t len = 0;
  ~fd_holder() {
    if (fd >= 0)
      ::close(fd);
  }
};

std::optional<notify_socket>
notify_socket::from_env(const std::map<std::string, std::string>& env,
                        std::string* why) {
  auto it = env.find("NOTIFY_SOCKET");
  if (it == env.end() || it->second.empty())
    return std::nullopt;
  const std::string& path = it->second;
  auto fail = [&](std::string reason) -> std::optional<notify_socket> {
    if (why)
      *why = "NOTIFY_SOCKET=" + path + ": " + std::move(reason);
    return std::nullopt;
  };
  if (path[0] != '/' && path[0] != '@')
    return fail("expected an absolute path or @name");
  auto h = std::make_shared<fd_holder>();
  if (path.size() >= sizeof(h->addr.sun_path))
    return fail("longer than a unix socket address");
  h->addr.sun_family = AF_UNIX;
  std::memcpy(h->addr.sun_path, path.data(), path.size());
  if (path[0] == '@')
    h->addr.sun_path[0] = '\0'; // abstract namespace
  h->len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size()
                                  + (path[0] == '/' ? 1 : 0));
  h->fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (h->fd < 0)
    return fail(std::strerror(errno));
  notify_socket s;
  s.address_ = path;
  s.fd_ = std::move(h);
  return s;
}

bool notify_socket::send(std::string_view state) const {
  auto n = ::sendto(fd_->fd, state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&fd_->addr), fd_->len);
  return n == static_cast<ssize_t>(state.size());
}

std::optional<std::chrono::microseconds>
watchdog_period(const std::map<std::string, std::string>& env, long pid) {
  auto usec = env.find("WATCHDOG_USEC");
  if (usec == env.end() || usec->second.empty())
    return std::nullopt;
  auto owner = env.find("WATCHDOG_PID");
  if (owner != env.end() && !owner->second.empty()
      && owner->second != std::to_string(pid))
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(usec->second.c_str(), &end, 10);
  if (errno != 0 || end == usec->second.c_str() || *end != '\0' || v == 0
      || usec->second[0] == '-')
    return std::nullopt;
  return std::chrono::microseconds(static_cast<int64_t>(v / 2));
}

} // namespace bosun
