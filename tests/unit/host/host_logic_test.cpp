// The host interface's pure parts: redsocks.conf parse/merge/write,
// host-config and journal-logs decoding, journalctl's argv, MAC rules.
#include "actors/host/addresses.hpp"
#include "actors/host/journal.hpp"
#include "actors/host/redsocks.hpp"
#include "api/server/host_codec.hpp"

#include <doctest/doctest.h>

using namespace bosun;

namespace {

const char* full_conf = "base {\n\tlog_debug = off;\n\tlog_info = on;\n\tlog "
                        "= stderr;\n\tdaemon = off;\n\tredirector = "
                        "iptables;\n}\n\nredsocks {\n\ttype = socks5;\n\tip = "
                        "192.168.0.199;\n\tport = 8123;\n\tlogin = "
                        "\"user\";\n\tpassword = \"secret\";\n\tlocal_ip = "
                        "127.0.0.1;\n\tlocal_port = 12345;\n}\n\ndnsu2t "
                        "{\n\tremote_ip = 1.1.1.1;\n\tremote_port = "
                        "53;\n\tlocal_ip = 127.0.0.1;\n\tlocal_port = 53;\n}\n";

} // namespace

TEST_SUITE("redsocks.conf") {
  TEST_CASE("balena's example reads back as it was written") {
    auto p = redsocks::parse(full_conf);
    CHECK(p.valid);
    CHECK(p.fields
          == std::vector<std::pair<std::string, std::string>>{
            {"type", "socks5"},
            {"ip", "192.168.0.199"},
            {"port", "8123"},
            {"login", "user"},
            {"password", "secret"}});
    CHECK(p.dns == std::optional<std::string>("1.1.1.1:53"));
    CHECK(redsocks::write(p) == full_conf);
  }

  TEST_CASE("an invalid redsocks block gives no fields; bad lines warn") {
    std::vector<std::string> warnings;
    auto p = redsocks::parse("redsocks {\n\ttype = gopher;\n\tip = "
                             "1.2.3.4;\n\tport = 1;\n\tjunk\n}\n",
                             &warnings);
    CHECK_FALSE(p.valid);
    CHECK(p.fields.empty());
    CHECK(warnings
          == std::vector<std::string>{
            "Ignoring malformed redsocks.conf line junk"});
    CHECK_FALSE(redsocks::parse("nothing here").valid);
  }

  TEST_CASE("a patch overlays the current fields, new keys last; dns false "
            "drops the relay, true is 8.8.8.8:53; no key empties it") {
    auto current = redsocks::parse(full_conf);
    host_config_patch::proxy_patch p;
    p.fields = {{"ip", "10.0.0.1"}, {"extra", "x"}};
    p.dns = "false";
    auto m = redsocks::merge(current, p);
    CHECK(m.fields[1] == std::pair<std::string, std::string>{"ip", "10.0.0.1"});
    CHECK(m.fields.back() == std::pair<std::string, std::string>{"extra", "x"});
    CHECK_FALSE(m.dns);
    p.dns = "true";
    CHECK(redsocks::merge(current, p).dns
          == std::optional<std::string>("8.8.8.8:53"));
    auto empty = redsocks::merge(current, {});
    CHECK(empty.fields.empty());
    CHECK_FALSE(redsocks::writable(empty));
    host_config_patch::proxy_patch dns_only;
    dns_only.dns = "9.9.9.9:53";
    CHECK_FALSE(redsocks::writable(redsocks::merge({}, dns_only)));
  }

  TEST_CASE("no_proxy: non-empty lines") {
    CHECK(redsocks::parse_no_proxy("a\n\n b \nc")
          == std::vector<std::string>{"a", "b", "c"});
  }
}

