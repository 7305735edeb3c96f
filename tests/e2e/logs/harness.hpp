#pragma once

// What the logs e2e tests drive: the real cloud-sim (records every log line
// a device ships), a local reader of GET /v2/local/logs over a raw socket,
// and app containers started with the docker CLI (labelled like bosun's, so
// the logs actor follows them; no target names them, so nothing else acts
// on them while the cloud's target polls fail).
#include "tests/support/bosun.hpp"

#include <arpa/inet.h>
#include <filesystem>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <rapidjson/document.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

namespace bosun::test {

inline const std::string device_uuid = "0123456789abcdef0123456789abcdef";
inline const std::string device_key = "e2elogsdevicekey";

// One log line, from the cloud or from a local reader.
struct shipped_line {
  std::string message;
  int64_t timestamp = 0;
  bool is_stderr = false;
  bool is_system = false;
  std::optional<int64_t> service_id;
  std::string service_name;
};

inline std::optional<shipped_line> parse_line(const rapidjson::Value& v) {
  if (!v.IsObject())
    return std::nullopt;
  shipped_line l;
  auto m = v.FindMember("message");
  if (m == v.MemberEnd() || !m->value.IsString())
    return std::nullopt;
  l.message = m->value.GetString();
  if (auto t = v.FindMember("timestamp");
      t != v.MemberEnd() && t->value.IsInt64())
    l.timestamp = t->value.GetInt64();
  if (auto e = v.FindMember("isStdErr");
      e != v.MemberEnd() && e->value.IsBool())
    l.is_stderr = e->value.GetBool();
  if (auto s = v.FindMember("isSystem");
      s != v.MemberEnd() && s->value.IsBool())
    l.is_system = s->value.GetBool();
  if (auto s = v.FindMember("serviceId");
      s != v.MemberEnd() && s->value.IsInt64())
    l.service_id = s->value.GetInt64();
  if (auto s = v.FindMember("serviceName");
      s != v.MemberEnd() && s->value.IsString())
    l.service_name = s->value.GetString();
  return l;
}

inline std::string cloud_sim_binary() {
  return (std::filesystem::path(BOSUN_BINARY).parent_path()
          / "tools/cloud-sim/cloud-sim")
    .string();
}

class cloud_sim {
public:
  cloud_sim()
      : proc_(cloud_sim_binary(),
              {"--listen", "127.0.0.1:" + std::to_string(port_), "--admin",
               "127.0.0.1:" + std::to_string(admin_), "--max-records",
               "3000000"}) {}

  int port() const {
    return port_;
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  bool wait_ready() {
    return eventually(
      std::chrono::seconds(20),
      [&](std::string& last) {
        last = proc_.output();
        return admin("GET", "/health").status == 200;
      },
      "cloud-sim to answer");
  }

  http_reply admin(const std::string& method, const std::string& target,
                   const std::string& body = {}) {
    return http_request(admin_, method, target, body);
  }

  // A fleet and this test's device; target polls fail (503), so nothing
  // but the tests' own containers runs.
  bool provision() {
    return admin("POST", "/fleets", R"({"id":1001,"provisioning_key":"pk"})")
               .status
             == 201
           && admin("POST", "/devices",
                    R"({"uuid":")" + device_uuid + R"(","api_key":")"
                      + device_key + R"(","fleet":1001,"id":55})")
                  .status
                == 201
           && fault(R"({"route":"state-get","mode":"status","status":503})");
  }

  bool fault(const std::string& json) {
    return admin("POST", "/faults", json).status == 200;
  }
  bool clear(const std::string& route) {
    return admin("DELETE", "/faults/" + route).status == 200;
  }

  // Every line the device shipped so far, in arrival order.
  const std::vector<shipped_line>& lines() {
    for (;;) {
      auto r = admin("GET", "/logs?device=" + device_uuid + "&since="
                              + std::to_string(next_) + "&limit=20000");
      rapidjson::Document d;
      if (r.status != 200 || d.Parse(r.body.c_str()).HasParseError()
          || !d.IsObject() || !d.HasMember("items") || !d["items"].IsArray())
        return lines_;
      auto& items = d["items"];
      for (auto& it : items.GetArray())
        if (auto l = parse_line(it["line"]))
          lines_.push_back(*l);
      if (d.HasMember("next") && d["next"].IsUint64())
        next_ = d["next"].GetUint64();
      if (items.Size() < 20000)
        return lines_;
    }
  }

  std::string config_json() const {
    return R"({"apiEndpoint":")" + url() + R"(","uuid":")" + device_uuid
           + R"(","deviceApiKey":")" + device_key
           + R"(","registered_at":1700000000000,"deviceId":55,)"
           + R"("applicationId":1001})";
  }

private:
  int port_ = free_port();
  int admin_ = free_port();
  child_process proc_;
  uint64_t next_ = 0;
  std::vector<shipped_line> lines_;
};

