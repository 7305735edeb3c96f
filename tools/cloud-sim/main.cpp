// cloud-sim: a simulated balena cloud, a separate program from bosun. The
// device API (device_server, Asio + http_parser) and the admin API (RESTinio)
// share one io thread, so the model needs no locks. RESTinio's server lives
// in this one file only: it is the expensive part to compile.
#include "tools/cloud-sim/admin_api.hpp"
#include "tools/cloud-sim/device_server.hpp"
#include "tools/cloud-sim/options.hpp"

#include <asio/signal_set.hpp>
#include <csignal>
#include <fstream>
#include <iostream>
#include <restinio/http_server.hpp>
#include <sstream>

namespace {

using namespace bosun::cloud_sim;

using admin_traits
  = restinio::single_thread_traits_t<restinio::asio_timer_manager_t,
                                     restinio::null_logger_t>;

int run(const options& opts) {
  asio::io_context io;
  model m(opts.max_records);
  fault_table faults;
  device_server_options dopts;
  dopts.address = opts.listen_address;
  dopts.port = opts.listen_port;
  dopts.verbose = opts.verbose;
  device_server devices(io, m, faults, dopts);
  admin_api admin(m, faults, [&devices] { devices.faults_changed(); });

  if (!opts.state_file.empty()) {
    std::ifstream in(opts.state_file);
    if (!in) {
      std::cerr << "cloud-sim: cannot read " << opts.state_file << "\n";
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    if (auto err = admin.load_state(ss.str()); !err.empty()) {
      std::cerr << "cloud-sim: " << opts.state_file << ": " << err << "\n";
      return 2;
    }
  }

  uint16_t admin_port = 0;
  restinio::http_server_t<admin_traits> server{
    restinio::external_io_context(io), [&](auto& s) {
      s.address(opts.admin_address)
        .port(opts.admin_port)
        .handle_request_timeout(std::chrono::seconds(30))
        .acceptor_post_bind_hook([&admin_port](auto& acceptor) {
          admin_port = acceptor.local_endpoint().port();
        })
        .request_handler([&admin](const restinio::request_handle_t& req) {
          auto& h = req->header();
          auto r
            = admin.handle(h.method().c_str(), std::string(h.path()),
                           std::string(h.query()), req->body(), steady::now());
          req
            ->create_response(restinio::http_status_line_t{
              restinio::http_status_code_t{static_cast<uint16_t>(r.status)},
              r.status < 300 ? "OK" : "Error"})
            .append_header(restinio::http_field::content_type,
                           "application/json")
            .set_body(std::move(r.body))
            .done();
          return restinio::request_accepted();
        });
    }};
  server.open_sync();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code ec, int) {
    if (ec)
      return;
    devices.stop();
    server.close_sync();
    io.stop();
  });

  std::cout << "cloud-sim listening on http://" << opts.listen_address << ":"
            << devices.port() << " (admin :" << admin_port << ")" << std::endl;
  io.run();
  std::cout << "cloud-sim stopped" << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string err;
  auto opts
    = parse_options(std::vector<std::string>(argv + 1, argv + argc), err);
  if (!opts) {
    std::cerr << "cloud-sim: " << err << "\n\n" << usage();
    return 2;
  }
  if (opts->help) {
    std::cout << usage();
    return 0;
  }
  try {
    return run(*opts);
  } catch (const std::exception& e) {
    std::cerr << "cloud-sim: " << e.what() << "\n";
    return 1;
  }
}
