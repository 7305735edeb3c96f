#include "actors/engine/engine_streams.hpp"

#include <doctest/doctest.h>

namespace bosun {
namespace {

std::string frame(uint8_t stream, const std::string& payload) {
  std::string out{static_cast<char>(stream), 0, 0, 0};
  auto n = static_cast<uint32_t>(payload.size());
  out += static_cast<char>((n >> 24) & 0xff);
  out += static_cast<char>((n >> 16) & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  out += static_cast<char>(n & 0xff);
  return out + payload;
}

std::vector<engine_streams::assembled_line>
feed_bytewise(engine_streams::log_assembler& a, const std::string& bytes) {
  std::vector<engine_streams::assembled_line> out;
  for (char c : bytes)
    for (auto& l : a.feed(std::string_view{&c, 1}))
      out.push_back(std::move(l));
  return out;
}

} // namespace

TEST_SUITE("engine_streams") {
  TEST_CASE("cuts multiplexed frames into lines per source, in any split") {
    engine_streams::log_assembler a{false, false};
    auto bytes
      = frame(1, "out-1\nout-") + frame(2, "err-1\n") + frame(1, "2\n");
    auto lines = feed_bytewise(a, bytes);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].source == log_source::out);
    CHECK(lines[0].text == "out-1");
    CHECK(lines[1].source == log_source::err);
    CHECK(lines[1].text == "err-1");
    CHECK(lines[2].text == "out-2");
    std::vector<engine_streams::assembled_line> rest;
    CHECK(a.finish(rest));
    CHECK(rest.empty());
  }

  TEST_CASE("splits off timestamps when they were asked for") {
    engine_streams::log_assembler a{false, true};
    auto lines
      = a.feed(frame(1, "2024-01-02T03:04:05.123456789Z hello world\n"));
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].timestamp == "2024-01-02T03:04:05.123456789Z");
    CHECK(lines[0].text == "hello world");
  }

  TEST_CASE("passes TTY bytes through, dropping carriage returns") {
    engine_streams::log_assembler a{true, false};
    auto lines = feed_bytewise(a, "a\r\nb\r\nunterminated");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].text == "a");
    CHECK(lines[1].text == "b");
    std::vector<engine_streams::assembled_line> rest;
    CHECK(a.finish(rest));
    REQUIRE(rest.size() == 1);
    CHECK(rest[0].text == "unterminated");
  }

  TEST_CASE("reports a stream cut inside a frame") {
    engine_streams::log_assembler a{false, false};
    a.feed(frame(1, "complete\n").substr(0, 10));
    std::vector<engine_streams::assembled_line> rest;
    CHECK_FALSE(a.finish(rest));
    CHECK(a.error());
  }

  TEST_CASE("reads pull progress and the error reported inside the stream") {
    engine_streams::pull_reader r;
    auto items = r.feed(
      R"({"status":"Pulling from bosun/busybox","id":"1"})"
      "\n"
      R"({"status":"Downloading","progressDetail":{"current":5,"total":10},)");
    REQUIRE(items.size() == 1);
    CHECK(items[0].status == "Pulling from bosun/busybox");
    CHECK_FALSE(r.failure());
    items = r.feed(R"("id":"abc"})"
                   "\n"
                   R"({"errorDetail":{"message":"boom"},"error":"boom"})"
                   "\n");
    REQUIRE(items.size() == 2);
    CHECK(items[0].current == 5);
    CHECK(items[0].total == 10);
    REQUIRE(r.failure());
    CHECK(*r.failure() == "boom");
    CHECK(r.finish().empty());
  }

  TEST_CASE("reads events, skipping bad lines, and tracks the newest time") {
    engine_streams::event_reader r;
    auto evs
      = r.feed(R"({"Type":"container","Action":"create","Actor":{"ID":"a"},)"
               R"("time":1700000002,"timeNano":1700000002000000007})"
               "\n[]\n"
               R"({"Type":"volume","Action":"create","Actor":{"ID":"v"},)");
    REQUIRE(evs.size() == 1);
    CHECK(evs[0].type == "container");
    CHECK(r.skipped() == 1);
    CHECK(r.last_time_nano() == 1700000002000000007);
    evs = r.feed(R"("time":1700000001})"
                 "\n");
    REQUIRE(evs.size() == 1);
    CHECK(evs[0].actor_id == "v");
    CHECK(r.last_time_nano() == 1700000002000000007); // never goes back
    CHECK_FALSE(r.error());
  }
}

} // namespace bosun
