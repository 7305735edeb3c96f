#include "actors/systemd/service_notifier.hpp"

#include "actors/systemd/notify.hpp"
#include "api/client/client.hpp"

#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <caf/event_based_actor.hpp>
#include <csignal>
#include <unistd.h>

namespace bosun {

using namespace std::chrono_literals;

namespace {

// The address a local client reaches a listener on.
std::string probe_url(const service_notifier_options& o) {
  std::string host = o.api_address;
  if (host.empty() || host == "0.0.0.0")
    host = "127.0.0.1";
  else if (host == "::")
    host = "::1";
  if (host.find(':') != std::string::npos)
    host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(o.api_port);
}

class quiet_notifier final : public service_notifier {
public:
  void stopping() override {}
};

class systemd_notifier final
    : public service_notifier,
      public std::enable_shared_from_this<systemd_notifier> {
public:
  systemd_notifier(asio::io_context& io, caf::actor_system& sys,
                   root_actor root, std::shared_ptr<const logger> log,
                   notify_socket sock,
                   std::optional<std::chrono::microseconds> period)
      : sys_(sys), root_(std::move(root)), log_(std::move(log)),
        sock_(std::make_shared<notify_socket>(std::move(sock))),
        period_(period), probe_timer_(io), watchdog_timer_(io),
        signals_(io, SIGINT, SIGTERM) {}

  void begin(asio::io_context& io, const std::string& url) {
    auto ep = http::parse_endpoint(url);
    if (!ep) {
      log_->warn("service", "cannot probe the device API at {}", url);
      return;
    }
    http::client_options copts;
    copts.max_idle_connections = 1;
    copts.connect_timeout = 1s;
    client_ = http::client::make(io, *ep, copts);
    std::weak_ptr<systemd_notifier> weak = shared_from_this();
    // main's own handler shuts the agent down; this one only tells systemd.
    signals_.async_wait([weak](const std::error_code& ec, int) {
      if (auto self = weak.lock(); self && !ec)
        self->stopping();
    });
    probe();
    if (period_) {
      log_->info("service", "systemd watchdog: a health check every {} ms",
                 period_->count() / 1000);
      arm_watchdog();
    }
  }

  void stopping() override {
    if (stopped_)
      return;
    stopped_ = true;
    probe_timer_.cancel();
    watchdog_timer_.cancel();
    signals_.cancel();
    if (client_)
      client_->close();
    sock_->send("STOPPING=1");
  }

private:
  // GET /ping until it answers, then READY=1.
  void probe() {
    http::request req;
    req.target = "/ping";
    req.timeout = 2s;
    std::weak_ptr<systemd_notifier> weak = shared_from_this();
    client_->send(std::move(req), [weak](http::result<http::response> r) {
      auto self = weak.lock();
      if (!self || self->stopped_)
        return;
      if (r && r.value.status == 200) {
        self->sock_->send("READY=1\nSTATUS=device API answering");
        self->log_->info("service", "told systemd we are ready");
        return;
      }
      self->probe_timer_.expires_after(100ms);
      self->probe_timer_.async_wait([weak](const std::error_code& ec) {
        if (auto s = weak.lock(); s && !ec && !s->stopped_)
          s->probe();
      });
    });
  }

  void arm_watchdog() {
    watchdog_timer_.expires_after(*period_);
    std::weak_ptr<systemd_notifier> weak = shared_from_this();
    watchdog_timer_.async_wait([weak](const std::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec || self->stopped_)
        return;
      self->check_health();
      self->arm_watchdog();
    });
  }

  // Asks the root supervisor on a short-lived actor: no answer within half
  // a period (a stuck scheduler, a stuck root) means no ping.
  void check_health() {
    auto timeout
      = std::chrono::duration_cast<std::chrono::milliseconds>(*period_ / 2);
    if (timeout < 1ms)
      timeout = 1ms;
    sys_.spawn([root = root_, sock = sock_, log = log_,
                timeout](caf::event_based_actor* self) {
      self->request(root, timeout, health_atom_v)
        .then(
          [sock, log](const agent_health& h) {
            if (h.healthy) {
              sock->send("WATCHDOG=1");
              return;
            }
            std::string why;
            for (const auto& p : h.problems)
              why += (why.empty() ? "" : "; ") + p;
            log->warn("service", "unhealthy, no watchdog ping: {}", why);
          },
          [log](const caf::error& e) {
            log->warn("service", "no health answer, no watchdog ping: {}",
                      caf::to_string(e));
          });
    });
  }

  caf::actor_system& sys_;
  root_actor root_;
  std::shared_ptr<const logger> log_;
  std::shared_ptr<notify_socket> sock_;
  std::optional<std::chrono::microseconds> period_;
  std::shared_ptr<http::client> client_;
  asio::steady_timer probe_timer_;
  asio::steady_timer watchdog_timer_;
  asio::signal_set signals_;
  bool stopped_ = false;
};

} // namespace

std::shared_ptr<service_notifier>
service_notifier::start(asio::io_context& io, caf::actor_system& sys,
                        root_actor root, service_notifier_options opts,
                        std::shared_ptr<const logger> log,
                        const std::map<std::string, std::string>& env) {
  std::string why;
  auto sock = notify_socket::from_env(env, &why);
  if (!sock) {
    if (!why.empty())
      log->warn("service", "{}", why);
    return std::make_shared<quiet_notifier>();
  }
  auto n = std::make_shared<systemd_notifier>(
    io, sys, std::move(root), log, std::move(*sock),
    watchdog_period(env, static_cast<long>(::getpid())));
  asio::post(io, [n, &io, url = probe_url(opts)] { n->begin(io, url); });
  return n;
}

} // namespace bosun
