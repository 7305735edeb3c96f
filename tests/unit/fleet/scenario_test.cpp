// fleet-sim's scenario files and cloud-sim counters and barriers as
// fleet-sim reads them: every shipped scenario parses, and mistakes are
// named by step and field.
#include "tools/fleet-sim/cloud.hpp"
#include "tools/fleet-sim/scenario.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace bosun::fleet {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string error_of(const std::string& text) {
  std::string err;
  auto s = parse_scenario(text, err);
  CHECK_FALSE(s);
  return err;
}

const std::string head = R"({"name":"t","initial":"A",
  "releases":[{"name":"A","services":["main"]}],"steps":)";

} // namespace

TEST_SUITE("fleet-sim scenarios") {
  TEST_CASE("every scenario under tools/fleet-sim/scenarios parses") {
    size_t n = 0;
    for (const auto& f : std::filesystem::directory_iterator(
           std::string(BOSUN_SOURCE_DIR) + "/tools/fleet-sim/scenarios")) {
      INFO(f.path().string());
      std::string err;
      auto s = parse_scenario(read_file(f.path()), err);
      CHECK_MESSAGE(s, err);
      if (s) {
        CHECK_FALSE(s->steps.empty());
        CHECK_FALSE(s->name.empty());
      }
      ++n;
    }
    CHECK(n >= 7);
  }

  TEST_CASE("the ci scenario: 200 devices register, two stages") {
    std::string err;
    auto s = parse_scenario(read_file(std::string(BOSUN_SOURCE_DIR)
                                      + "/tools/fleet-sim/scenarios/ci.json"),
                            err);
    REQUIRE_MESSAGE(s, err);
    CHECK(s->devices == 200);
    CHECK(s->register_storm);
    CHECK(s->initial == "A");
    REQUIRE(s->releases.size() == 2);
    CHECK(s->releases[1].id == 2);
    size_t waits = 0;
    for (const auto& st : s->steps)
      waits += st.kind == step_kind::wait ? 1 : 0;
    CHECK(waits == 2);
  }

  TEST_CASE("steps: defaults and the fault body passed on") {
    std::string err;
    auto s
      = parse_scenario(head + R"([{"do":"release","release":"A","percent":10},
      {"do":"fault","seconds":60,"fault":{"route":"state-get","mode":"status",
       "status":500}},{"do":"behave","service":"main","behaviour":"crash_loop"}])"
                         + "}",
                       err);
    REQUIRE_MESSAGE(s, err);
    REQUIRE(s->steps.size() == 3);
    CHECK(s->steps[0].stage == "A to 10 %");
    CHECK(s->steps[1].route == "state-get");
    CHECK(s->steps[1].fault_json.find("\"status\":500") != std::string::npos);
    CHECK(s->steps[1].seconds == 60);
    CHECK(s->steps[2].behaviour == "crash_loop");
    CHECK(s->devices == 200);
    CHECK(s->scale == 60);
    CHECK_FALSE(s->register_storm);
  }

  TEST_CASE("mistakes are named") {
    CHECK(error_of("{").rfind("not JSON", 0) == 0);
    CHECK(error_of(head + R"([{"do":"jump"}]})")
          == "step 1: unknown step \"jump\"");
    CHECK(error_of(head + R"([{"do":"wait"},{"do":"release","release":"Z"}]})")
          == "step 2: release must name one of the scenario's releases");
    CHECK(error_of(head + R"([{"do":"start","percent":120}]})")
          == "step 1: percent must be a number from 0 to 100");
    CHECK(error_of(head + R"([{"do":"fault","fault":{"mode":"drop"}}]})")
          == "step 1: fault.route missing");
    CHECK(error_of(head + R"([{"do":"behave","service":"x",
      "behaviour":"explode"}]})")
          == "step 1: behaviour must be run, exit_once, crash_loop or "
             "unhealthy");
    CHECK(error_of(R"({"releases":[],"steps":[]})")
          == "releases must be a non-empty array");
    CHECK(error_of(R"({"provision":"maybe","releases":[],"steps":[]})")
          == "provision must be \"registered\" or \"register\"");
  }

  TEST_CASE("cloud-sim's counters: errors are answers >= 400 and none") {
    std::string body = "{";
    for (size_t i = 0; i < route_names.size(); ++i)
      body += std::string(i ? "," : "") + "\"" + route_names[i]
              + R"(":{"requests":)" + std::to_string(i + 10)
              + R"(,"bytes_in":5,"bytes_out":7,"statuses":{"0":1,"200":2,)"
                R"("304":3,"500":4}})";
    body += "}";
    auto c = parse_counts(body);
    REQUIRE(c);
    CHECK((*c)[1].requests == 11);
    CHECK((*c)[1].bytes_out == 7);
    CHECK((*c)[1].errors == 5);
    CHECK_FALSE(parse_counts(R"({"register":{}})"));
  }

  TEST_CASE("cloud-sim's barriers: who arrived when, who is missing") {
    auto b = parse_barrier(
      R"({"name":"7-s1-start","count":3,"tag":"t","arrived":[)"
      R"({"shard":0,"ms":1000,"run":"a"},{"shard":2,"ms":1500,"run":"b"}],)"
      R"("missing":[1],"open":false,"opened_ms":null})");
    REQUIRE(b);
    CHECK_FALSE(b->open);
    REQUIRE(b->arrived.size() == 2);
    CHECK(b->arrived[1] == std::pair<size_t, int64_t>{2, 1500});
    CHECK(b->missing == std::vector<size_t>{1});
    CHECK_FALSE(parse_barrier(R"({"open":true})"));
    CHECK_FALSE(parse_barrier(
      R"({"open":true,"arrived":[{"shard":-1,"ms":1}],"missing":[]})"));
    CHECK(error_text(R"({"error":"barrier x is for 2 shards, not 3"})")
          == "barrier x is for 2 shards, not 3");
    CHECK(error_text("not json") == "not json");
  }
}

} // namespace bosun::fleet
