// Runs the real cloud-sim binary and talks to it over HTTP as an agent (device
// API) and as a test harness (admin API) would. No dockerd needed.
#include "tests/support/eventually.hpp"
#include "tests/support/process.hpp"
#include "tests/unit/cloud_sim/gzip.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using bosun::test::eventually;

namespace {

std::string binary() {
#ifdef CLOUD_SIM_BINARY
  return CLOUD_SIM_BINARY;
#else
  return std::filesystem::path(BOSUN_BINARY).parent_path()
         / "tools/cloud-sim/cloud-sim";
#endif
}

struct response {
  int status = 0; // 0: the connection closed without an answer
  std::map<std::string, std::string> headers; // lower-case names
  std::string body;
};

// A raw HTTP/1.1 client connection: keeps the connection, sends any bytes
// (chunked bodies piece by piece), reads Content-Length answers.
class connection {
public:
  explicit connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{15, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connected_
      = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~connection() {
    ::close(fd_);
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  bool send(const std::string& data) {
    for (size_t off = 0; off < data.size();) {
      auto n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      off += static_cast<size_t>(n);
    }
    return connected_;
  }

  response read_response() {
    response r;
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill())
        return r;
    auto head = buf_.substr(0, head_end);
    if (head.rfind("HTTP/1.1 ", 0) != 0)
      return r;
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos) {
      auto next = head.find("\r\n", pos + 2);
      auto line
        = head.substr(pos + 2, next == std::string::npos ? std::string::npos
                                                         : next - pos - 2);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
          value.erase(0, 1);
        r.headers[name] = value;
      }
      pos = next;
    }
    size_t length = 0;
    if (auto it = r.headers.find("content-length"); it != r.headers.end())
      length = std::stoul(it->second);
    while (buf_.size() < head_end + 4 + length)
      if (!fill())
        return r;
    r.status = std::atoi(head.c_str() + 9);
    r.body = buf_.substr(head_end + 4, length);
    buf_.erase(0, head_end + 4 + length);
    return r;
  }

  // True when the server closed the connection without sending anything.
  bool closed_silently() {
    return buf_.empty() && !fill() && buf_.empty();
  }

private:
  bool fill() {
    char tmp[4096];
    auto n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0)
      return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string request_text(const std::string& method, const std::string& target,
                         const std::vector<std::string>& headers,
                         const std::string& body, bool chunked = false) {
  std::string s = method + " " + target + " HTTP/1.1\r\nHost: cloud\r\n";
  for (auto& h : headers)
    s += h + "\r\n";
  if (chunked)
    s += "Transfer-Encoding: chunked\r\n";
  else
    s += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return s + "\r\n" + body;
}

std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return size + data + "\r\n";
}

response request(int port, const std::string& method, const std::string& target,
                 const std::string& key = {}, const std::string& body = {},
                 std::vector<std::string> headers = {}) {
  if (!key.empty())
    headers.push_back("Authorization: Bearer " + key);
  connection c(port);
  c.send(request_text(method, target, headers, body));
  return c.read_response();
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  return d;
}

// One running cloud-sim, with a fleet (1011165, key "pk") and a device
// ("u1", key "dk1") unless told otherwise.
struct sim {
  bosun::test::child_process proc;
  int port = 0;
  int admin = 0;

