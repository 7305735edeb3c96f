// The API benchmark's baseline: a minimal RESTinio server answering GET
// /ping with "OK" directly in its handler, with the same server setup as
// bosun's device API (express router, single-thread traits, one io thread,
// the same reply headers), so tools/bench/api.sh can show what bosun's own
// machinery costs on top of RESTinio.
//
//   bench_ping_baseline [port=48690]
#include <asio/signal_set.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <restinio/all.hpp>
#include <string>

namespace {

using router_t = restinio::router::express_router_t<>;
using traits_t
  = restinio::single_thread_traits_t<restinio::asio_timer_manager_t,
                                     restinio::null_logger_t, router_t>;

} // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  auto port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : 48690);
  auto router = std::make_unique<router_t>();
  router->http_get("/ping", [](auto req, auto) {
    return req->create_response()
      .append_header(restinio::http_field::content_type,
                     "text/plain; charset=utf-8")
      .set_body("OK")
      .done();
  });
  router->non_matched_request_handler([](auto req) {
    return req->create_response(restinio::status_not_found()).done();
  });
  asio::io_context io;
  restinio::http_server_t<traits_t> server{
    restinio::external_io_context(io), [&](auto& s) {
      s.port(port)
        .address("127.0.0.1")
        .handle_request_timeout(10s)
        .read_next_http_message_timelimit(60s)
        .write_http_response_timelimit(10s)
        .request_handler(std::move(router));
    }};
  server.open_async([] {},
                    [](std::exception_ptr ex) {
                      try {
                        std::rethrow_exception(ex);
                      } catch (const std::exception& e) {
                        std::cerr << "cannot listen: " << e.what() << '\n';
                        std::exit(1);
                      }
                    });
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code&, int) {
    server.close_async([&io] { io.stop(); },
                       [&io](std::exception_ptr) { io.stop(); });
  });
  io.run();
  return 0;
}
