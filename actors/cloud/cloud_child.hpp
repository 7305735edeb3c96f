#pragma once

// cloud_sync as one of root's children, wired to the real world: the HTTP
// client on the agent's io_context, the system's randomness, wall clock
// and host facts, and its siblings app_manager, api_keys and logs.
#include "actors/root/root.hpp"
#include "config/config.hpp"

#include <asio/io_context.hpp>
#include <memory>
#include <string>

namespace bosun {

struct cloud_child_args {
  config cfg;             // uuid and deviceApiKey already settled
  std::string api_secret; // the global API key
  std::string os_version; // os-release PRETTY_NAME
  std::string device_type;
  std::shared_ptr<const logger> log;
};

child_spec cloud_sync_child(asio::io_context& io, cloud_child_args args);

} // namespace bosun
