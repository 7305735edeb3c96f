// config.json rewrites (atomic, keys kept) and the provisioning JSON.
#include "actors/cloud/config_writer.hpp"
#include "api/cloud/device_api.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

using namespace bosun;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

} // namespace

TEST_SUITE("config.json rewrite") {
  TEST_CASE("registration facts are written, the provisioning key removed, "
            "every other key kept in order") {
    test::temp_dir dir;
    auto path = dir.path() + "/config.json";
    spit(path, R"({"apiEndpoint":"https://api.example","apiKey":"pk",)"
               R"("applicationId":"12","persistentLogging":false,)"
               R"("os":{"sshKeys":["a"]},"uuid":"u1"})");
    cloud::config_json_edit e;
    e.set["registered_at"] = int64_t{1700000000000};
    e.set["deviceId"] = int64_t{42};
    e.set["uuid"] = std::string("u1");
    e.remove.emplace_back("apiKey");
    REQUIRE_FALSE(rewrite_config_json(path, e));
    CHECK(slurp(path)
          == R"({"apiEndpoint":"https://api.example","applicationId":"12",)"
             R"("persistentLogging":false,"os":{"sshKeys":["a"]},"uuid":"u1",)"
             R"("deviceId":42,"registered_at":1700000000000})");
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  }

  TEST_CASE("a crash between the write and the rename leaves the old file "
            "whole; the next write succeeds") {
    test::temp_dir dir;
    auto path = dir.path() + "/config.json";
    std::string old = R"({"apiEndpoint":"https://api.example","apiKey":"pk"})";
    spit(path, old);
    cloud::config_json_edit e;
    e.set["deviceId"] = int64_t{7};
    e.remove.emplace_back("apiKey");
    auto why = rewrite_config_json(path, e, [] { return false; });
    REQUIRE(why);
    CHECK(slurp(path) == old);
    // The synced temp file is what a crash would leave behind.
    CHECK(slurp(path + ".tmp")
          == R"({"apiEndpoint":"https://api.example","deviceId":7})");
    REQUIRE_FALSE(rewrite_config_json(path, e));
    CHECK(slurp(path)
          == R"({"apiEndpoint":"https://api.example","deviceId":7})");
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  }

  TEST_CASE("the file keeps its permissions") {
    test::temp_dir dir;
    auto path = dir.path() + "/config.json";
    spit(path, "{}");
    ::chmod(path.c_str(), 0600);
    REQUIRE_FALSE(atomic_write(path, R"({"a":1})"));
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }

  TEST_CASE("a file that is not a JSON object is left alone") {
    test::temp_dir dir;
    auto path = dir.path() + "/config.json";
    spit(path, "[1,2");
    cloud::config_json_edit e;
    e.set["deviceId"] = int64_t{7};
    auto why = rewrite_config_json(path, e);
    REQUIRE(why);
    CHECK(why->find("not valid JSON") != std::string::npos);
    CHECK(slurp(path) == "[1,2");
    spit(path, "[]");
    REQUIRE(rewrite_config_json(path, e));
    CHECK(slurp(path) == "[]");
    // Nesting deeper than the parser should recurse is refused unparsed.
    auto deep
      = R"({"a":)" + std::string(100, '[') + std::string(100, ']') + "}";
    spit(path, deep);
    auto nested = rewrite_config_json(path, e);
    REQUIRE(nested);
    CHECK(nested->find("nested too deeply") != std::string::npos);
    CHECK(slurp(path) == deep);
  }

  TEST_CASE("a missing file is created; a missing directory is an error") {
    test::temp_dir dir;
    cloud::config_json_edit e;
    e.set["uuid"] = std::string("u");
    REQUIRE_FALSE(rewrite_config_json(dir.path() + "/new.json", e));
    CHECK(slurp(dir.path() + "/new.json") == R"({"uuid":"u"})");
    CHECK(rewrite_config_json(dir.path() + "/no/such/config.json", e));
  }
}

TEST_SUITE("provisioning JSON") {
  TEST_CASE("the register body carries what balena sends") {
    cloud::register_request r;
    r.application = 1011165;
    r.uuid = "u1";
    r.device_type = "generic-amd64";
    r.api_key = "dk";
    r.supervisor_version = "19.0.5";
    r.os_version = "Debian \"12\"";
    r.os_variant = "prod";
    CHECK(cloud::encode_register(r)
          == R"({"application":1011165,"uuid":"u1","device_type":)"
             R"("generic-amd64","api_key":"dk","supervisor_version":"19.0.5",)"
             R"("os_version":"Debian \"12\"","os_variant":"prod"})");
  }

  TEST_CASE("device ids are read from hostile answers without failing") {
    CHECK(cloud::decode_registered_id(R"({"id":5,"uuid":"u"})") == 5);
    CHECK(cloud::decode_registered_id(R"({"id":"17"})") == 17);
    CHECK_FALSE(cloud::decode_registered_id(R"({"id":-1})"));
    CHECK_FALSE(cloud::decode_registered_id(R"({"id":"x"})"));
    CHECK_FALSE(cloud::decode_registered_id(R"([5])"));
    CHECK_FALSE(cloud::decode_registered_id("not json"));
    CHECK_FALSE(cloud::decode_registered_id(std::string(100000, '[')));
    CHECK(cloud::decode_device_query_id(R"({"d":[{"id":9}]})") == 9);
    CHECK_FALSE(cloud::decode_device_query_id(R"({"d":[]})"));
    CHECK_FALSE(cloud::decode_device_query_id(R"({"d":[1]})"));
    CHECK_FALSE(cloud::decode_device_query_id(R"({"d":{"id":1}})"));
    CHECK(cloud::encode_device_key("k\"") == R"({"apiKey":"k\""})");
  }
}