  explicit sim(std::vector<std::string> args = {}, bool seed = true)
      : proc(binary(), with_ports(std::move(args))) {
    std::string out;
    REQUIRE(eventually(
      10s,
      [&](std::string& last) {
        out = proc.output();
        last = out;
        return out.find("(admin :") != std::string::npos;
      },
      "cloud-sim to print its ports"));
    auto at = out.find("listening on http://127.0.0.1:");
    REQUIRE(at != std::string::npos);
    port = std::atoi(out.c_str() + at + 30);
    admin = std::atoi(out.c_str() + out.find("(admin :") + 8);
    REQUIRE(port > 0);
    REQUIRE(admin > 0);
    if (seed) {
      REQUIRE(call("POST", "/fleets",
                   R"({"id":1011165,"provisioning_key":"pk",
                       "apps":{"app1":{"id":1011165,"name":"f","releases":{}}}})")
                .status
              == 201);
      REQUIRE(call("POST", "/devices",
                   R"({"uuid":"u1","api_key":"dk1","fleet":1011165})")
                .status
              == 201);
    }
  }

  static std::vector<std::string> with_ports(std::vector<std::string> args) {
    args.insert(args.begin(),
                {"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"});
    return args;
  }

  response call(const std::string& method, const std::string& target,
                const std::string& body = {}) {
    return request(admin, method, target, {}, body);
  }
  rapidjson::Document get(const std::string& target) {
    auto r = call("GET", target);
    REQUIRE(r.status == 200);
    return parse(r.body);
  }
  void fault(const std::string& json) {
    REQUIRE(call("POST", "/faults", json).status == 200);
  }
  uint64_t requests(const std::string& route) {
    return get("/counts")[route.c_str()]["requests"].GetUint64();
  }
};

std::string register_body(const std::string& uuid, const std::string& key) {
  return R"({"application":1011165,"uuid":")" + uuid
         + R"(","device_type":"amd64","api_key":")" + key
         + R"(","supervisor_version":"19.0.5","os_version":"balenaOS 5.3.0",)"
         + R"("os_variant":"prod","mac_address":"DC:A6:32:00:00:01"})";
}

} // namespace

