#pragma once

// One line per significant event, to stderr:
//   2026-11-23T11:06:18.123Z info  engine: connected to
//   unix:///var/run/docker.sock
// An agent's own logger (fleet-sim: thousands of agents in one process,
// agent_deps::log_prefix) names the agent in every line:
//   2026-11-23T11:06:18.123Z info  [1a2b3c4] engine: connected to ...
// A logger is immutable after construction and writes each line with one
// write(2), so actors on any thread may share it without locks.
#include "config/config.hpp" // log_level

#include <fmt/format.h>
#include <memory>
#include <string>
#include <string_view>

namespace bosun {

class logger {
public:
  explicit logger(log_level min = log_level::info, int fd = 2,
                  std::string prefix = {})
      : min_(min), fd_(fd), prefix_(std::move(prefix)) {}

  // The same level and output, each line naming `id` ("[id] ").
  std::shared_ptr<const logger> with_prefix(std::string_view id) const {
    return std::make_shared<const logger>(min_, fd_,
                                          "[" + std::string(id) + "] ");
  }

  bool enabled(log_level l) const {
    return l >= min_;
  }

  void write(log_level l, std::string_view component,
             std::string_view message) const;

  template <class... Ts>
  void log(log_level l, std::string_view component,
           fmt::format_string<Ts...> format, Ts&&... xs) const {
    if (enabled(l))
      write(l, component, fmt::format(format, std::forward<Ts>(xs)...));
  }

  template <class... Ts>
  void debug(std::string_view c, fmt::format_string<Ts...> f,
             Ts&&... xs) const {
    log(log_level::debug, c, f, std::forward<Ts>(xs)...);
  }
  template <class... Ts>
  void info(std::string_view c, fmt::format_string<Ts...> f, Ts&&... xs) const {
    log(log_level::info, c, f, std::forward<Ts>(xs)...);
  }
  template <class... Ts>
  void warn(std::string_view c, fmt::format_string<Ts...> f, Ts&&... xs) const {
    log(log_level::warn, c, f, std::forward<Ts>(xs)...);
  }
  template <class... Ts>
  void error(std::string_view c, fmt::format_string<Ts...> f,
             Ts&&... xs) const {
    log(log_level::error, c, f, std::forward<Ts>(xs)...);
  }

private:
  log_level min_;
  int fd_;
  std::string prefix_; // "" or "[id] "
};

} // namespace bosun
