// Hostile and broken input: clear errors, never a crash.
#include "api/docker/codec.hpp"
#include "data.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::docker;
using bosun::docker::test::load;

TEST_SUITE("docker codec: errors") {
  TEST_CASE("reports where JSON is malformed") {
    auto e = decode_version("");
    REQUIRE_FALSE(e);
    CHECK(*e.err == "offset 0: The document is empty.");
    CHECK(*decode_version(R"({"ApiVersion": })").err
          == "offset 15: Invalid value.");
    CHECK(*decode_version(R"({"ApiVersion":"1.41"} x)").err
          == "offset 22: The document root must not be followed by other "
             "values.");
    CHECK(*decode_event("{\"Type\":\"container\",").err
          == "offset 20: Missing a name for object member.");
  }

  TEST_CASE("names the field that has the wrong type") {
    auto text = load("container_inspect_exited.json");
    auto pos = text.find("\"ExitCode\":3");
    REQUIRE(pos != std::string::npos);
    text.replace(pos, 12, "\"ExitCode\":\"3\"");
    auto r = decode_container_inspect(text);
    REQUIRE_FALSE(r);
    CHECK(*r.err == "field 'State.ExitCode': expected integer, got string");

    CHECK(*decode_container_list(R"([{"Id":"a","Names":[1]}])").err
          == "field '[0].Names[0]': expected string, got number");
    CHECK(*decode_container_list(R"([{"Id":"a","Labels":{"x.y":true}}])").err
          == "field '[0].Labels[x.y]': expected string, got boolean");
    CHECK(*decode_container_list(R"({"Id":"a"})").err
          == "document: expected array, got object");
    CHECK(*decode_wait_result(R"({"StatusCode":1.5})").err
          == "field 'StatusCode': expected integer, got non-integer number");
    CHECK(*decode_wait_result(R"({"StatusCode":18446744073709551615})").err
          == "field 'StatusCode': integer out of range");
    CHECK(*decode_wait_result(R"({"StatusCode":0,"Error":"x"})").err
          == "field 'Error': expected object, got string");
    CHECK(*decode_event(R"({"Type":"container","Action":"die","Actor":[]})").err
          == "field 'Actor': expected object, got array");
    CHECK(*decode_pull_progress(R"({"progressDetail":{"current":"1"}})").err
          == "field 'progressDetail.current': expected integer, got string");
    CHECK(*decode_network(R"({"Id":"n","Name":"x","IPAM":{"Config":{}}})").err
          == "field 'IPAM.Config': expected array, got object");
    CHECK(*decode_container_create(
             R"({"HostConfig":{"Mounts":[{"TmpfsOptions":{"Mode":"x"}}]}})")
             .err
          == "field 'HostConfig.Mounts[0].TmpfsOptions.Mode': expected "
             "integer, got string");
    CHECK(*decode_container_create(R"({"ExposedPorts":["80/tcp"]})").err
          == "field 'ExposedPorts': expected object, got array");
  }

  TEST_CASE("names required fields that are missing") {
    CHECK(*decode_container_inspect(R"({"State":{}})").err
          == "field 'Id': missing");
    CHECK(
      *decode_container_inspect(R"({"Id":"x","Config":{},"HostConfig":{}})").err
      == "field 'State': missing");
    CHECK(*decode_container_inspect(
             R"({"Id":"x","State":{"Status":"running"},"HostConfig":{}})")
             .err
          == "field 'Config': missing");
    CHECK(*decode_container_create_result(R"({"Id":""})").err
          == "field 'Id': empty");
    CHECK(*decode_volume(R"({"Driver":"local"})").err
          == "field 'Name': missing");
    CHECK(*decode_volume_list(R"({"Volumes":[{}]})").err
          == "field 'Volumes[0].Name': missing");
    CHECK(*decode_event(R"({"Type":"container"})").err
          == "field 'Action': missing");
    CHECK(*decode_version("{}").err == "field 'ApiVersion': missing");
    CHECK(*decode_info("[]").err == "document: expected object, got array");
    CHECK(*decode_wait_result("{}").err == "field 'StatusCode': missing");
  }

  TEST_CASE("treats null as empty and ignores unknown fields") {
    auto v = decode_volume_list(R"({"Volumes":null,"Warnings":null,"New":1})");
    REQUIRE(v);
    CHECK(v->volumes.empty());
    auto c = decode_container_create(R"({"Cmd":null,"Healthcheck":null})");
    REQUIRE(c);
    CHECK_FALSE(c->config.cmd);
    CHECK_FALSE(c->config.healthcheck);
  }

  TEST_CASE("every truncation of a recorded inspect fails cleanly") {
    auto text = load("container_inspect_running.json");
    while (!text.empty() && text.back() == '\n')
      text.pop_back();
    for (std::size_t n = 0; n < text.size(); ++n) {
      auto r = decode_container_inspect(std::string_view(text).substr(0, n));
      REQUIRE_FALSE(r);
      REQUIRE(r.err->rfind("offset ", 0) == 0);
    }
    CHECK(decode_container_inspect(text));
  }

  TEST_CASE("survives byte mutations of recorded responses") {
    // Deterministic pseudo-random flips; every result is ok or an error.
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    auto next = [&] {
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      return seed;
    };
    const char* alphabet = "{}[]\":,0123456789-.eEtfnul \\x\x01";
    int ok = 0, failed = 0;
    for (auto* name : {"container_inspect_running.json", "network_list.json",
                       "image_inspect.json", "info.json"}) {
      auto original = load(name);
      for (int round = 0; round < 500; ++round) {
        auto text = original;
        for (int flips = 1 + next() % 4; flips > 0; --flips)
          text[next() % text.size()] = alphabet[next() % 31];
        bool good = decode_container_inspect(text) ? true : false;
        good = decode_network_list(text) || good;
        good = decode_image_inspect(text) || good;
        good = decode_info(text) || good;
        (good ? ok : failed)++;
      }
    }
    CHECK(ok > 0);
    CHECK(failed > 0);
  }

  TEST_CASE("deep nesting and odd documents do not crash") {
    std::string deep(200000, '[');
    deep += std::string(200000, ']');
    CHECK(*decode_version(deep).err == "document: expected object, got array");
    CHECK(decode_version(std::string(200000, '[')).err->substr(0, 7)
          == "offset ");
    CHECK_FALSE(decode_container_list(std::string(100000, '{')));
    CHECK(*decode_version(std::string("{\"ApiVersion\":\"1\0\"}", 19)).err
          == "offset 16: Missing a closing quotation mark in string.");
    auto weird = decode_version(R"({"ApiVersion":"\u0000x"})");
    REQUIRE(weird);
    CHECK(weird->api_version == std::string("\0x", 2));
  }
}
