// The pure compose parsers: shell split, durations, byte sizes, ports,
// short volume specs, key spelling and name rules.
#include "api/cloud/compose_parse.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::cloud;

using argv = std::vector<std::string>;

TEST_SUITE("compose parse: shell_split") {
  TEST_CASE("splits like a shell without expanding anything") {
    struct row {
      const char* in;
      argv out;
    };
    row rows[] = {
      {"", {}},
      {"   ", {}},
      {"echo hello", {"echo", "hello"}},
      {"  a \t b\nc  ", {"a", "b", "c"}},
      {"echo $HOME", {"echo", "$HOME"}},
      {"sh -c 'echo $HOME && sleep 1'", {"sh", "-c", "echo $HOME && sleep 1"}},
      {R"(sh -c "echo \"hi\" \$x \\ \a")",
       {"sh", "-c", R"(echo "hi" $x \ \a)"}},
      {R"(a\ b c)", {"a b", "c"}},
      {R"(a'b'"c"d)", {"abcd"}},
      {"'' \"\"", {"", ""}},
      {"a&&b | c;d", {"a&&b", "|", "c;d"}},
      {"trailing\\", {"trailing\\"}},
      {"line\\\ncontinued", {"linecontinued"}},
      {"'it''s'", {"its"}},
    };
    for (const auto& r : rows) {
      CAPTURE(r.in);
      auto got = shell_split(r.in);
      REQUIRE(got);
      CHECK(*got == r.out);
    }
  }

  TEST_CASE("rejects unterminated quotes") {
    for (const char* in : {"'abc", "\"abc", "a \"b\\\"", "x 'y"}) {
      CAPTURE(in);
      auto got = shell_split(in);
      CHECK_FALSE(got);
      CHECK(got.error == "unterminated quote");
    }
  }
}

