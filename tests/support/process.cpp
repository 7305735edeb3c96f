#include "tests/support/process.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace bosun::test {

child_process::child_process(std::string program, std::vector<std::string> args,
                             std::map<std::string, std::string> env,
                             std::string output_file)
    : output_file_(std::move(output_file)) {
  if (output_file_.empty())
    output_file_ = std::filesystem::temp_directory_path()
                   / ("bosun-child-" + std::to_string(::getpid()) + "-"
                      + std::to_string(std::rand()) + ".log");
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    auto name = kv.substr(0, kv.find('='));
    if (env.count(name) == 0)
      env_strings.push_back(kv);
  }
  for (auto& [k, v] : env)
    env_strings.push_back(k + "=" + v);
  args.insert(args.begin(), program);
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_strings)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  int fd = ::open(output_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    throw std::runtime_error("cannot open " + output_file_);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close(fd);
    ::execve(program.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fd);
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
}

child_process::~child_process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  std::error_code ec;
  std::filesystem::remove(output_file_, ec);
}

void child_process::signal(int sig) const {
  if (pid_ > 0)
    ::kill(pid_, sig);
}

std::optional<int>
child_process::wait_exit(std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!status_) {
    int st = 0;
    auto r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    if (std::chrono::steady_clock::now() >= until)
      break;
    // Polling a child's exit, not synchronising on time.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

bool child_process::running() {
  return !wait_exit(std::chrono::milliseconds(0));
}

std::string child_process::output() const {
  std::ifstream in(output_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

temp_dir::temp_dir() {
  std::string tmpl = "/tmp/bosun-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

http_reply http_request(int port, const std::string& method,
                        const std::string& target, const std::string& body,
                        const std::vector<std::string>& headers) {
  http_reply out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return out;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "Connection: close\r\n";
  for (auto& h : headers)
    req += h + "\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  for (size_t off = 0; off < req.size();) {
    auto n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return out;
    }
    off += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos)
    return out;
  out.status = std::atoi(raw.c_str() + 9);
  auto head = raw.substr(0, head_end);
  auto rest = raw.substr(head_end + 4);
  std::string lower;
  for (char c : head)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find("transfer-encoding: chunked") != std::string::npos) {
    // De-chunk: size line, data, CRLF, until a zero-size chunk.
    size_t pos = 0;
    while (pos < rest.size()) {
      auto eol = rest.find("\r\n", pos);
      if (eol == std::string::npos)
        break;
      auto size = std::strtoul(rest.c_str() + pos, nullptr, 16);
      if (size == 0)
        break;
      out.body += rest.substr(eol + 2, size);
      pos = eol + 2 + size + 2;
    }
  } else {
    out.body = rest;
  }
  return out;
}

} // namespace bosun::test

namespace bosun::test {

command_result run_command(const std::string& command_line) {
  command_result r;
  auto* p = ::popen((command_line + " 2>&1").c_str(), "r");
  if (p == nullptr)
    return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0)
    r.out.append(buf, n);
  auto st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r'))
    r.out.pop_back();
  return r;
}

command_result docker(const std::string& args) {
  return run_command("docker " + args);
}

} // namespace bosun::test
