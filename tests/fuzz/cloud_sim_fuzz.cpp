// libFuzzer target: arbitrary requests to tools/cloud-sim's handlers, the
// pure dispatchers behind its two HTTP servers (device API: register, state
// get and report, log stream, v7, device keys; admin API). Build and run:
// docs/fuzz.md.
//
// An input is read as
//   byte 0        flags: bits 0-2 the method, bit 3 the admin API instead of
//                 the device API, bit 4 a gzip log stream
//   up to '\n'    the path (percent-decoded for the device API, as the server
//                 does)
//   up to '\n'    the query
//   up to '\n'    the Authorization header's value
//   the rest      the body
// Each input gets a fresh model holding fleet 1 (provisioning key
// "fuzzpk") and device "fuzzdevice" (API key "fuzzkey"). Checks, besides "no
// crash, no exception, no sanitizer report":
//  - every answer has a status 100-599 and a body that is empty or JSON;
//  - a log stream's body is taken in pieces, then answered;
//  - what the model records (reports, logs, calls) is valid JSON text.
#include "tests/fuzz/fuzz_support.hpp"
#include "tools/cloud-sim/admin_api.hpp"
#include "tools/cloud-sim/device_api.hpp"
#include "tools/cloud-sim/faults.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <rapidjson/document.h>
#include <string>
#include <string_view>

namespace {

namespace sim = bosun::cloud_sim;

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  bosun::fuzz::fail("cloud_sim_fuzz", what, detail);
}

void check_answer(int status, const std::string& body, const char* api) {
  if (status < 100 || status > 599)
    fail("a status out of range from the", api);
  if (body.empty())
    return;
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError())
    fail("an answer that is not JSON:", body);
}

void seed(sim::model& m) {
  sim::fleet f;
  f.id = 1;
  f.provisioning_key = "fuzzpk";
  f.apps = R"({"fuzzapp":{"id":1,"name":"fleet","releases":{}}})";
  if (m.add_fleet(f) != sim::outcome::ok)
    fail("seed fleet");
  sim::device d;
  d.uuid = "fuzzdevice";
  d.api_key = "fuzzkey";
  d.fleet = 1;
  if (m.add_device(d) != sim::outcome::ok)
    fail("seed device");
}

constexpr const char* methods[]
  = {"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS", "GET"};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto flags = data[0];
  std::string_view rest{reinterpret_cast<const char*>(data + 1), size - 1};
  std::string method = methods[flags & 7];
  std::string path{bosun::fuzz::take_line(rest)};
  std::string query{bosun::fuzz::take_line(rest)};
  std::string authorization{bosun::fuzz::take_line(rest)};
  std::string body{rest};

  sim::model m{1000};
  seed(m);
  if ((flags & 0x08) != 0) {
    sim::fault_table faults;
    sim::admin_api admin{m, faults, [] {}};
    auto r = admin.handle(method, path, query, body, sim::steady::time_point{});
    check_answer(r.status, r.body, "admin API");
    (void)admin.load_state(body);
  } else {
    sim::device_request req;
    req.method = method;
    req.path = sim::percent_decode(path, false);
    req.query = query;
    req.authorization = authorization;
    req.body = body;
    bool gzip = (flags & 0x10) != 0;
    if (gzip)
      req.content_encoding = "gzip";
    auto match = sim::classify(req.method, req.path);
    (void)sim::attribute(m, match, req.authorization);
    if (match.r == sim::route::log_stream) {
      if (auto refused = sim::check_log_stream(m, match, req)) {
        check_answer(refused->status, refused->body, "log stream");
      } else {
        sim::log_session s{match.uuid, gzip};
        for (size_t at = 0; at < body.size(); at += 7)
          if (!s.feed(m, body.data() + at,
                      std::min<size_t>(7, body.size() - at), 1000))
            break;
        auto r = s.finish(m, 1000);
        check_answer(r.status, r.body, "log stream");
      }
    } else {
      auto r = sim::handle(m, match, req, 1000);
      check_answer(r.status, r.body, "device API");
    }
    (void)sim::parse_query(query);
    (void)sim::filter_uuid(query);
  }
  for (size_t k = 0; k < sim::record_kind_count; ++k)
    for (const auto* rec :
         m.query(static_cast<sim::record_kind>(k), sim::record_query{})) {
      rapidjson::Document d;
      d.Parse(rec->body.data(), rec->body.size());
      if (d.HasParseError())
        fail("a record that is not JSON:", rec->body);
    }
  return 0;
}
