#include "api/client/client.hpp"
#include "api/client/proxy.hpp"
#include "api/client/wire.hpp"
#include "tests/unit/client/test_server.hpp"

#include <doctest/doctest.h>
#include <map>
#include <string>

using namespace bosun::http;
using bosun::test::env_of;

namespace {

endpoint ep_of(const std::string& url) {
  auto ep = parse_endpoint(url);
  REQUIRE_MESSAGE(ep, url);
  return *ep;
}

// "direct", "error", or the proxy as to_string() names it.
std::string decide(const std::string& url,
                   std::map<std::string, std::string> vars) {
  auto s = proxy_for(ep_of(url), env_of(std::move(vars)));
  if (!s.error.empty())
    return "error";
  return s.server ? to_string(*s.server) : "direct";
}

} // namespace

TEST_SUITE("http proxy: choosing from the environment") {
  TEST_CASE("each scheme has its variables, lower case first, then all_proxy") {
    struct row {
      const char* url;
      std::map<std::string, std::string> env;
      const char* expect;
    };
    const row rows[] = {
      {"https://api.example.com", {}, "direct"},
      {"https://api.example.com",
       {{"https_proxy", "http://p1:3128"}},
       "http://p1:3128"},
      {"https://api.example.com",
       {{"HTTPS_PROXY", "http://p2:3128"}},
       "http://p2:3128"},
      // curl's convention: the lower-case name wins.
      {"https://api.example.com",
       {{"https_proxy", "http://lower:1"}, {"HTTPS_PROXY", "http://upper:2"}},
       "http://lower:1"},
      // http_proxy is not used for https targets, nor the reverse.
      {"https://api.example.com", {{"http_proxy", "http://p:1"}}, "direct"},
      {"http://api.example.com", {{"https_proxy", "http://p:1"}}, "direct"},
      {"http://api.example.com",
       {{"http_proxy", "http://lower:1"}, {"HTTP_PROXY", "http://upper:2"}},
       "http://lower:1"},
      {"http://api.example.com",
       {{"HTTP_PROXY", "http://upper:2"}},
       "http://upper:2"},
      // all_proxy after the scheme's own, lower case first.
      {"https://api.example.com",
       {{"all_proxy", "http://all:1"}, {"ALL_PROXY", "http://ALL:2"}},
       "http://all:1"},
      {"http://api.example.com",
       {{"ALL_PROXY", "http://ALL:2"}},
       "http://ALL:2"},
      {"https://api.example.com",
       {{"all_proxy", "http://all:1"}, {"HTTPS_PROXY", "http://own:2"}},
       "http://own:2"},
      // An empty value counts as unset.
      {"https://api.example.com",
       {{"https_proxy", ""}, {"HTTPS_PROXY", "http://upper:2"}},
       "http://upper:2"},
      {"https://api.example.com", {{"https_proxy", ""}}, "direct"},
      // Default port 1080, no scheme means http://.
      {"https://api.example.com",
       {{"https_proxy", "proxy.lan"}},
       "http://proxy.lan:1080"},
      {"https://api.example.com",
       {{"https_proxy", "http://[fd00::1]:8080/"}},
       "http://[fd00::1]:8080"},
      // Unusable values are errors, not silently ignored.
      {"https://api.example.com",
       {{"https_proxy", "socks5://p:1080"}},
       "error"},
      {"https://api.example.com", {{"https_proxy", "https://p:443"}}, "error"},
    };
    for (const auto& r : rows) {
      CAPTURE(r.url);
      CAPTURE(r.expect);
      CHECK(decide(r.url, r.env) == r.expect);
    }
  }

  TEST_CASE("unix sockets and loopback targets never use a proxy") {
    std::map<std::string, std::string> all{{"https_proxy", "http://p:1"},
                                           {"http_proxy", "http://p:1"},
                                           {"all_proxy", "http://p:1"}};
    CHECK(decide("unix:///var/run/balena-engine.sock", all) == "direct");
    CHECK(decide("http://127.0.0.1:48484", all) == "direct");
    CHECK(decide("http://127.8.9.10", all) == "direct");
    CHECK(decide("https://localhost:8443", all) == "direct");
    CHECK(decide("http://LOCALHOST.", all) == "direct");
    CHECK(decide("http://cloud.localhost", all) == "direct");
    CHECK(decide("http://[::1]:80", all) == "direct");
    CHECK(decide("http://[::ffff:127.0.0.1]:80", all) == "direct");
    // Only loopback: these go through the proxy.
    CHECK(decide("http://10.0.0.1", all) == "http://p:1");
    CHECK(decide("http://localhost.example.com", all) == "http://p:1");
    CHECK(decide("http://128.0.0.1", all) == "http://p:1");
  }

  TEST_CASE("no_proxy entries: names, domains, addresses, ranges, ports") {
    struct row {
      const char* url;
      const char* no_proxy;
      bool direct;
    };
    const row rows[] = {
      {"https://api.example.com", "*", true},
      {"https://api.example.com", "foo.org, *", true},
      {"https://api.example.com", "api.example.com", true},
      {"https://API.Example.COM", "api.example.com", true},
      {"https://api.example.com", "example.com", true},
      {"https://api.example.com", ".example.com", true},
      {"https://example.com", ".example.com", true},
      {"https://api.example.com", "*.example.com", true},
      {"https://api.example.com.", "example.com.", true},
      {"https://api.example.com", "ample.com", false},
      {"https://api.example.com", "other.com,example.org", false},
      {"https://api.example.com", "  other.com  example.com ", true},
      {"https://api.example.com", ",,", false},
      {"https://example.com", "api.example.com", false},
      // Ports.
      {"https://api.example.com", "api.example.com:443", true},
      {"https://api.example.com", "api.example.com:8443", false},
      {"http://api.example.com:8080", "example.com:8080", true},
      {"http://api.example.com:8080", "example.com:80", false},
      {"http://api.example.com", "example.com:nope", false},
      // Addresses and ranges; names never match addresses.
      {"http://10.1.2.3", "10.1.2.3", true},
      {"http://10.1.2.3", "10.1.2.4", false},
      {"http://10.1.2.3", "10.0.0.0/8", true},
      {"http://11.1.2.3", "10.0.0.0/8", false},
      {"http://192.168.7.9", "192.168.0.0/16", true},
      {"http://192.168.7.9", "192.168.0.0/24", false},
      {"http://10.1.2.3", "0.0.0.0/0", true},
      {"http://10.1.2.3", "10.0.0.0/33", false},
      {"http://10.1.2.3", "10.0.0.0/", false},
      {"http://10.1.2.3", "1.2.3", false},
      {"http://10.1.2.3:8080", "10.1.2.3:8080", true},
      {"http://10.1.2.3:8080", "10.1.2.3:9090", false},
      {"http://[fd00::5]", "fd00::5", true},
      {"http://[fd00::5]", "fd00::/16", true},
      {"http://[fe80::5]", "fd00::/16", false},
      {"http://[fd00::5]:8080", "[fd00::5]:8080", true},
      {"http://[fd00::5]:8080", "[fd00::5]:80", false},
      {"http://[::ffff:10.1.2.3]", "10.0.0.0/8", true},
      {"http://10.1.2.3", "::ffff:10.0.0.0/104", true},
      {"http://10.1.2.3", "fd00::/16", false},
      {"http://api.example.com", "10.0.0.0/8", false},
      {"http://10.1.2.3", "example.com", false},
    };
    for (const auto& r : rows) {
      CAPTURE(r.url);
      CAPTURE(r.no_proxy);
      CHECK(no_proxy_matches(r.no_proxy, ep_of(r.url)) == r.direct);
    }
  }

  TEST_CASE("no_proxy applies through proxy_for, lower case first") {
    CHECK(decide("https://api.example.com",
                 {{"https_proxy", "http://p:1"}, {"no_proxy", "example.com"}})
          == "direct");
    CHECK(decide("https://api.example.com",
                 {{"https_proxy", "http://p:1"}, {"NO_PROXY", "example.com"}})
          == "direct");
    CHECK(decide("https://api.example.com", {{"https_proxy", "http://p:1"},
                                             {"no_proxy", "other.org"},
                                             {"NO_PROXY", "example.com"}})
          == "http://p:1");
    // A bad proxy is no error for a target that would not use it.
    CHECK(decide("https://api.example.com",
                 {{"https_proxy", "socks5://p"}, {"no_proxy", "*"}})
          == "direct");
  }

  TEST_CASE("the setting names its variable; its error never shows the "
            "value") {
    auto s = proxy_for(ep_of("https://api.example.com"),
                       env_of({{"ALL_PROXY", "socks5://user:s3cret@p:1080"}}));
    CHECK_FALSE(s.server);
    CHECK(s.source == "ALL_PROXY");
    CHECK(s.error.find("ALL_PROXY is unusable") == 0);
    CHECK(s.error.find("socks5") != std::string::npos);
    CHECK(s.error.find("s3cret") == std::string::npos);
    s = proxy_for(ep_of("https://api.example.com"),
                  env_of({{"https_proxy", "http://10.0.0.1:3128"}}));
    REQUIRE(s.server);
    CHECK(s.source == "https_proxy");
    CHECK(s.error.empty());
  }
}

