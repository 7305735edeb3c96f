// The cloud requests cloud_sync sends and what their answers mean
// (api/cloud/device_http.hpp): paths, headers and bodies as balena's API
// takes them, and the status codes each call treats as success.
#include "api/cloud/device_http.hpp"
#include "api/cloud/report_codec.hpp"

#include <doctest/doctest.h>

using namespace bosun;

namespace {

cloud_reply reply(int status, std::string body = {}) {
  cloud_reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

using header_list = std::vector<std::pair<std::string, std::string>>;

} // namespace

TEST_SUITE("cloud.device_http") {
  TEST_CASE("a target poll names the device and sends the last ETag") {
    auto first = cloud::target_poll("d1", "");
    CHECK(first.method == "GET");
    CHECK(first.target == "/device/v3/d1/state");
    CHECK(first.headers.empty());
    auto next = cloud::target_poll("d1", "\"e1\"");
    CHECK(next.headers == header_list{{"If-None-Match", "\"e1\""}});
  }

  TEST_CASE("bodies go as JSON, the key as a bearer token") {
    cloud::register_request reg;
    reg.uuid = "d1";
    auto r = cloud::device_register(reg);
    CHECK(r.method == "POST");
    CHECK(r.target == "/device/register");
    CHECK(r.body == cloud::encode_register(reg));
    cloud::authorize(r, "pk");
    CHECK(r.headers
          == header_list{{"Content-Type", "application/json"},
                         {"Authorization", "Bearer pk"}});
    auto k = cloud::device_key(42, "abc");
    CHECK(k.target == "/api-key/device/42/device-key");
    CHECK(k.body == R"({"apiKey":"abc"})");
    CHECK(cloud::device_lookup("d1").target
          == "/v7/device?$select=id&$filter=uuid%20eq%20'd1'");
    auto s = cloud::state_report("d1", device_report{});
    CHECK(s.method == "PATCH");
    CHECK(s.target == "/device/v3/state");
    CHECK(s.body == cloud::encode_state_report("d1", device_report{}));
  }

  TEST_CASE("answers: what each status means") {
    CHECK(cloud::read_poll(reply(200)) == cloud::poll_answer::new_target);
    CHECK(cloud::read_poll(reply(304)) == cloud::poll_answer::unchanged);
    CHECK(cloud::read_poll(reply(0)) == cloud::poll_answer::failed);
    CHECK(cloud::read_poll(reply(500)) == cloud::poll_answer::failed);

    auto reg = cloud::read_register(reply(201, R"({"id":7,"uuid":"d1"})"));
    CHECK(reg.answer == cloud::register_answer::registered);
    CHECK(reg.device_id == 7);
    CHECK(cloud::read_register(reply(201, "{}")).answer
          == cloud::register_answer::no_id);
    CHECK(cloud::read_register(reply(409)).answer
          == cloud::register_answer::exists);
    CHECK(cloud::read_register(reply(401)).answer
          == cloud::register_answer::failed);

    CHECK(cloud::read_device_lookup(reply(200, R"({"d":[{"id":9}]})")) == 9);
    CHECK_FALSE(cloud::read_device_lookup(reply(401, R"({"d":[{"id":9}]})")));
    CHECK(cloud::device_key_set(reply(200)));
    CHECK_FALSE(cloud::device_key_set(reply(201)));
    CHECK(cloud::report_accepted(reply(204)));
    CHECK_FALSE(cloud::report_accepted(reply(301)));
    CHECK_FALSE(cloud::report_accepted(reply(0)));
  }

  TEST_CASE("the user agent is balena's, naming bosun") {
    CHECK(cloud::user_agent("19.0.5", "1.2.3", "balenaOS 5.3.0", false)
          == "Supervisor/19.0.5 (Linux; balenaOS 5.3.0; prod) bosun/1.2.3");
    CHECK(cloud::user_agent("19.0.5", "1.2.3", "", true)
          == "Supervisor/19.0.5 bosun/1.2.3");
  }
}
