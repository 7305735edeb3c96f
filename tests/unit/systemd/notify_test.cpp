#include "actors/systemd/notify.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using bosun::notify_socket;
using bosun::watchdog_period;

TEST_SUITE("notify protocol") {
  TEST_CASE("the watchdog period is half WATCHDOG_USEC, for this pid only") {
    CHECK(watchdog_period({}, 42) == std::nullopt);
    CHECK(watchdog_period({{"WATCHDOG_USEC", "180000000"}}, 42)
          == std::chrono::microseconds(90000000));
    CHECK(
      watchdog_period({{"WATCHDOG_USEC", "1000"}, {"WATCHDOG_PID", "42"}}, 42)
      == 500us);
    CHECK(
      watchdog_period({{"WATCHDOG_USEC", "1000"}, {"WATCHDOG_PID", "7"}}, 42)
      == std::nullopt);
    for (const char* bad : {"", "0", "-5", "abc", "10s"})
      CHECK_MESSAGE(
        watchdog_period({{"WATCHDOG_USEC", bad}}, 42) == std::nullopt, bad);
  }

  TEST_CASE("NOTIFY_SOCKET: unset is no socket, a relative path an error") {
    std::string why;
    CHECK_FALSE(notify_socket::from_env({}, &why).has_value());
    CHECK(why.empty());
    CHECK_FALSE(
      notify_socket::from_env({{"NOTIFY_SOCKET", "run/notify"}}, &why));
    CHECK(why.find("absolute") != std::string::npos);
    CHECK(notify_socket::from_env({{"NOTIFY_SOCKET", "/run/x"}}).has_value());
    CHECK(notify_socket::from_env({{"NOTIFY_SOCKET", "@abstract"}}));
    CHECK_FALSE(notify_socket::from_env(
      {{"NOTIFY_SOCKET", "/" + std::string(200, 'a')}}));
  }
}