TEST_SUITE("compose parse: durations") {
  TEST_CASE("parses Go / compose durations to nanoseconds") {
    struct row {
      const char* in;
      int64_t ns;
    };
    row rows[] = {
      {"0", 0},
      {"0s", 0},
      {"10s", 10'000'000'000},
      {"1m30s", 90'000'000'000},
      {"1h", 3'600'000'000'000},
      {"1.5s", 1'500'000'000},
      {".5s", 500'000'000},
      {"500ms", 500'000'000},
      {"250us", 250'000},
      {"250\xC2\xB5s", 250'000},
      {"7ns", 7},
      {"2h45m", 9'900'000'000'000},
      {"1.000000001s", 1'000'000'001},
      {"1.0000000019s", 1'000'000'001}, // truncated below 1 ns
    };
    for (const auto& r : rows) {
      CAPTURE(r.in);
      auto got = parse_duration_ns(r.in);
      REQUIRE(got);
      CHECK(*got == r.ns);
    }
  }

  TEST_CASE("rejects malformed and out-of-range durations") {
    for (const char* in : {"", "10", "s", "1x", "-1s", "1.s5", "1 s", ".s",
                           "1d", "3000000h", "9223372036854775807s"}) {
      CAPTURE(in);
      CHECK_FALSE(parse_duration_ns(in));
    }
  }

  TEST_CASE("formats with the largest exact unit and parses back") {
    CHECK(format_duration_ns(0) == "0s");
    CHECK(format_duration_ns(90'000'000'000) == "90s");
    CHECK(format_duration_ns(3'600'000'000'000) == "1h");
    CHECK(format_duration_ns(120'000'000'000) == "2m");
    CHECK(format_duration_ns(1'500'000'000) == "1500ms");
    CHECK(format_duration_ns(1'000'001) == "1000001ns");
    for (int64_t ns : {int64_t{1}, int64_t{999}, int64_t{1'000'000'001},
                       int64_t{86'400'000'000'000}, int64_t{7'000}}) {
      auto back = parse_duration_ns(format_duration_ns(ns));
      REQUIRE(back);
      CHECK(*back == ns);
    }
  }
}

TEST_SUITE("compose parse: byte sizes") {
  TEST_CASE("parses balena's byte-size syntax") {
    struct row {
      const char* in;
      int64_t bytes;
    };
    row rows[] = {
      {"0", 0},           {"512", 512},
      {"100b", 100},      {"1k", 1024},
      {"1kb", 1024},      {"1KB", 1024},
      {"64m", 67108864},  {"64M", 67108864},
      {"1g", 1073741824}, {"2gb", 2147483648},
      {"10bb", 10},
    };
    for (const auto& r : rows) {
      CAPTURE(r.in);
      auto got = parse_byte_size(r.in);
      REQUIRE(got);
      CHECK(*got == r.bytes);
    }
  }

  TEST_CASE("rejects other spellings and overflow") {
    for (const char* in : {"", "m", "1.5g", "-1", "1t", "1 m", "1mbb", "1kk",
                           "99999999999999999999", "9999999999g"}) {
      CAPTURE(in);
      CHECK_FALSE(parse_byte_size(in));
    }
  }
}

TEST_SUITE("compose parse: ports") {
  TEST_CASE("parses every port spec form") {
    struct row {
      const char* in;
      const char* ip;
      port_range host;
      port_range cont;
      const char* proto;
    };
    row rows[] = {
      {"80", "", {80, 80}, {80, 80}, "tcp"},
      {"80:8080", "", {80, 80}, {8080, 8080}, "tcp"},
      {"53:53/udp", "", {53, 53}, {53, 53}, "udp"},
      {"8000-8001:80-81", "", {8000, 8001}, {80, 81}, "tcp"},
      {"8000-8005:80", "", {8000, 8005}, {80, 80}, "tcp"},
      {"127.0.0.1:8080:80", "127.0.0.1", {8080, 8080}, {80, 80}, "tcp"},
      {"127.0.0.1::80", "127.0.0.1", {0, 0}, {80, 80}, "tcp"},
      {":80", "", {0, 0}, {80, 80}, "tcp"},
      {"[::1]:8080:80/sctp", "::1", {8080, 8080}, {80, 80}, "sctp"},
      {"9000-9001", "", {9000, 9001}, {9000, 9001}, "tcp"},
    };
    for (const auto& r : rows) {
      CAPTURE(r.in);
      auto got = parse_port_spec(r.in);
      REQUIRE_MESSAGE(got, got.error);
      CHECK(got->host_ip == r.ip);
      CHECK(got->host == r.host);
      CHECK(got->container == r.cont);
      CHECK(got->protocol == r.proto);
      auto back = parse_port_spec(format_port_spec(*got));
      REQUIRE(back);
      CHECK(*back == *got);
    }
  }

  TEST_CASE("rejects bad port specs with a reason") {
    struct row {
      const char* in;
      const char* error;
    };
    row rows[] = {
      {"", "invalid port spec"},
      {"abc", "invalid port spec"},
      {"0", "port out of range"},
      {"65536", "port out of range"},
      {"80/icmp", "unsupported protocol"},
      {"8000-8002:80-81", "port ranges differ in size"},
      {"81-80", "invalid port spec"},
      {"1:2:3:4", "invalid port spec"},
      {"[::1:80:80", "invalid port spec"},
      {"a b:80:80", "invalid port spec"},
      {"99999999999999999999999", "invalid port spec"},
    };
    for (const auto& r : rows) {
      CAPTURE(r.in);
      auto got = parse_port_spec(r.in);
      CHECK_FALSE(got);
      CHECK(got.error == r.error);
    }
  }
}

TEST_SUITE("compose parse: volume specs") {
  TEST_CASE("classifies named, anonymous and bind volumes") {
    auto named = parse_volume_spec("dbdata:/var/lib/db");
    REQUIRE(named);
    CHECK(named->kind == mount_kind::volume);
    CHECK(named->source == "dbdata");
    CHECK(named->target == "/var/lib/db");
    CHECK_FALSE(named->read_only);
    CHECK_FALSE(named->long_syntax);

    auto ro = parse_volume_spec("data:/d:ro,z");
    REQUIRE(ro);
    CHECK(ro->read_only);
    CHECK(ro->mode == "ro,z");

    auto rw = parse_volume_spec("data:/d:rw");
    REQUIRE(rw);
    CHECK_FALSE(rw->read_only);

    auto anon = parse_volume_spec("/cache");
    REQUIRE(anon);
    CHECK(anon->kind == mount_kind::volume);
    CHECK(anon->source.empty());
    CHECK(anon->target == "/cache");

    for (const char* bind : {"/host:/c", "./rel:/c", "~/x:/c:ro"}) {
      CAPTURE(bind);
      auto b = parse_volume_spec(bind);
      REQUIRE(b);
      CHECK(b->kind == mount_kind::bind);
      CHECK(format_volume_spec(*b) == bind);
    }
  }

  TEST_CASE("rejects malformed volume specs") {
    for (const char* in : {"", "relative", "data:rel", ":/x", "a:/b:c:d",
                           "-bad:/x", "data:/x:"}) {
      CAPTURE(in);
      CHECK_FALSE(parse_volume_spec(in));
    }
  }
}

TEST_SUITE("compose parse: names") {
  TEST_CASE("camelCase keys become snake_case") {
    CHECK(camel_to_snake("capAdd") == "cap_add");
    CHECK(camel_to_snake("cap_add") == "cap_add");
    CHECK(camel_to_snake("networkMode") == "network_mode");
    CHECK(camel_to_snake("ipv4Address") == "ipv4_address");
    CHECK(camel_to_snake("linkLocalIps") == "link_local_ips");
    CHECK(camel_to_snake("linkLocalIPs") == "link_local_ips");
    CHECK(camel_to_snake("enableIPv6") == "enable_ipv6");
    CHECK(camel_to_snake("oomKillDisable") == "oom_kill_disable");
    CHECK(camel_to_snake("stopGracePeriod") == "stop_grace_period");
    CHECK(camel_to_snake("startPeriod") == "start_period");
    CHECK(camel_to_snake("domainname") == "domainname");
  }

  TEST_CASE("name rules") {
    CHECK(is_object_name("web"));
    CHECK(is_object_name("a1_b.c-d"));
    CHECK(is_object_name("0abc"));
    CHECK_FALSE(is_object_name(""));
    CHECK_FALSE(is_object_name("_web"));
    CHECK_FALSE(is_object_name("we b"));
    CHECK_FALSE(is_object_name("web/x"));
    CHECK(is_env_name("PORT"));
    CHECK(is_env_name("_x1"));
    CHECK_FALSE(is_env_name("1BAD"));
    CHECK_FALSE(is_env_name("A-B"));
    CHECK_FALSE(is_env_name(""));
    CHECK(is_config_name("RESIN_HOST_CONFIG_gpu_mem"));
    CHECK(is_config_name("HOST_CONFIG_dtoverlay:1"));
    CHECK_FALSE(is_config_name("1X"));
    CHECK_FALSE(is_config_name("A.B"));
  }
}