// A local reader: GET /v2/local/logs, de-chunked and split into lines as
// they arrive. Reads only when asked (poll()), like a slow client would.
class local_reader {
public:
  local_reader(int port, const std::string& api_key) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      return;
    std::string req = "GET /v2/local/logs";
    if (!api_key.empty())
      req += "?apikey=" + api_key;
    req += " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    connected_ = ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL)
                 == static_cast<ssize_t>(req.size());
  }
  ~local_reader() {
    ::close(fd_);
  }
  local_reader(const local_reader&) = delete;
  local_reader& operator=(const local_reader&) = delete;

  // Reads what arrived (waiting at most `wait`); false once the stream is
  // over or broken.
  bool poll(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
    if (!connected_)
      return false;
    pollfd p{fd_, POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(wait.count())) > 0) {
      char buf[65536];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0)
        return connected_ = false;
      raw_.append(buf, static_cast<size_t>(n));
      wait = std::chrono::milliseconds(0);
    }
    parse();
    return connected_;
  }

  int status() const {
    return status_;
  }
  const std::vector<shipped_line>& lines() const {
    return lines_;
  }
  size_t empty_lines() const {
    return empty_lines_;
  }

private:
  void parse() {
    if (status_ == 0) {
      auto end = raw_.find("\r\n\r\n");
      if (end == std::string::npos)
        return;
      status_ = std::atoi(raw_.c_str() + 9);
      raw_.erase(0, end + 4);
    }
    for (;;) { // chunks
      auto eol = raw_.find("\r\n");
      if (eol == std::string::npos)
        break;
      auto size = std::stoul(raw_.substr(0, eol), nullptr, 16);
      if (raw_.size() < eol + 2 + size + 2)
        break;
      body_ += raw_.substr(eol + 2, size);
      raw_.erase(0, eol + 2 + size + 2);
      if (size == 0) {
        connected_ = false;
        break;
      }
    }
    size_t start = 0;
    for (auto nl = body_.find('\n'); nl != std::string::npos;
         nl = body_.find('\n', start)) {
      auto text = body_.substr(start, nl - start);
      start = nl + 1;
      if (text.empty()) {
        ++empty_lines_;
        continue;
      }
      rapidjson::Document d;
      if (!d.Parse(text.c_str()).HasParseError())
        if (auto l = parse_line(d))
          lines_.push_back(*l);
    }
    body_.erase(0, start);
  }

  int fd_ = -1;
  bool connected_ = false;
  int status_ = 0;
  std::string raw_, body_;
  std::vector<shipped_line> lines_;
  size_t empty_lines_ = 0;
};

// The device API key of a running bosun (`bosun api-key`).
inline std::string api_key_of(const running_bosun& b) {
  return b.api_key();
}

// A container labelled as one of bosun's services, running a shell script.
inline bool run_service(const std::string& name, int service_id,
                        const std::string& script) {
  docker("rm -f " + name);
  auto image = required_env("BOSUN_TEST_IMAGE");
  auto r
    = docker("run -d --name " + name + " --label io.balena.supervised=true"
             + " --label io.balena.app-id=1" + " --label io.balena.service-id="
             + std::to_string(service_id) + " --label io.balena.service-name="
             + name + " " + image + " /bin/sh -c '" + script + "'");
  return r.status == 0;
}

// Prints "<run> out <i>" on stdout and "<run> err <i>" on stderr for i in
// 1..n, <run> being new each time the container starts, then idles.
inline std::string numbered(int n, const std::string& pause = "") {
  return "R=$(cut -c1-8 /proc/sys/kernel/random/uuid); i=0; while [ $i -lt "
         + std::to_string(n)
         + " ]; do i=$((i+1)); echo \"$R out $i\"; echo \"$R err $i\" >&2; "
         + pause + " done; exec sleep 100000";
}

// A numbered service's lines of one run (see numbered()).
struct run_lines {
  std::vector<int> out, err;
  std::vector<int64_t> out_ts, err_ts;
  bool streams_ok = true; // "out" lines on stdout, "err" lines on stderr
};

// The numbered service's lines, by run, in arrival order; `order` (when
// given) gets the runs in the order their lines first came.
inline std::map<std::string, run_lines>
runs_of(const std::vector<shipped_line>& ls, int64_t service_id,
        std::vector<std::string>* order = nullptr) {
  std::map<std::string, run_lines> runs;
  for (auto& l : ls) {
    if (l.service_id != service_id)
      continue;
    std::istringstream in(l.message);
    std::string run, stream;
    int n = 0;
    if (!(in >> run >> stream >> n))
      continue;
    if (order && runs.count(run) == 0)
      order->push_back(run);
    auto& r = runs[run];
    if (stream == "out") {
      r.out.push_back(n);
      r.out_ts.push_back(l.timestamp);
      r.streams_ok = r.streams_ok && !l.is_stderr;
    } else {
      r.err.push_back(n);
      r.err_ts.push_back(l.timestamp);
      r.streams_ok = r.streams_ok && l.is_stderr;
    }
  }
  return runs;
}

inline std::vector<int> one_to(int n) {
  std::vector<int> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = i + 1;
  return v;
}

// Lines 1..n of both streams, each once and in order.
inline bool complete(const run_lines& r, int n) {
  return r.out == one_to(n) && r.err == one_to(n);
}

// The resident memory of a process, in KiB (0 if unknown).
inline long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return 0;
}

} // namespace bosun::test
