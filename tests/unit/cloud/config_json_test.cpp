// edit_config_json: the keys it does not set stay as they were written.
#include "api/cloud/device_api.hpp"

#include <doctest/doctest.h>

using bosun::cloud::config_json_edit;
using bosun::cloud::edit_config_json;

TEST_SUITE("config.json edits") {
  TEST_CASE("numbers of untouched keys keep their text, also nested, and a "
            "second edit changes nothing (found by cloud_fuzz)") {
    config_json_edit e;
    e.set["uuid"] = std::string{"u1"};
    e.set["deviceId"] = int64_t{42};
    e.remove.push_back("apiKey");
    std::string big(80, '9');
    auto text = R"({"a":)" + big
                + R"(,"b":1E5,"c":0.10,"d":-0,"apiKey":"k","deviceId":7,)"
                  R"("os":{"n":[1.50,2e-3,{"x":)"
                + big + R"(}]},"s":"9"})";
    auto r = edit_config_json(text, e);
    REQUIRE(r.text);
    CHECK(*r.text
          == R"({"a":)" + big
               + R"(,"b":1E5,"c":0.10,"d":-0,"deviceId":42,"os":{"n":[1.50,)"
                 R"(2e-3,{"x":)"
               + big + R"(}]},"s":"9","uuid":"u1"})");
    auto again = edit_config_json(*r.text, e);
    REQUIRE(again.text);
    CHECK(*again.text == *r.text);
  }

  TEST_CASE("an empty document gets just the keys set") {
    config_json_edit e;
    e.set["uuid"] = std::string{"u1"};
    auto r = edit_config_json("  ", e);
    REQUIRE(r.text);
    CHECK(*r.text == R"({"uuid":"u1"})");
  }
}
