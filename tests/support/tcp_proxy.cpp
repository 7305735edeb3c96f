#include "tests/support/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace bosun::test {

namespace {

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

// Writes all of buf; false when the peer is gone.
bool write_all(int fd, const char* buf, size_t n) {
  while (n > 0) {
    auto w = ::send(fd, buf, n, MSG_NOSIGNAL);
    if (w <= 0)
      return false;
    buf += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

constexpr int tick_ms = 50; // how often a pump looks at cut() and the rate

} // namespace

tcp_proxy::tcp_proxy(int target_port) : target_port_(target_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  auto addr = loopback(0);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
      || ::listen(listener_, 64) != 0)
    throw std::runtime_error("tcp_proxy: cannot listen");
  socklen_t len = sizeof(addr);
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

tcp_proxy::~tcp_proxy() {
  stop_ = true;
  ++generation_;
  acceptor_.join();
  ::close(listener_);
  std::lock_guard<std::mutex> g{m_};
  for (auto& t : workers_)
    t.join();
}

void tcp_proxy::cut() {
  cut_ = true;
  ++generation_;
}

void tcp_proxy::restore(uint64_t bytes_per_second) {
  rate_ = bytes_per_second;
  cut_ = false;
}

void tcp_proxy::set_rate(uint64_t bytes_per_second) {
  rate_ = bytes_per_second;
}

void tcp_proxy::accept_loop() {
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, tick_ms) <= 0)
      continue;
    int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0)
      continue;
    if (cut_) {
      ::close(client);
      continue;
    }
    ++connections_;
    std::lock_guard<std::mutex> g{m_};
    workers_.emplace_back(
      [this, client, gen = generation_.load()] { forward(client, gen); });
  }
}

// Copies both ways until either side closes, the proxy is cut (the
// generation changed) or stopped. Toward the client at most rate_ bytes
// per second, measured per tick.
void tcp_proxy::forward(int client, uint64_t generation) {
  int server = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = loopback(target_port_);
  if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
      != 0) {
    ::close(server);
    ::close(client);
    return;
  }
  using clock = std::chrono::steady_clock;
  auto window_start = clock::now();
  uint64_t window_bytes = 0;
  char buf[16384];
  bool open = true;
  while (open && !stop_ && generation_ == generation) {
    auto rate = rate_.load();
    auto now = clock::now();
    if (now - window_start >= std::chrono::milliseconds(tick_ms)) {
      window_start = now;
      window_bytes = 0;
    }
    uint64_t budget = rate == 0 ? sizeof(buf) : rate * tick_ms / 1000;
    bool may_read_server = rate == 0 || window_bytes < budget;
    pollfd p[2]
      = {{client, POLLIN, 0},
         {server, static_cast<short>(may_read_server ? POLLIN : 0), 0}};
    if (::poll(p, 2, may_read_server ? tick_ms : 5) < 0)
      break;
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      auto n = ::recv(client, buf, sizeof(buf), 0);
      open = n > 0 && write_all(server, buf, static_cast<size_t>(n));
    }
    if (open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      size_t want = sizeof(buf);
      if (rate != 0)
        want = std::min<size_t>(want, budget - window_bytes);
      auto n = ::recv(server, buf, want, 0);
      open = n > 0 && write_all(client, buf, static_cast<size_t>(n));
      if (n > 0) {
        window_bytes += static_cast<uint64_t>(n);
        down_ += static_cast<uint64_t>(n);
      }
    }
  }
  // A cut looks like a network failure: reset, not a clean close.
  linger l{1, 0};
  ::setsockopt(client, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(server);
  ::close(client);
}

} // namespace bosun::test
