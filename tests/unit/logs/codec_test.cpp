// The wire side of logs: NDJSON lines in balena's two shapes, the gzip
// stream's framing, the log stream request head and chunks.
#include "api/logs/gzip.hpp"
#include "api/logs/log_json.hpp"
#include "api/logs/upload.hpp"
#include "tests/unit/logs/inflate.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

using namespace bosun;

namespace {

log_entry container_line() {
  log_entry e;
  e.message = "hello \"world\"\n\ttab \xC3\xA9";
  e.timestamp_ms = 1704164645123;
  e.is_stderr = true;
  e.service_id = 43697;
  e.service_name = "main";
  e.app_id = 1;
  return e;
}

log_entry system_line(bool error) {
  log_entry e;
  e.message = "Downloading image 'registry2/x:1'";
  e.timestamp_ms = 1704164645000;
  e.is_system = true;
  e.is_stderr = error;
  return e;
}

} // namespace

TEST_SUITE("logs.json") {
  TEST_CASE("a container line for the cloud") {
    std::string out;
    log_json::append_cloud_line(container_line(), out);
    CHECK(out
          == "{\"message\":\"hello \\\"world\\\"\\n\\ttab \xC3\xA9\","
             "\"timestamp\":1704164645123,\"isStdErr\":true,"
             "\"serviceId\":43697}\n");
  }
  TEST_CASE("system lines for the cloud carry isStdErr only on errors") {
    std::string out;
    log_json::append_cloud_line(system_line(false), out);
    CHECK(out
          == "{\"message\":\"Downloading image 'registry2/x:1'\","
             "\"timestamp\":1704164645000,\"isSystem\":true}\n");
    out.clear();
    log_json::append_cloud_line(system_line(true), out);
    CHECK(out
          == "{\"message\":\"Downloading image 'registry2/x:1'\","
             "\"timestamp\":1704164645000,\"isSystem\":true,"
             "\"isStdErr\":true}\n");
  }
  TEST_CASE("local lines name the service; system lines have no name") {
    std::string out;
    log_json::append_local_line(container_line(), out);
    rapidjson::Document d;
    REQUIRE_FALSE(d.Parse(out.c_str()).HasParseError());
    CHECK(std::string(d["serviceName"].GetString()) == "main");
    CHECK(std::string(d["message"].GetString())
          == "hello \"world\"\n\ttab \xC3\xA9");
    CHECK(d["isStdErr"].GetBool());
    CHECK(d["timestamp"].GetInt64() == 1704164645123);
    CHECK(d["serviceId"].GetInt64() == 43697);
    CHECK_FALSE(d.HasMember("isSystem"));
    out.clear();
    log_json::append_local_line(system_line(false), out);
    CHECK(out
          == "{\"message\":\"Downloading image 'registry2/x:1'\","
             "\"isSystem\":true,\"isStdErr\":false,"
             "\"timestamp\":1704164645000}\n");
  }
  TEST_CASE("the first line a local reader gets") {
    CHECK(log_json::streaming_banner()
          == "{\"message\":\"Streaming logs\",\"isSystem\":true}\n");
  }
}

TEST_SUITE("logs.gzip") {
  TEST_CASE("each sync flush makes everything so far decodable") {
    log_json::gzip_stream gz;
    test::gunzip in;
    std::string wire;
    gz.write("line 1\n", wire);
    gz.flush(wire);
    CHECK(in.feed(wire) == "line 1\n");
    wire.clear();
    gz.write("line 2\n", wire);
    gz.write("line 3\n", wire);
    gz.flush(wire);
    CHECK(in.feed(wire) == "line 2\nline 3\n");
    CHECK_FALSE(in.ended());
    wire.clear();
    gz.finish(wire);
    CHECK(in.feed(wire).empty());
    CHECK(in.ended());
    CHECK(gz.total_in() == 21);
  }
  TEST_CASE("big input comes out in pieces without a flush") {
    log_json::gzip_stream gz;
    std::string wire;
    std::string text;
    for (int i = 0; i < 100000; ++i)
      text += "numbered line " + std::to_string(i) + "\n";
    gz.write(text, wire);
    CHECK_FALSE(wire.empty()); // deflate emitted blocks on its own
    gz.finish(wire);
    test::gunzip in;
    CHECK(in.feed(wire) == text);
    CHECK(in.ended());
  }
  TEST_CASE("reset starts a new gzip member") {
    log_json::gzip_stream gz;
    std::string wire;
    gz.write("old", wire);
    gz.reset();
    wire.clear();
    gz.write("new\n", wire);
    gz.flush(wire);
    test::gunzip in;
    CHECK(in.feed(wire) == "new\n");
  }
}

TEST_SUITE("logs.upload") {
  TEST_CASE("the request head") {
    std::string why;
    auto t = log_upload::device_target("https://api.example.com", "abc123",
                                       "key1", &why);
    REQUIRE_MESSAGE(t, why);
    CHECK(t->ep.type == http::endpoint::kind::tls);
    CHECK(t->ep.port == 443);
    auto head = log_upload::request_head(*t);
    REQUIRE(head);
    CHECK(*head
          == "POST /device/v2/abc123/log-stream HTTP/1.1\r\n"
             "Host: api.example.com\r\n"
             "Authorization: Bearer key1\r\n"
             "Content-Type: application/x-ndjson\r\n"
             "Content-Encoding: gzip\r\n"
             "Transfer-Encoding: chunked\r\n\r\n");
  }
  TEST_CASE("plain http endpoints keep their port in Host") {
    auto t = log_upload::device_target("http://127.0.0.1:8800/", "abc", "k");
    REQUIRE(t);
    CHECK(t->ep.type == http::endpoint::kind::tcp);
    CHECK(log_upload::request_head(*t)->find("Host: 127.0.0.1:8800\r\n")
          != std::string::npos);
  }
  TEST_CASE("bad settings are refused, never sent") {
    std::string why;
    CHECK_FALSE(log_upload::device_target("ftp://x", "abc", "k", &why));
    CHECK_FALSE(why.empty());
    CHECK_FALSE(log_upload::device_target("http://x:1", "ab/../c", "k", &why));
    auto t = log_upload::device_target("http://x:1", "abc", "k\r\nX: y");
    REQUIRE(t);
    CHECK_FALSE(log_upload::request_head(*t, &why));
    CHECK(why == "invalid device API key");
  }
  TEST_CASE("chunk headers are hex sizes") {
    CHECK(log_upload::chunk_header(1) == "1\r\n");
    CHECK(log_upload::chunk_header(255) == "ff\r\n");
    CHECK(log_upload::chunk_header(65536) == "10000\r\n");
  }
}
