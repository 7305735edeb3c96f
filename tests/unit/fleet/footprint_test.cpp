// What an agent costs the process in threads, open files and D-Bus
// connections, with fleet-sim's dependencies (blocking actors on the
// scheduler, no bus, SQLite's rollback journal) and with a device's.
#include "messages/host.hpp"
#include "tests/unit/fleet/fixture.hpp"

#include <sys/socket.h>
#include <sys/un.h>

namespace bosun::fleettest {
namespace {

size_t entries(const char* dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir))
    ++n;
  return n;
}

// This process's open files of the database in `dir` (bosun.sqlite and its
// -wal, -shm, -journal).
int db_files_open(const fs::path& dir) {
  auto prefix = (dir / "bosun.sqlite").string();
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = fs::read_symlink(e.path(), ec).string();
    if (!ec && target.rfind(prefix, 0) == 0)
      ++n;
  }
  return n;
}

// A unix socket that listens and never accepts: a D-Bus that would see a
// connection attempt as a pending connection.
struct silent_bus {
  fs::path path;
  int fd = -1;

  explicit silent_bus(fs::path p) : path(std::move(p)) {
    fs::remove(path);
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(::listen(fd, 16) == 0);
  }
  ~silent_bus() {
    ::close(fd);
    std::error_code ec;
    fs::remove(path, ec);
  }
  // Whether a client connected (accepts and closes it).
  bool dialled() {
    int c = ::accept(fd, nullptr, nullptr);
    if (c < 0)
      return false;
    ::close(c);
    return true;
  }
};

struct three : agents {
  std::vector<one*> them{&add(), &add(), &add()};
  size_t threads_before = entries("/proc/self/task");

  void start_all(bool fleet_sim, const std::string& bus = {}) {
    lean = fleet_sim;
    dbus_address = bus;
    int i = 0;
    for (auto* o : them) {
      auto name = std::string(lean ? "lean" : "device") + std::to_string(i);
      start(*o, name, 1 + i, 40 + i);
      apply(*o); // the db written, the whole tree up
      ++i;
    }
  }
};

} // namespace

TEST_SUITE("an agent's footprint") {
  TEST_CASE_FIXTURE(three, "fleet-sim's: no threads of its own, one file for "
                           "its database, no D-Bus") {
    auto bus_dir = fs::temp_directory_path()
                   / ("bosun-footprint-" + std::to_string(::getpid()));
    fs::create_directories(bus_dir);
    silent_bus bus(bus_dir / "bus");
    start_all(true, "unix:path=" + bus.path.string());
    // db, host_io and device_config would be three threads per agent.
    CHECK(entries("/proc/self/task") < threads_before + them.size());
    for (auto* o : them) {
      CAPTURE(o->service);
      // At rest (a write holds the -journal open for its duration): WAL
      // would hold 3 for good.
      test::eventually(
        10s,
        [&](std::string& last) {
          auto n = db_files_open(o->dir);
          last = std::to_string(n) + " files of the database open";
          return n == 1;
        },
        "one file of the database open");
      auto host = core(*o).host;
      REQUIRE(host);
      // An answer from the host actor's worker: it has handled whatever
      // the host actor asked of it first (a bus connection, without the
      // dependency).
      ask<host_addresses>(host, caf::get_atom_v, addrs_atom_v);
      auto st = ask<bus_status>(host, caf::get_atom_v, bus_atom_v);
      CHECK_FALSE(st.connected);
      CHECK(st.last_error == "no D-Bus: simulated device");
      CHECK(st.connects == 0);
    }
    CHECK_FALSE(bus.dialled());
    std::error_code ec;
    fs::remove_all(bus_dir, ec);
  }

  TEST_CASE_FIXTURE(three, "a device's: threads for its blocking actors, "
                           "WAL") {
    start_all(false);
    CHECK(entries("/proc/self/task") >= threads_before + 3 * them.size());
    for (auto* o : them)
      CHECK(db_files_open(o->dir) == 3);
  }
}
} // namespace bosun::fleettest
