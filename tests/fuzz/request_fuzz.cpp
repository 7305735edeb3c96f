// libFuzzer target: arbitrary bytes through the device API's request
// decoding and routing. Build and run: docs/fuzz.md.
//
// An input is read as
//   byte 0        flags: bits 0-2 the method, bit 3 a managed device (auth
//                 needed), bit 4 a form body instead of JSON
//   up to '\n'    the request target (path and query)
//   up to '\n'    the Authorization header's value
//   the rest      the body
// and goes (1) through the pure decoders directly: the local and v3 target
// decoders, the persisted target decoder, the body and tags decoders, the
// auth key parsing, checkInt; and (2) as a request through the server's real
// request handler (make_handler: the real router with every route and the
// body-size check). Behind the routes is a stub agent: root hands out one
// core actor for every name, which knows two API keys ("fuzzglobal", global,
// and "fuzzapp1", scoped to app 1) and answers every other request with an
// error, so each handler runs its decoding, its auth and its error paths.
// Checks: every request is answered (within 10 s), the router rejects none
// (RESTinio would close the connection without an answer), and no answer is
// a 5xx but 503, unless the stub failed a request for it (some routes say
// 500 when the agent fails, like balena).
#include "api/cloud/target_codec.hpp"
#include "api/server/api_codec.hpp"
#include "api/server/auth.hpp"
#include "api/server/routes.hpp"
#include "messages/api_keys.hpp"
#include "messages/core.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "tests/support/fake_connection.hpp"

#include <atomic>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <restinio/all.hpp>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;

// How many requests the stub actors failed.
using failure_count = std::atomic<long>;

// A stub actor answers what its behavior does not know with an error.
void fail_the_rest(caf::event_based_actor* self, failure_count* failed) {
  self->set_default_handler(
    [failed](caf::scheduled_actor*,
             caf::message_view&) -> caf::result<caf::message> {
      ++*failed;
      return caf::make_error(caf::sec::runtime_error, "fuzz stub");
    });
}

// Knows two API keys and answers everything else with an error, like a
// core actor that fails.
caf::behavior stub_core(caf::event_based_actor* self, failure_count* failed) {
  fail_the_rest(self, failed);
  return {
    [](caf::get_atom, bosun::api_key_atom,
       const std::string& key) -> std::optional<bosun::api_key_record> {
      if (key == "fuzzglobal")
        return bosun::api_key_record{key, 0, ""};
      if (key == "fuzzapp1")
        return bosun::api_key_record{key, 1, "main"};
      return std::nullopt;
    },
  };
}

caf::behavior stub_root(caf::event_based_actor* self, caf::actor core,
                        failure_count* failed) {
  fail_the_rest(self, failed);
  return {
    // Every core actor is the stub.
    [core](caf::get_atom, bosun::core_atom) {
      bosun::core_actors out;
      bosun::core_actors::each([&](const char*, auto member) {
        using handle = std::decay_t<decltype(out.*member)>;
        out.*member = caf::actor_cast<handle>(core);
      });
      return out;
    },
    [](bosun::children_atom) { return std::vector<bosun::child_status>{}; },
    [](bosun::health_atom) { return bosun::agent_health{}; },
  };
}

struct harness {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg.set("scheduler.max-threads", 2)
                          .set("logger.verbosity", caf::atom("quiet"))};
  failure_count failed{0};
  caf::actor core = sys.spawn(stub_core, &failed);
  bosun::root_actor root
    = caf::actor_cast<bosun::root_actor>(sys.spawn(stub_root, core, &failed));
  std::shared_ptr<const bosun::logger> log
    = std::make_shared<const bosun::logger>(bosun::log_level::error);
  restinio::default_request_handler_t local
    = bosun::make_handler({sys, root, options(true), log});
  restinio::default_request_handler_t managed
    = bosun::make_handler({sys, root, options(false), log});

  static bosun::server_options options(bool local_mode) {
    bosun::server_options o;
    o.local_mode = local_mode;
    return o;
  }
};

