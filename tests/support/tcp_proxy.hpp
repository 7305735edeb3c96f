#pragma once

// A TCP proxy on loopback for failure tests: it forwards 127.0.0.1:port()
// to a target on 127.0.0.1 (the test registry) and can be cut (every open
// connection dropped, new ones closed at once) and slowed (the bytes from
// the target to the client limited per second).
#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>
#include <thread>

namespace bosun::test {

class tcp_proxy {
public:
  explicit tcp_proxy(int target_port);
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  int port() const {
    return port_;
  }
  // Drops every connection and refuses new ones until restore().
  void cut();
  // Accepts again, at most `bytes_per_second` toward the client (0: as
  // fast as it goes).
  void restore(uint64_t bytes_per_second = 0);
  void set_rate(uint64_t bytes_per_second);

  // Bytes forwarded from the target to clients, in total.
  uint64_t bytes_down() const {
    return down_;
  }
  // Connections accepted and forwarded, in total.
  uint64_t connections() const {
    return connections_;
  }

private:
  void accept_loop();
  void forward(int client, uint64_t generation);

  int target_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> cut_{false};
  std::atomic<uint64_t> generation_{0}; // bumped by cut(): drop connections
  std::atomic<uint64_t> rate_{0};
  std::atomic<uint64_t> down_{0};
  std::atomic<uint64_t> connections_{0};
  std::mutex m_;
  std::list<std::thread> workers_;
  std::thread acceptor_;
};

} // namespace bosun::test
