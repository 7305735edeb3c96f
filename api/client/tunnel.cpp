#include "api/client/tunnel.hpp"

#include "api/client/wire.hpp"

#include <array>
#include <asio/post.hpp>
#include <asio/write.hpp>
#include <memory>

namespace bosun::http {

namespace {

class tunnel_op : public std::enable_shared_from_this<tunnel_op>,
                  private wire::response_sink {
public:
  tunnel_op(asio::ip::tcp::socket& sock, std::string where, std::string name,
            std::function<void(std::optional<error>)> done)
      : sock_(sock), where_(std::move(where)), name_(std::move(name)),
        done_(std::move(done)),
        parser_(static_cast<wire::response_sink&>(*this), true) {}

  void start(std::string request) {
    request_ = std::move(request);
    asio::async_write(
      sock_, asio::buffer(request_),
      [self = shared_from_this()](const std::error_code& ec, std::size_t) {
        if (ec)
          return self->failed(ec, "sending CONNECT failed");
        self->read();
      });
  }

private:
  void read() {
    sock_.async_read_some(
      asio::buffer(buf_),
      [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
        self->on_read(ec, n);
      });
  }

  void on_read(const std::error_code& ec, std::size_t n) {
    using state = wire::response_parser::state;
    if (ec) {
      if (ec == asio::error::eof || ec == asio::error::connection_reset)
        return finish(
          error{errc::closed, name_
                                + ": the proxy closed the connection "
                                  "before answering CONNECT "
                                + where_});
      return failed(ec, "reading the proxy's answer failed");
    }
    switch (parser_.feed(std::string_view(buf_.data(), n))) {
      case state::more:
        return read();
      case state::complete:
        return answered();
      case state::failed:
        return finish(error{errc::garbled, name_
                                             + ": garbled proxy answer to "
                                               "CONNECT "
                                             + where_ + ": "
                                             + parser_.error()});
      case state::stopped:
      case state::truncated:
        return finish(error{errc::closed, name_
                                            + ": the proxy's answer to "
                                              "CONNECT "
                                            + where_ + " ended early"});
    }
  }

  void answered() {
    if (status_ / 100 != 2) {
      std::string msg = name_ + ": the proxy refused CONNECT " + where_
                        + ": it answered " + std::to_string(status_);
      if (status_ == 407)
        msg += " (Proxy Authentication Required: credentials missing or "
               "rejected)";
      return finish(error{errc::refused, std::move(msg)});
    }
    // Whatever follows a 2xx belongs to the target, which has not been
    // spoken to yet: a proxy that sends it is not one we understand.
    if (parser_.surplus() > 0)
      return finish(error{errc::garbled, name_
                                           + ": the proxy sent bytes after "
                                             "its answer to CONNECT "
                                           + where_});
    finish(std::nullopt);
  }

  void failed(const std::error_code& ec, const char* what) {
    if (ec == asio::error::operation_aborted
        || ec == asio::error::bad_descriptor)
      return finish(error{errc::cancelled, name_ + ": cancelled"});
    finish(error{errc::closed, name_ + ": " + what + ": " + ec.message()});
  }

  void finish(std::optional<error> err) {
    if (!done_)
      return;
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(err));
  }

  void on_head(int status, header_list&) override {
    status_ = status;
  }
  bool on_body(std::string_view) override {
    return true;
  }

  asio::ip::tcp::socket& sock_;
  std::string where_;
  std::string name_;
  std::function<void(std::optional<error>)> done_;
  wire::response_parser parser_;
  std::string request_;
  std::array<char, 1024> buf_{};
  int status_ = 0;
};

} // namespace

void async_tunnel(asio::ip::tcp::socket& sock, const endpoint& target,
                  const proxy_server& via, const std::string& user_agent,
                  std::string name,
                  std::function<void(std::optional<error>)> done) {
  auto where = authority(target);
  auto request = connect_request(target, via, user_agent);
  if (!request) {
    // Reported from the io thread, like every other outcome.
    asio::post(
      sock.get_executor(),
      [done = std::move(done), msg = name + ": cannot send CONNECT " + where
                                     + ": a field holds a line break"] {
        done(error{errc::garbled, msg});
      });
    return;
  }
  auto op = std::make_shared<tunnel_op>(sock, where, std::move(name),
                                        std::move(done));
  op->start(std::move(*request));
}

} // namespace bosun::http
