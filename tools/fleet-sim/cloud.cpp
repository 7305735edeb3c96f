#include "tools/fleet-sim/cloud.hpp"

#include "actors/telemetry/process_stats.hpp"
#include "tools/cloud-sim/json.hpp"

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <csignal>
#include <fstream>
#include <rapidjson/document.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace bosun::fleet {

namespace {

// "http://host:port[/...]" -> host, port.
bool split_url(const std::string& url, std::string& host, std::string& port) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0)
    return false;
  auto rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));
  auto colon = rest.rfind(':');
  if (colon == std::string::npos)
    return false;
  host = rest.substr(0, colon);
  port = rest.substr(colon + 1);
  return true;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

std::optional<route_counts> parse_counts(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError() || !doc.IsObject())
    return std::nullopt;
  route_counts out;
  for (size_t i = 0; i < route_names.size(); ++i) {
    auto* r = cloud_sim::json::member(doc, route_names[i]);
    if (r == nullptr || !r->IsObject())
      return std::nullopt;
    auto u = [&](const char* k) -> uint64_t {
      auto* m = cloud_sim::json::member(*r, k);
      return m != nullptr && m->IsUint64() ? m->GetUint64() : 0;
    };
    out[i].requests = u("requests");
    out[i].bytes_in = u("bytes_in");
    out[i].bytes_out = u("bytes_out");
    if (auto* st = cloud_sim::json::member(*r, "statuses");
        st != nullptr && st->IsObject())
      for (auto& m : st->GetObject()) {
        auto code = std::atoi(m.name.GetString());
        if ((code == 0 || code >= 400) && m.value.IsUint64())
          out[i].errors += m.value.GetUint64();
      }
  }
  return out;
}

std::optional<barrier_state> parse_barrier(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  auto* open = cloud_sim::json::member(doc, "open");
  auto* arrived = cloud_sim::json::member(doc, "arrived");
  auto* missing = cloud_sim::json::member(doc, "missing");
  if (doc.HasParseError() || open == nullptr || !open->IsBool()
      || arrived == nullptr || !arrived->IsArray() || missing == nullptr
      || !missing->IsArray())
    return std::nullopt;
  barrier_state b;
  b.open = open->GetBool();
  for (const auto& a : arrived->GetArray()) {
    auto* shard = cloud_sim::json::member(a, "shard");
    auto* ms = cloud_sim::json::member(a, "ms");
    if (shard == nullptr || !shard->IsUint64() || ms == nullptr
        || !ms->IsInt64())
      return std::nullopt;
    b.arrived.emplace_back(shard->GetUint64(), ms->GetInt64());
  }
  for (const auto& m : missing->GetArray()) {
    if (!m.IsUint64())
      return std::nullopt;
    b.missing.push_back(m.GetUint64());
  }
  return b;
}

std::string error_text(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError())
    return body;
  return cloud_sim::json::get_string(doc, "error").value_or(body);
}

cloud::cloud(std::string device_url, std::string admin_url)
    : url_(std::move(device_url)), admin_(std::move(admin_url)) {}

cloud::cloud(cloud&& o) noexcept
    : url_(std::move(o.url_)), admin_(std::move(o.admin_)), pid_(o.pid_) {
  o.pid_ = -1;
}

cloud::~cloud() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

std::optional<cloud> cloud::start(const std::string& binary, std::string& err) {
  int fds[2];
  if (::pipe(fds) != 0) {
    err = "pipe failed";
    return std::nullopt;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    err = "fork failed";
    return std::nullopt;
  }
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    // Records are not needed (fleet-sim reads counters only): keep few.
    ::execl(binary.c_str(), binary.c_str(), "--listen", "127.0.0.1:0",
            "--admin", "127.0.0.1:0", "--max-records", "1000",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  // "cloud-sim listening on http://ADDR:P (admin :Q)"
  std::string line;
  char c = 0;
  while (::read(fds[0], &c, 1) == 1 && c != '\n')
    line.push_back(c);
  ::close(fds[0]);
  auto at = line.find("http://");
  auto admin = line.find("(admin :");
  if (at == std::string::npos || admin == std::string::npos) {
    err = binary + " did not start (printed \"" + line + "\")";
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    return std::nullopt;
  }
  auto url = line.substr(at, line.find(' ', at) - at);
  auto port = line.substr(admin + 8, line.find(')', admin) - admin - 8);
  cloud c2(url, "http://127.0.0.1:" + port);
  c2.pid_ = pid;
  return c2;
}

int cloud::call(const std::string& method, const std::string& target,
                const std::string& body, std::string* out) const {
  std::string host;
  std::string port;
  if (!split_url(admin_, host, port))
    return -1;
  asio::io_context io;
  asio::ip::tcp::resolver r(io);
  asio::ip::tcp::socket s(io);
  std::error_code ec;
  asio::connect(s, r.resolve(host, port, ec), ec);
  if (ec)
    return -1;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host
                    + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + std::to_string(body.size())
                    + "\r\nConnection: close\r\n\r\n" + body;
  asio::write(s, asio::buffer(req), ec);
  std::string resp;
  char buf[16384];
  for (;;) {
    auto n = s.read_some(asio::buffer(buf), ec);
    resp.append(buf, n);
    if (ec)
      break;
  }
  if (resp.size() < 12)
    return -1;
  if (out != nullptr) {
    auto at = resp.find("\r\n\r\n");
    *out = at == std::string::npos ? "" : resp.substr(at + 4);
  }
  return std::atoi(resp.substr(9, 3).c_str());
}

std::optional<std::pair<double, uint64_t>> cloud::child_usage() const {
  if (pid_ <= 0)
    return std::nullopt;
  auto dir = "/proc/" + std::to_string(pid_);
  auto st = telemetry::parse_proc_stat(slurp(dir + "/stat"));
  auto rss = telemetry::parse_status_kb(slurp(dir + "/status"), "VmRSS");
  if (!st || !rss)
    return std::nullopt;
  auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return std::make_pair(static_cast<double>(st->utime + st->stime) / ticks,
                        *rss);
}

} // namespace bosun::fleet
