// GET /v2/local/logs: an endless NDJSON stream of log lines (cli.md), one
// reader actor per request. The reader pulls batches from the logs actor
// only when its previous write is on the wire, so a slow client costs its
// own bounded queue in the logs actor (which drops and counts), never
// memory here and never time anywhere else. A paused client keeps its
// stream until one write has waited for it longer than the server's write
// limit (5 minutes, server.cpp).
// GET /v2/logs/history (bosun's): the persistent log, filtered. The query
// becomes a log_history_read; the logs actor answers the lines (or why not).
#include "api/logs/history.hpp"
#include "api/logs/log_json.hpp"
#include "api/server/route_util.hpp"
#include "api/server/routes.hpp"
#include "messages/logs.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <memory>
#include <optional>
#include <restinio/message_builders.hpp>

namespace bosun::routes_logs_detail {

// A write reached the wire (or failed: the client is gone).
struct reader_written {
  bool ok = false;
};
// Nothing was written for a while: write an empty line so that the server's
// request timeout does not end the stream (NDJSON readers skip empty lines).
struct reader_keepalive {};

} // namespace bosun::routes_logs_detail

BOSUN_MESSAGE(bosun::routes_logs_detail::reader_written)
BOSUN_MESSAGE(bosun::routes_logs_detail::reader_keepalive)
BOSUN_MESSAGE(restinio::request_handle_t)

namespace bosun {
namespace {

using namespace std::chrono_literals;
using namespace routes_logs_detail;

using response_t = restinio::response_builder_t<restinio::chunked_output_t>;

using reader_actor = log_reader_actor::extend<caf::reacts_to<reader_written>,
                                              caf::reacts_to<reader_keepalive>>;

// Under the server's handle_request_timeout (120 s), which RESTinio re-arms
// after every write of an unfinished response.
constexpr auto keepalive_interval = 4s;
constexpr size_t reader_queue_bytes = 512 * 1024;
// A history read: up to the cap's worth of files, read and filtered.
constexpr auto history_timeout = 60s;

struct reader_state {
  static inline const char* name = "log_reader";
  std::optional<response_t> resp;
  logs_actor logs;
  caf::weak_actor_ptr me;
  int in_flight = 0;   // writes not yet on the wire
  bool pulled = false; // a log_pull is out
  bool wrote_since_tick = false;
  std::string buf;
};

using reader_ptr = reader_actor::stateful_pointer<reader_state>;

void write(reader_ptr self, std::string data) {
  auto& st = self->state;
  ++st.in_flight;
  st.wrote_since_tick = true;
  auto me = st.me;
  st.resp->append_chunk(std::move(data));
  // The notificator runs on the io thread.
  st.resp->flush([me](const asio::error_code& ec) {
    if (auto p = me.lock())
      caf::anon_send(caf::actor_cast<reader_actor>(p), reader_written{!ec});
  });
}

void pull(reader_ptr self) {
  auto& st = self->state;
  if (st.pulled || st.in_flight > 0)
    return;
  st.pulled = true;
  self->send<caf::message_priority::high>(
    st.logs, log_pull{caf::actor_cast<log_reader_actor>(self)});
}

reader_actor::behavior_type
reader_impl(reader_ptr self, restinio::request_handle_t req, logs_actor logs) {
  auto& st = self->state;
  st.logs = std::move(logs);
  st.me = caf::weak_actor_ptr{self->ctrl()};
  st.resp.emplace(req->create_response<restinio::chunked_output_t>());
  st.resp->append_header(restinio::http_field::content_type,
                         "application/x-ndjson");
  self->monitor(st.logs);
  self->set_down_handler([self](caf::down_msg&) {
    // The logs actor is gone (restarting): end the stream; clients
    // reconnect.
    if (self->state.resp)
      self->state.resp->done();
    self->state.resp.reset();
    self->quit();
  });
  // Urgent, as the pulls that follow it are: they must not overtake it.
  self->send<caf::message_priority::high>(
    st.logs,
    log_subscribe{caf::actor_cast<log_reader_actor>(self), reader_queue_bytes});
  write(self, log_json::streaming_banner());
  self->delayed_send(self, keepalive_interval, reader_keepalive{});
  return {
    [self](log_batch& b) {
      auto& st = self->state;
      st.pulled = false;
      if (b.entries.empty())
        return pull(self);
      st.buf.clear();
      for (auto& e : b.entries)
        log_json::append_local_line(*e, st.buf);
      write(self, std::move(st.buf));
      st.buf = std::string{};
    },
    [self](const reader_written& w) {
      auto& st = self->state;
      --st.in_flight;
      if (!w.ok) {
        // The client went away: RESTinio has closed the connection.
        st.resp.reset();
        self->quit();
        return;
      }
      pull(self);
    },
    [self](reader_keepalive) {
      auto& st = self->state;
      if (!st.wrote_since_tick && st.in_flight == 0)
        write(self, "\n");
      st.wrote_since_tick = false;
      self->delayed_send(self, keepalive_interval, reader_keepalive{});
    },
  };
}

} // namespace

void add_logs_routes(route_table& t) {
  // Any valid key (no auth in local mode), as balena's "key*" routes.
  add_route(t, restinio::http_method_get(), "/v2/local/logs",
            [](const route_call& c) {
              auto* self = c.self;
              ask_core(self, c.ctx, &core_actors::logs, c.req,
                       [self, req = c.req](logs_actor l) {
                         self->system().spawn(reader_impl, req, std::move(l));
                       });
            });
  // Any valid key, as /v2/local/logs. The logs actor reads and filters
  // (on a worker of its own, at most two at once); this only translates.
  add_route(
    t, restinio::http_method_get(), "/v2/logs/history",
    [](const route_call& c) {
      const auto& req = c.req;
      std::string why;
      auto q = log_files::parse_query(
        [&req](const char* name) { return query_param(req, name); }, why);
      if (!q)
        return reply_failed(req, restinio::status_bad_request(), why);
      auto* self = c.self;
      ask_core(self, c.ctx, &core_actors::logs, req,
               [self, req, q = *q](logs_actor l) {
                 self->request(l, history_timeout, log_history_read{q})
                   .then(
                     [req](log_history_lines& h) {
                       req->create_response(restinio::status_ok())
                         .append_header(restinio::http_field::content_type,
                                        "application/x-ndjson")
                         .set_body(std::move(h.ndjson))
                         .done();
                     },
                     [self, req](const caf::error& e) {
                       if (e == logs_errc::persistence_off)
                         return reply_failed(req, restinio::status_conflict(),
                                             "persistent logging is off");
                       if (e == logs_errc::busy)
                         return reply_failed(
                           req, restinio::status_service_unavailable(),
                           "too many history reads at once; try again");
                       reply_failed(req, restinio::status_service_unavailable(),
                                    self->system().render(e));
                     });
               });
    });
}

} // namespace bosun
