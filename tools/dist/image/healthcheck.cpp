// The container image's HEALTHCHECK (the image has no shell or wget): GET
// /v1/healthy on 127.0.0.1:$LISTEN_PORT (default 48484), as balena's image
// does with wget. Exit 0 on 200, else 1.
#include <arpa/inet.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main() {
  const char* p = std::getenv("LISTEN_PORT");
  int port = p != nullptr && *p != '\0' ? std::atoi(p) : 48484;
  if (port <= 0 || port > 65535)
    port = 48484;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return 1;
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("bosun-healthcheck: connect");
    return 1;
  }
  std::string req = "GET /v1/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Connection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL)
      != static_cast<ssize_t>(req.size()))
    return 1;
  std::string reply;
  char buf[512];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0)
    reply.append(buf, static_cast<size_t>(n));
  ::close(fd);
  auto line_end = reply.find("\r\n");
  std::fputs((reply.substr(0, line_end) + "\n").c_str(), stdout);
  return reply.rfind("HTTP/1.1 200", 0) == 0 ? 0 : 1;
}