// One actor system for the whole run, never destroyed: libFuzzer ends the
// process with exit() from wherever it is, and tearing the actor system
// down inside exit handlers crashes in CAF.
harness& the_harness() {
  static harness* h = new harness;
  return *h;
}

constexpr restinio::http_method_id_t methods[]
  = {restinio::http_method_get(),     restinio::http_method_post(),
     restinio::http_method_patch(),   restinio::http_method_put(),
     restinio::http_method_delete(),  restinio::http_method_head(),
     restinio::http_method_options(), restinio::http_method_get()};

// What http_parser (2.9, as Debian builds it: not strict) lets through as
// a request target: no space, no control character but tab and form feed,
// no DEL; bytes above 0x7f pass.
bool plausible_target(std::string_view t) {
  if (t.empty() || t[0] != '/')
    return false;
  for (unsigned char c : t)
    if ((c <= 0x20 && c != '\t' && c != '\f') || c == 0x7f)
      return false;
  return true;
}

// And as a header value: no control character but tab, no DEL.
bool plausible_header(std::string_view v) {
  for (unsigned char c : v)
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return false;
  return true;
}

void decoders(std::string_view target, std::string_view authorization,
              std::string_view body, std::string_view content_type) {
  (void)bosun::cloud::decode_local_target(body);
  (void)bosun::cloud::decode_target_v3(body);
  (void)bosun::cloud::decode_target_json(body);
  (void)bosun::api::decode_fields(body, content_type);
  (void)bosun::api::decode_tags(body, content_type);
  (void)bosun::api::check_int(target);
  std::optional<std::string> apikey;
  if (auto q = target.find("apikey="); q != std::string_view::npos)
    apikey = std::string{target.substr(q + 7, target.find('&', q) - q - 7)};
  auto key = bosun::auth::request_key(apikey, authorization);
  auto path = target.substr(0, target.find('?'));
  for (bool local : {true, false})
    (void)bosun::auth::decide(bosun::auth::is_open_route("GET", path), local,
                              key);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto flags = data[0];
  std::string_view rest{reinterpret_cast<const char*>(data + 1), size - 1};
  auto target = bosun::fuzz::take_line(rest);
  auto authorization = bosun::fuzz::take_line(rest);
  auto body = rest;
  const char* content_type = (flags & 0x10) != 0
                               ? "application/x-www-form-urlencoded"
                               : "application/json";
  decoders(target, authorization, body, content_type);

  if (!plausible_target(target) || !plausible_header(authorization))
    return 0;
  auto& h = the_harness();
  restinio::http_header_fields_t fields;
  if (!authorization.empty())
    fields.set_field(restinio::http_field::authorization,
                     std::string{authorization});
  fields.set_field(restinio::http_field::content_type, content_type);
  auto conn = std::make_shared<bosun::test::recording_connection>();
  auto req
    = bosun::test::make_request(conn, methods[flags & 7], std::string{target},
                                std::string{body}, std::move(fields));
  auto& handler = (flags & 0x08) != 0 ? h.managed : h.local;
  auto failed_before = h.failed.load();
  // RESTinio would close the connection without an answer: a bug for us.
  auto status = handler(std::move(req));
  if (status == restinio::request_rejected()) {
    std::fprintf(stderr, "a request was rejected by the router: %.*s\n",
                 static_cast<int>(target.size()), target.data());
    std::abort();
  }
  if (!conn->wait(10s)) {
    std::fprintf(stderr, "no answer within 10 s to %.*s\n",
                 static_cast<int>(target.size()), target.data());
    std::abort();
  }
  auto head = conn->text().substr(0, 12);
  if (head.rfind("HTTP/1.1 5", 0) == 0 && head.rfind("HTTP/1.1 503", 0) != 0
      && h.failed.load() == failed_before) {
    // A 5xx but 503 with nothing failed behind it is the API's own bug.
    std::fprintf(stderr, "%s for %.*s\n", head.c_str(),
                 static_cast<int>(target.size()), target.data());
    std::abort();
  }
  return 0;
}
