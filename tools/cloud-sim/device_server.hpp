#pragma once

// The device-facing HTTP/1.1 server: Asio + http_parser, one io thread.
// Hand-written rather than RESTinio because RESTinio hands a request over only
// once its whole body is in, and the log stream is one request whose gzip
// body flows for minutes and must be recorded line by line as it arrives;
// faults also need to drop or stall a connection, which RESTinio cannot do.
// Requests go to device_api (balena logic); counters and faults are applied
// here.
#include "tools/cloud-sim/faults.hpp"
#include "tools/cloud-sim/model.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace asio {
class io_context;
} // namespace asio

namespace bosun::cloud_sim {

struct device_server_state;

struct device_server_options {
  std::string address = "127.0.0.1";
  uint16_t port = 0; // 0: any free port; see port()
  bool verbose = false;
  size_t max_body = 64 << 20; // non-streamed request bodies
};

class device_server {
public:
  // Binds and starts accepting; throws std::system_error when it cannot bind.
  device_server(asio::io_context& io, model& m, fault_table& faults,
                device_server_options opts);
  ~device_server();
  device_server(const device_server&) = delete;
  device_server& operator=(const device_server&) = delete;

  uint16_t port() const;
  // Stops accepting and closes every connection.
  void stop();
  // Resumes requests parked by a stall that is no longer set.
  void faults_changed();

private:
  std::shared_ptr<device_server_state> state_;
};

} // namespace bosun::cloud_sim