TEST_SUITE("cloud-sim") {
  TEST_CASE("prints usage for --help") {
    bosun::test::child_process p(binary(), {"--help"});
    CHECK(p.wait_exit(10s) == 0);
    CHECK(p.output().find("--listen") != std::string::npos);
    bosun::test::child_process bad(binary(), {"--bogus"});
    CHECK(bad.wait_exit(10s) == 2);
  }

  TEST_CASE("stops cleanly on SIGTERM and SIGINT") {
    for (int sig : {SIGTERM, SIGINT}) {
      sim s({}, false);
      s.proc.signal(sig);
      CHECK(s.proc.wait_exit(10s) == 0);
      CHECK(s.proc.output().find("cloud-sim stopped") != std::string::npos);
    }
  }

  TEST_CASE("registers a device once, then answers 409") {
    sim s;
    auto r = request(s.port, "POST", "/device/register", "pk",
                     register_body("u2", "dk2"));
    CHECK(r.status == 201);
    auto body = parse(r.body);
    REQUIRE(body.HasMember("id"));
    CHECK(body["id"].IsInt64());
    CHECK(std::string(body["uuid"].GetString()) == "u2");
    CHECK(std::string(body["api_key"].GetString()) == "dk2");
    CHECK(request(s.port, "POST", "/device/register", "pk",
                  register_body("u2", "dk2"))
            .status
          == 409);
    CHECK(request(s.port, "POST", "/device/register", "other",
                  register_body("u3", "dk3"))
            .status
          == 401);
    auto regs = s.get("/registrations");
    REQUIRE(regs["items"].Size() == 1);
    CHECK(std::string(regs["items"][0]["body"]["mac_address"].GetString())
          == "DC:A6:32:00:00:01");
    // The new device can fetch its target with its own key.
    CHECK(request(s.port, "GET", "/device/v3/u2/state", "dk2").status == 200);
  }

  TEST_CASE("exchanges a device key after a 409") {
    sim s;
    auto find = "/v7/device?$select=id&$filter=uuid%20eq%20'u1'";
    auto with_device_key = request(s.port, "GET", find, "dk1");
    CHECK(with_device_key.status == 200);
    auto found = parse(with_device_key.body);
    REQUIRE(found["d"].Size() == 1);
    auto id = found["d"][0]["id"].GetInt64();
    CHECK(parse(request(s.port, "GET", find, "fresh-key").body)["d"].Size()
          == 0);
    CHECK(parse(request(s.port, "GET", find, "pk").body)["d"].Size() == 1);
    auto exchange = "/api-key/device/" + std::to_string(id) + "/device-key";
    CHECK(request(s.port, "POST", exchange, "fresh-key",
                  R"({"apiKey":"fresh-key"})")
            .status
          == 401);
    CHECK(request(s.port, "POST", exchange, "pk", R"({"apiKey":"fresh-key"})")
            .status
          == 200);
    CHECK(parse(request(s.port, "GET", find, "fresh-key").body)["d"].Size()
          == 1);
    CHECK(request(s.port, "GET", "/device/v3/u1/state", "fresh-key").status
          == 200);
    CHECK(request(s.port, "GET", "/device/v3/u1/state", "dk1").status == 401);
    CHECK(request(s.port, "PATCH", "/v7/device(" + std::to_string(id) + ")",
                  "fresh-key", R"({"is_pinned_on__release":null})")
            .status
          == 200);
    CHECK(request(s.port, "POST", "/v7/device_config_variable", "fresh-key",
                  R"({"name":"RESIN_SUPERVISOR_VPN_CONTROL","value":"true",)"
                  R"("device":)"
                    + std::to_string(id) + "}")
            .status
          == 201);
    auto calls = s.get("/api-calls?device=u1");
    REQUIRE(calls["items"].Size() == 3);
    CHECK(std::string(calls["items"][1]["request"].GetString())
          == "PATCH /v7/device(" + std::to_string(id) + ")");
  }

  TEST_CASE("serves the target with an ETag, 304 when it matches") {
    sim s;
    connection c(s.port); // one keep-alive connection for every request
    std::vector<std::string> auth = {"Authorization: Bearer dk1"};
    c.send(request_text("GET", "/device/v3/u1/state", auth, {}));
    auto first = c.read_response();
    REQUIRE(first.status == 200);
    auto etag = first.headers["etag"];
    CHECK(etag.size() > 2);
    CHECK(etag.front() == '"');
    auto doc = parse(first.body);
    REQUIRE(doc.HasMember("u1"));
    CHECK(doc["u1"]["apps"].HasMember("app1"));
    CHECK(doc["u1"].HasMember("name"));
    CHECK(doc["u1"]["config"].IsObject());

    auto with_etag = auth;
    with_etag.push_back("If-None-Match: " + etag);
    c.send(request_text("GET", "/device/v3/u1/state", with_etag, {}));
    auto cached = c.read_response();
    CHECK(cached.status == 304);
    CHECK(cached.body.empty());

    // A new fleet target: a new ETag and the new apps.
    REQUIRE(s.call("PUT", "/fleets/1011165/target",
                   R"({"config":{"RESIN_SUPERVISOR_POLL_INTERVAL":"60000"},
                       "apps":{"app2":{"id":7,"name":"g","releases":{}}}})")
              .status
            == 200);
    c.send(request_text("GET", "/device/v3/u1/state", with_etag, {}));
    auto changed = c.read_response();
    CHECK(changed.status == 200);
    CHECK(changed.headers["etag"] != etag);
    CHECK(parse(changed.body)["u1"]["apps"].HasMember("app2"));

    // A device target overrides the fleet's.
    REQUIRE(s.call("PUT", "/devices/u1/target",
                   R"({"name":"solo","apps":{"mine":{"id":8}}})")
              .status
            == 200);
    c.send(request_text("GET", "/device/v3/u1/state", auth, {}));
    auto own = parse(c.read_response().body);
    CHECK(std::string(own["u1"]["name"].GetString()) == "solo");
    CHECK(own["u1"]["apps"].HasMember("mine"));
  }

  TEST_CASE("records state reports") {
    sim s;
    auto report
      = R"({"u1":{"api_port":48484,"status":"Idle","cpu_usage":7,"apps":{}}})";
    CHECK(request(s.port, "PATCH", "/device/v3/state", "dk1", report).status
          == 200);
    CHECK(request(s.port, "PATCH", "/device/v3/state", "dk1",
                  R"({"u1":{"cpu_usage":30}})")
            .status
          == 200);
    auto reports = s.get("/reports?device=u1");
    REQUIRE(reports["items"].Size() == 2);
    CHECK(reports["items"][0]["body"]["u1"]["api_port"].GetInt() == 48484);
    CHECK(reports["items"][0]["time_ms"].GetInt64() > 0);
    auto dev = s.get("/devices/u1");
    CHECK(dev["reported"]["cpu_usage"].GetInt() == 30);
    CHECK(std::string(dev["reported"]["status"].GetString()) == "Idle");
    CHECK(dev["device"]["reports"].GetUint64() == 2);
  }

  TEST_CASE("records a gzip log stream line by line as it arrives") {
    sim s;
    connection c(s.port);
    REQUIRE(c.send(request_text("POST", "/device/v2/u1/log-stream",
                                {"Authorization: Bearer dk1",
                                 "Content-Type: application/x-ndjson",
                                 "Content-Encoding: gzip"},
                                {}, true)));
    bosun::test::gzip_writer gz;
    auto logs = [&] { return s.get("/logs?device=u1")["items"].Size(); };
    c.send(chunk(gz.write(
      R"({"message":"Downloading image","timestamp":1,"isSystem":true})"
      "\n")));
    CHECK(eventually(
      10s, [&] { return logs() == 1; }, "the first line"));
    // A line split across two flushes is recorded once complete.
    c.send(chunk(gz.write(
      R"({"message":"hello","timestamp":2,"isStdErr":false,"serviceId":43697})"
      "\n{\"message\":\"wor")));
    CHECK(eventually(
      10s, [&] { return logs() == 2; }, "the second line"));
    c.send(chunk(gz.finish(R"(ld","timestamp":3,"serviceId":43697})"
                           "\n")));
    c.send("0\r\n\r\n");
    auto r = c.read_response();
    CHECK(r.status == 200);
    CHECK(parse(r.body)["lines"].GetUint64() == 3);
    auto logged = s.get("/logs?device=u1");
    auto items = logged["items"].GetArray();
    REQUIRE(items.Size() == 3);
    CHECK(items[0]["line"]["isSystem"].GetBool());
    CHECK(items[1]["line"]["serviceId"].GetInt() == 43697);
    CHECK(std::string(items[2]["line"]["message"].GetString()) == "world");
    auto counts = s.get("/counts?device=u1");
    CHECK(counts["log-stream"]["requests"].GetUint64() == 1);
    CHECK(counts["log-stream"]["bytes_in"].GetUint64() > 0);
  }

  TEST_CASE("answers 401 without or with a wrong key") {
    sim s;
    REQUIRE(s.call("POST", "/devices",
                   R"({"uuid":"u2","api_key":"dk2","fleet":1011165})")
              .status
            == 201);
    for (auto key : {"", "wrong", "dk2", "pk"}) {
      CAPTURE(key);
      CHECK(request(s.port, "GET", "/device/v3/u1/state", key).status == 401);
      auto stream = request(s.port, "POST", "/device/v2/u1/log-stream", key,
                            bosun::test::gzip("{\"message\":\"x\"}\n"),
                            {"Content-Encoding: gzip"});
      CHECK(stream.status == 401);
    }
    CHECK(
      request(s.port, "PATCH", "/device/v3/state", "", R"({"u1":{}})").status
      == 401);
    CHECK(request(s.port, "PATCH", "/device/v3/state", "wrong", R"({"u1":{}})")
            .status
          == 401);
    CHECK(s.get("/reports")["items"].Size() == 0);
    CHECK(s.get("/logs")["items"].Size() == 0);
  }

  TEST_CASE("a status fault answers the next N requests") {
    sim s;
    s.fault(R"({"route":"state-get","mode":"status","status":500,"count":3,
                "retry_after":"5"})");
    for (int i = 0; i < 3; ++i) {
      auto r = request(s.port, "GET", "/device/v3/u1/state", "dk1");
      CHECK(r.status == 500);
      CHECK(r.headers["retry-after"] == "5");
    }
    CHECK(request(s.port, "GET", "/device/v3/u1/state", "dk1").status == 200);
    // Other routes are untouched.
    CHECK(s.get("/faults").MemberCount() == 0);
    auto counts = s.get("/counts");
    CHECK(counts["state-get"]["statuses"]["500"].GetUint64() == 3);
    CHECK(counts["state-get"]["statuses"]["200"].GetUint64() == 1);
  }

  TEST_CASE("a delay fault answers late") {
    sim s;
    s.fault(R"({"route":"state-patch","mode":"delay","ms":400})");
    auto start = std::chrono::steady_clock::now();
    auto r = request(s.port, "PATCH", "/device/v3/state", "dk1",
                     R"({"u1":{"status":"Idle"}})");
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(r.status == 200);
    CHECK(took >= 400ms);
    CHECK(s.get("/reports")["items"].Size() == 1);
  }

  TEST_CASE("a drop fault closes the connection without an answer") {
    sim s;
    s.fault(R"({"route":"register","mode":"drop","count":1})");
    connection c(s.port);
    c.send(request_text("POST", "/device/register",
                        {"Authorization: Bearer pk"},
                        register_body("u9", "dk9")));
    CHECK(c.closed_silently());
    CHECK(s.get("/registrations")["items"].Size() == 0);
    CHECK(request(s.port, "POST", "/device/register", "pk",
                  register_body("u9", "dk9"))
            .status
          == 201);
    CHECK(s.get("/counts")["register"]["statuses"]["0"].GetUint64() == 1);
  }

  TEST_CASE("a hangup fault handles the request, then closes without an "
            "answer") {
    sim s;
    s.fault(R"({"route":"state-patch","mode":"hangup","ms":300,"count":1})");
    auto start = std::chrono::steady_clock::now();
    connection c(s.port);
    c.send(request_text(
      "PATCH", "/device/v3/state",
      {"Authorization: Bearer dk1", "Content-Type: application/json"},
      R"({"u1":{"status":"Idle"}})"));
    CHECK(c.closed_silently());
    CHECK(std::chrono::steady_clock::now() - start >= 300ms);
    // The cloud took the report; only its answer was lost.
    CHECK(s.get("/reports?device=u1")["items"].Size() == 1);
    auto counts = s.get("/counts");
    CHECK(counts["state-patch"]["statuses"]["0"].GetUint64() == 1);
    CHECK(request(s.port, "PATCH", "/device/v3/state", "dk1",
                  R"({"u1":{"cpu_usage":3}})")
            .status
          == 200);
    CHECK(s.get("/reports?device=u1")["items"].Size() == 2);
  }

  TEST_CASE("a stall holds requests until it is cleared") {
    sim s;
    s.fault(R"({"route":"state-get","mode":"stall"})");
    auto stalled = std::async(std::launch::async, [&] {
      return request(s.port, "GET", "/device/v3/u1/state", "dk1");
    });
    CHECK(eventually(10s, [&] {
      return s.get("/faults")["state-get"]["hits"].GetUint64() == 1;
    }));
    // It arrived and was taken by the stall: no answer yet.
    CHECK(stalled.wait_for(0ms) == std::future_status::timeout);
    // Other routes still answer.
    CHECK(
      request(s.port, "PATCH", "/device/v3/state", "dk1", R"({"u1":{}})").status
      == 200);
    REQUIRE(s.call("DELETE", "/faults/state-get").status == 200);
    auto r = stalled.get();
    REQUIRE(r.status == 200);
    CHECK(parse(r.body).HasMember("u1"));
  }

  TEST_CASE("a stalled log stream is read once the stall is cleared") {
    sim s;
    s.fault(R"({"route":"log-stream","mode":"stall"})");
    connection c(s.port);
    c.send(request_text("POST", "/device/v2/u1/log-stream",
                        {"Authorization: Bearer dk1", "Content-Encoding: gzip"},
                        {}, true));
    c.send(chunk(bosun::test::gzip("{\"message\":\"held\"}\n")) + "0\r\n\r\n");
    CHECK(eventually(10s, [&] {
      return s.get("/faults")["log-stream"]["hits"].GetUint64() == 1;
    }));
    CHECK(s.get("/logs")["items"].Size() == 0);
    REQUIRE(s.call("DELETE", "/faults").status == 200);
    auto r = c.read_response();
    CHECK(r.status == 200);
    CHECK(s.get("/logs")["items"].Size() == 1);
  }

  TEST_CASE("a flap fault alternates healthy and 503") {
    sim s;
    s.fault(R"({"route":"state-get","mode":"flap","up_ms":150,"down_ms":150})");
    std::map<int, int> seen;
    CHECK(eventually(
      10s,
      [&](std::string& last) {
        seen[request(s.port, "GET", "/device/v3/u1/state", "dk1").status]++;
        last = std::to_string(seen[200]) + " x 200, "
               + std::to_string(seen[503]) + " x 503";
        return seen[200] > 0 && seen[503] > 0;
      },
      "both phases"));
    CHECK(seen.size() == 2);
  }

  TEST_CASE("a log-stream status fault answers before the body") {
    sim s;
    s.fault(R"({"route":"log-stream","mode":"status","status":503})");
    connection c(s.port);
    c.send(request_text("POST", "/device/v2/u1/log-stream",
                        {"Authorization: Bearer dk1", "Content-Encoding: gzip"},
                        {}, true));
    auto r = c.read_response(); // no body sent yet
    CHECK(r.status == 503);
    CHECK(r.headers["connection"] == "close");
  }

  TEST_CASE("counts requests and bytes per route and per device") {
    sim s;
    request(s.port, "GET", "/device/v3/u1/state", "dk1");
    request(s.port, "GET", "/device/v3/u1/state", "dk1");
    request(s.port, "PATCH", "/device/v3/state", "dk1", R"({"u1":{}})");
    request(s.port, "POST", "/device/register", "pk",
            register_body("u5", "k5"));
    request(s.port, "GET", "/v7/device?$filter=uuid%20eq%20'u1'", "dk1");
    request(s.port, "GET", "/no/such/route");
    auto all = s.get("/counts");
    CHECK(all["state-get"]["requests"].GetUint64() == 2);
    CHECK(all["state-get"]["bytes_out"].GetUint64() > 0);
    CHECK(all["state-get"]["bytes_in"].GetUint64() > 0);
    CHECK(all["state-patch"]["requests"].GetUint64() == 1);
    CHECK(all["register"]["requests"].GetUint64() == 1);
    CHECK(all["v7"]["requests"].GetUint64() == 1);
    CHECK(all["other"]["statuses"]["404"].GetUint64() == 1);
    auto u1 = s.get("/counts?device=u1");
    CHECK(u1["state-get"]["requests"].GetUint64() == 2);
    CHECK(u1["register"]["requests"].GetUint64() == 0);
    REQUIRE(s.call("POST", "/reset").status == 200);
    CHECK(s.requests("state-get") == 0);
    CHECK(s.get("/devices").Size() == 2); // devices survive a reset
  }

  TEST_CASE("preloads fleets and devices from --state") {
    bosun::test::temp_dir dir;
    auto file = dir.path() + "/state.json";
    std::ofstream(file) << R"({"fleets":[{"id":7,"provisioning_key":"p7",
      "apps":{"a":{"id":7,"name":"x","releases":{}}}}],
      "devices":[{"uuid":"pre","api_key":"kpre","fleet":7,"id":70}]})";
    sim s({"--state", file}, false);
    auto r = request(s.port, "GET", "/device/v3/pre/state", "kpre");
    CHECK(r.status == 200);
    CHECK(parse(r.body)["pre"]["apps"].HasMember("a"));
    CHECK(s.get("/devices/pre")["device"]["id"].GetInt64() == 70);

    bosun::test::child_process bad(binary(), {"--state", dir.path() + "/none"});
    CHECK(bad.wait_exit(10s) == 2);
  }
}