TEST_SUITE("http proxy: URLs and the wire") {
  TEST_CASE("proxy URLs: host, port, credentials") {
    auto p = parse_proxy_url("http://user:p%40ss@proxy.lan:3128/");
    REQUIRE(p);
    CHECK(p->host == "proxy.lan");
    CHECK(p->port == 3128);
    CHECK(p->authorization == "Basic " + base64("user:p@ss"));
    CHECK(to_string(*p) == "http://proxy.lan:3128");

    p = parse_proxy_url("HTTP://10.0.0.1");
    REQUIRE(p);
    CHECK(p->port == 1080);
    CHECK(p->authorization.empty());

    p = parse_proxy_url("user@[fd00::1]:8080");
    REQUIRE(p);
    CHECK(p->host == "fd00::1");
    CHECK(p->port == 8080);
    CHECK(p->authorization == "Basic " + base64("user:"));
    CHECK(to_string(*p) == "http://[fd00::1]:8080");

    // '@' in a password written as is: the last '@' ends the credentials.
    p = parse_proxy_url("http://u:a@b@p:1");
    REQUIRE(p);
    CHECK(p->host == "p");
    CHECK(p->authorization == "Basic " + base64("u:a@b"));

    std::string why;
    for (const char* bad :
         {"", "http://", "http://:3128", "http://p:0", "http://p:65536",
          "http://p:12x", "http://[fd00::1", "http://[fd00::1]x",
          "http://u:%zz@p", "http://u:%4@p", "socks5h://p", "https://p",
          "http://p q:1"}) {
      CAPTURE(bad);
      why.clear();
      CHECK_FALSE(parse_proxy_url(bad, &why));
      CHECK_FALSE(why.empty());
    }
  }

  TEST_CASE("base64 as RFC 4648 has it") {
    CHECK(base64("") == "");
    CHECK(base64("f") == "Zg==");
    CHECK(base64("fo") == "Zm8=");
    CHECK(base64("foo") == "Zm9v");
    CHECK(base64("foob") == "Zm9vYg==");
    CHECK(base64("fooba") == "Zm9vYmE=");
    CHECK(base64("foobar") == "Zm9vYmFy");
    CHECK(base64("Aladdin:open sesame") == "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    CHECK(base64(std::string("\xff\xfe\x00", 3)) == "//4A");
  }

  TEST_CASE("CONNECT names the target with its port, and the credentials") {
    proxy_server via;
    via.host = "10.0.0.1";
    via.port = 3128;
    auto r = connect_request(ep_of("https://api.example.com"), via, "");
    REQUIRE(r);
    CHECK(*r
          == "CONNECT api.example.com:443 HTTP/1.1\r\n"
             "Host: api.example.com:443\r\n\r\n");
    via.authorization = "Basic " + base64("a:b");
    r = connect_request(ep_of("https://[fd00::2]:8443"), via, "bosun/1");
    REQUIRE(r);
    CHECK(*r
          == "CONNECT [fd00::2]:8443 HTTP/1.1\r\nHost: [fd00::2]:8443\r\n"
             "User-Agent: bosun/1\r\nProxy-Authorization: Basic YTpi\r\n\r\n");
    CHECK_FALSE(connect_request(ep_of("https://a.b"), via, "x\r\ny"));
    via.authorization = "Basic x\r\nEvil: 1";
    CHECK_FALSE(connect_request(ep_of("https://a.b"), via, ""));
  }

  TEST_CASE("plain HTTP through a proxy uses the absolute form") {
    proxy_server via;
    via.host = "10.0.0.1";
    via.authorization = "Basic YTpi";
    request req;
    req.target = "/device/v3/x/state?a=1";
    std::string out;
    REQUIRE(wire::encode(req, ep_of("http://api.example.com:8080"), "ua", out,
                         nullptr, &via));
    CHECK(
      out
      == "GET http://api.example.com:8080/device/v3/x/state?a=1 HTTP/1.1\r\n"
         "Host: api.example.com:8080\r\nUser-Agent: ua\r\n"
         "Proxy-Authorization: Basic YTpi\r\n\r\n");
    via.authorization.clear();
    REQUIRE(wire::encode(req, ep_of("http://api.example.com"), "", out, nullptr,
                         &via));
    CHECK(out
          == "GET http://api.example.com/device/v3/x/state?a=1 HTTP/1.1\r\n"
             "Host: api.example.com\r\n\r\n");
    via.authorization = "Basic \nx";
    std::string why;
    CHECK_FALSE(
      wire::encode(req, ep_of("http://api.example.com"), "", out, &why, &via));
    CHECK(why.find("proxy credentials") != std::string::npos);
  }

  TEST_CASE("loopback hosts") {
    for (const char* h :
         {"localhost", "LocalHost", "localhost.", "a.localhost", "127.0.0.1",
          "127.255.255.254", "::1", "::ffff:127.0.0.1"})
      CHECK_MESSAGE(is_loopback_host(h), h);
    for (const char* h :
         {"", "example.com", "localhostx", "10.0.0.1", "::2", "0.0.0.0", "::"})
      CHECK_FALSE_MESSAGE(is_loopback_host(h), h);
  }
}