TEST_SUITE("host-config body") {
  TEST_CASE("a valid body is taken as given, force from the top level") {
    auto r = api::decode_host_config(
      R"({"network":{"hostname":"h","proxy":{"type":"http-connect","ip":"1.2.3.4","port":"3128","dns":true,"noProxy":["x"],"junk":1}},"force":true})");
    REQUIRE(std::holds_alternative<api::host_config_decoded>(r));
    auto& d = std::get<api::host_config_decoded>(r);
    CHECK(d.warnings.empty());
    CHECK(d.patch.force);
    CHECK(d.patch.hostname == std::optional<std::string>("h"));
    REQUIRE(d.patch.proxy);
    // Unknown keys are stripped by the strict parse.
    CHECK(d.patch.proxy->fields.size() == 3);
    CHECK(d.patch.proxy->dns == std::optional<std::string>("true"));
    CHECK(d.patch.proxy->no_proxy == std::vector<std::string>{"x"});
  }

  TEST_CASE("a malformed proxy is taken leniently, with warnings") {
    auto r = api::decode_host_config(
      R"({"network":{"proxy":{"type":"ftp","ip":"1.2.3.4","weird":"y"}}})");
    REQUIRE(std::holds_alternative<api::host_config_decoded>(r));
    auto& d = std::get<api::host_config_decoded>(r);
    REQUIRE_FALSE(d.warnings.empty());
    CHECK(d.warnings[0]
          == "Malformed host config detected, things may not behave as "
             "expected:");
    CHECK(d.patch.proxy->fields.size() == 3); // all kept
  }

  TEST_CASE("400 texts: no network, hostname not a string, proxy not an "
            "object, bad dns") {
    for (auto body :
         {R"({})", R"({"network":1})", R"({"network":{"hostname":1}})",
          R"({"network":{"proxy":"x"}})",
          R"({"network":{"proxy":{"dns":"nope"}}})", "{"}) {
      auto r = api::decode_host_config(body);
      REQUIRE_MESSAGE(std::holds_alternative<std::string>(r), body);
      CHECK(std::get<std::string>(r).rfind(
              "Could not parse host config input to a valid format:\n", 0)
            == 0);
    }
  }

  TEST_CASE("GET shows the port as a number, dns and noProxy") {
    host_settings s;
    s.hostname = "dev";
    host_proxy p;
    p.fields = {{"type", "socks5"}, {"ip", "1.1.1.1"}, {"port", "8123"}};
    p.dns = "1.1.1.1:53";
    p.no_proxy = {"a"};
    s.proxy = p;
    CHECK(
      api::encode_host_config(s)
      == R"({"network":{"hostname":"dev","proxy":{"type":"socks5","ip":"1.1.1.1","port":8123,"dns":"1.1.1.1:53","noProxy":["a"]}}})");
    CHECK(api::encode_host_config({"x", {}})
          == R"({"network":{"hostname":"x"}})");
  }
}

TEST_SUITE("journalctl argv") {
  TEST_CASE("balena's order; count only when positive; format default") {
    journal_query q;
    q.all = true;
    q.follow = true;
    q.count = 10;
    q.unit = "balena.service";
    CHECK(journal_argv("journalctl", q)
          == std::vector<std::string>{"journalctl", "-a", "--follow", "-u",
                                      "balena.service", "-n", "10", "-o",
                                      "short"});
    journal_query r;
    r.count = 0;
    r.container_id = "c";
    r.since = "s";
    r.until = "u";
    r.format = "json";
    CHECK(journal_argv("/j", r)
          == std::vector<std::string>{"/j", "-t", "c", "-S", "s", "-U", "u",
                                      "-o", "json"});
  }

  TEST_CASE("the body's fields, JSON or form") {
    api::fields f{{"all", {api::field::kind::boolean, "true"}},
                  {"count", {api::field::kind::string, "-3"}},
                  {"unit", {api::field::kind::string, "x.service"}}};
    auto q = api::decode_journal_query(f);
    CHECK(q.all);
    CHECK_FALSE(q.follow);
    CHECK_FALSE(q.count);
    CHECK(q.unit == std::optional<std::string>("x.service"));
    CHECK(q.format == "short");
  }
}

TEST_SUITE("host addresses") {
  TEST_CASE("balena's internal interfaces are not reported (one filter)") {
    for (auto n : {"balena0", "docker0", "rce0", "tun12", "resin-vpn", "lo",
                   "resin-dns", "supervisor0", "balena-redsocks",
                   "resin-redsocks", "br-0123456789ab"})
      CHECK_MESSAGE(interface_excluded(n), n);
    for (auto n : {"eth0", "wlan0", "docker", "br-1", "tunnel", "enp3s0"})
      CHECK_FALSE_MESSAGE(interface_excluded(n), n);
  }

  TEST_CASE("a MAC: Ethernet type, no master, not zero; upper-case") {
    CHECK(reported_mac("aa:bb:cc:dd:ee:0f", "1", false) == "AA:BB:CC:DD:EE:0F");
    CHECK(reported_mac("aa:bb:cc:dd:ee:0f", "772", false).empty());
    CHECK(reported_mac("aa:bb:cc:dd:ee:0f", "1", true).empty());
    CHECK(reported_mac("00:00:00:00:00:00", "1", false).empty());
  }
}
