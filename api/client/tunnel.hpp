#pragma once

// The CONNECT exchange with an HTTP proxy, over a TCP socket already
// connected to it: what the client and the log stream do before their TLS
// handshake with a target behind a proxy.
#include "api/client/client.hpp"
#include "api/client/proxy.hpp"

#include <asio/ip/tcp.hpp>
#include <functional>
#include <optional>
#include <string>

namespace bosun::http {

// Asks the proxy at the other end of `sock` for a tunnel to `target`. `done`
// runs once, on the io thread: std::nullopt once the proxy answered 2xx (the
// socket then carries the tunnel, nothing read past the proxy's answer),
// else an error whose message starts with `name`:
// - refused: the proxy answered, but not 2xx (its status is in the message;
//   407 says that its credentials are missing or wrong);
// - garbled: the answer is not HTTP, or bytes followed a 2xx head;
// - closed: the proxy closed or reset the connection before answering;
// - cancelled: the socket was closed meanwhile.
// `sock` must outlive the exchange. There is no timeout of its own: the
// caller's connect deadline closes the socket.
void async_tunnel(asio::ip::tcp::socket& sock, const endpoint& target,
                  const proxy_server& via, const std::string& user_agent,
                  std::string name,
                  std::function<void(std::optional<error>)> done);

} // namespace bosun::http
