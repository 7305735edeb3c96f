#pragma once

// A private system bus for host tests: a real dbus-daemon on a socket in a
// temp dir, python3-dbusmock's logind template, and tests/integration/host/
// mock_host.py (systemd1 units, hostname1). Each stand-in appends the calls
// it gets to a log file, so tests assert the exact methods and arguments.
// Everything is stopped (by PID) when the object goes away.
#include "tests/support/eventually.hpp"
#include "tests/support/process.hpp"

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace bosun::test {

class host_bus {
public:
  // `units`: "name=ActiveState[:partof,...]" (mock_host.py); `socket`:
  // where the bus listens (default: in its own temp dir).
  explicit host_bus(std::vector<std::string> units = {},
                    std::string socket_path = {})
      : socket_(socket_path.empty() ? dir_.path() + "/bus.sock"
                                    : std::move(socket_path)) {
    std::ofstream(dir_.path() + "/bus.conf")
      << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus "
         "Configuration 1.0//EN\"\n"
         " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
         "<busconfig><type>system</type>\n"
         "<listen>unix:path="
      << socket() << "</listen><auth>EXTERNAL</auth>\n"
      << "<policy context=\"default\"><allow user=\"*\"/><allow own=\"*\"/>"
         "<allow send_destination=\"*\" eavesdrop=\"true\"/>"
         "<allow receive_sender=\"*\"/></policy></busconfig>\n";
    daemon_ = std::make_unique<child_process>(
      "/usr/bin/dbus-daemon",
      std::vector<std::string>{"--config-file=" + dir_.path() + "/bus.conf",
                               "--nofork"});
    ready_ = eventually(std::chrono::seconds(10), [&](std::string& last) {
      last = "no socket " + socket();
      return run_command("test -S " + socket()).status == 0;
    });
    if (!ready_)
      return;
    std::map<std::string, std::string> env{
      {"DBUS_SYSTEM_BUS_ADDRESS", address()}};
    logind_ = std::make_unique<child_process>(
      "/usr/bin/python3",
      std::vector<std::string>{"-m", "dbusmock", "--system", "--template",
                               "logind", "-l", logind_log()},
      env);
    std::vector<std::string> args{
      BOSUN_SOURCE_DIR "/tests/integration/host/mock_host.py", host_log()};
    args.insert(args.end(), units.begin(), units.end());
    host_ = std::make_unique<child_process>("/usr/bin/python3", args, env);
    ready_ = eventually(std::chrono::seconds(20), [&](std::string& last) {
      auto r = run_command("DBUS_SYSTEM_BUS_ADDRESS=" + address()
                           + " dbus-send --system --print-reply "
                             "--dest=org.freedesktop.login1 "
                             "/org/freedesktop/login1 "
                             "org.freedesktop.DBus.Peer.Ping");
      last = "logind mock: " + r.out + "; host mock: " + host_calls();
      return r.status == 0 && host_calls().find("ready") != std::string::npos;
    });
  }

  bool ready() const {
    return ready_;
  }
  std::string socket() const {
    return socket_;
  }
  std::string address() const {
    return "unix:path=" + socket();
  }
  // What logind got: lines "<time> Reboot False".
  std::string logind_calls() const {
    return read(logind_log());
  }
  // What systemd1 and hostname1 got: lines "RestartUnit x.service fail".
  std::string host_calls() const {
    return read(host_log());
  }
  // Stops the bus (the stand-ins lose it and exit).
  void stop() {
    host_.reset();
    logind_.reset();
    daemon_.reset();
  }

private:
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  std::string logind_log() const {
    return dir_.path() + "/logind.log";
  }
  std::string host_log() const {
    return dir_.path() + "/host.log";
  }

  temp_dir dir_;
  std::string socket_;
  bool ready_ = false;
  std::unique_ptr<child_process> daemon_;
  std::unique_ptr<child_process> logind_;
  std::unique_ptr<child_process> host_;
};

} // namespace bosun::test
