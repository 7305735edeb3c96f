#pragma once

// Runs the real bosun binary (or any program) as a child process for e2e
// tests: arguments, extra environment, stderr captured to a file, waits with
// deadlines, signals by PID.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bosun::test {

class child_process {
public:
  child_process(std::string program, std::vector<std::string> args,
                std::map<std::string, std::string> env = {},
                std::string output_file = {});
  ~child_process(); // kills (SIGKILL) and reaps the child if still running

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  int pid() const {
    return pid_;
  }
  void signal(int sig) const;
  // The exit status (exit code, or 128 + signal) once the process ends
  // within `deadline`; std::nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);
  bool running();
  // Everything the child wrote to stdout and stderr so far.
  std::string output() const;

private:
  int pid_ = -1;
  std::optional<int> status_;
  std::string output_file_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// A new empty directory under /tmp, removed by the destructor.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const {
    return path_;
  }

private:
  std::string path_;
};

struct http_reply {
  int status = 0; // 0 when the connection failed
  std::string body;
};

// One blocking HTTP/1.1 request with Connection: close, to 127.0.0.1:port.
http_reply http_request(int port, const std::string& method,
                        const std::string& target, const std::string& body = {},
                        const std::vector<std::string>& headers = {});

} // namespace bosun::test

namespace bosun::test {

struct command_result {
  int status = -1;
  std::string out; // stdout and stderr
};

// Runs a shell command line and captures its output (for the docker CLI in
// e2e tests: what a device owner would see).
command_result run_command(const std::string& command_line);

// `docker <args>` against $DOCKER_HOST; trailing newline trimmed.
command_result docker(const std::string& args);

} // namespace bosun::test
