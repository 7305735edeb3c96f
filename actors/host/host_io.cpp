#include "actors/host/host_io.hpp"

#include "actors/apps/update_locks.hpp"
#include "actors/cloud/config_writer.hpp"
#include "actors/host/addresses.hpp"
#include "actors/host/redsocks.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

namespace bosun {

namespace {

namespace fs = std::filesystem;

constexpr uint64_t call_timeout_usec = 10 * 1000 * 1000;

caf::error host_error(host_errc c, std::string why) {
  return caf::make_error(c, std::move(why));
}

struct bus_deleter {
  void operator()(sd_bus* b) const {
    sd_bus_flush_close_unref(b);
  }
};

struct host_io_state {
  static inline const char* name = "host_io";
  host_paths paths;
  std::unique_ptr<sd_bus, bus_deleter> bus;
  std::string led; // resolved at first use
};

using self_ptr = host_io_actor::stateful_pointer<host_io_state>;

// The error of a failed call: a broken connection is closed and reported
// as bus_unavailable (the host actor reconnects); anything else is the
// peer's refusal.
caf::error call_error(self_ptr self, int r, const sd_bus_error& e) {
  std::string why = sd_bus_error_is_set(&e) != 0 && e.message != nullptr
                      ? e.message
                      : std::strerror(-r);
  auto& bus = self->state.bus;
  if (!bus || sd_bus_is_open(bus.get()) <= 0 || r == -ECONNRESET
      || r == -ENOTCONN || r == -EPIPE) {
    bus.reset();
    return host_error(host_errc::bus_unavailable, "D-Bus: " + why);
  }
  return host_error(host_errc::failed, why);
}

struct error_guard {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  ~error_guard() {
    sd_bus_error_free(&e);
    sd_bus_message_unref(reply);
  }
};

caf::error no_bus() {
  return host_error(host_errc::bus_unavailable, "D-Bus: not connected");
}

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Plain write (no_proxy; balena writes it without fatrw either).
std::optional<std::string> write_text(const std::string& path,
                                      const std::string& data) {
  return atomic_write(path, data);
}

// The appIds with a lock dir: <base>/services/<appId>/.
std::vector<int64_t> locked_apps(const std::string& base) {
  std::vector<int64_t> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(base + "/services", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != name.npos
        || !it->is_directory(ec) || it->is_symlink(ec))
      continue;
    out.push_back(std::stoll(name));
  }
  return out;
}

// An app's services: the subdirectories (not symlinks) of its lock dir.
std::vector<std::string> lock_services(const std::string& base, int64_t app) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it
       = fs::directory_iterator(base + "/services/" + std::to_string(app), ec);
       !ec && it != fs::directory_iterator(); it.increment(ec))
    if (!it->is_symlink(ec) && it->is_directory(ec))
      out.push_back(it->path().filename().string());
  return out;
}

const char* unit_method(unit_op op) {
  switch (op) {
    case unit_op::start:
      return "StartUnit";
    case unit_op::stop:
      return "StopUnit";
    case unit_op::restart:
      return "RestartUnit";
  }
  return "StartUnit";
}

host_io_actor::behavior_type host_io_impl(self_ptr self, host_paths paths) {
  self->state.paths = std::move(paths);
  return {
    [self](bus_connect) -> caf::result<std::string> {
      auto& st = self->state;
      st.bus.reset();
      sd_bus* raw = nullptr;
      int r = sd_bus_new(&raw);
      if (r < 0)
        return host_error(host_errc::bus_unavailable,
                          std::string("D-Bus: ") + std::strerror(-r));
      std::unique_ptr<sd_bus, bus_deleter> bus(raw);
      if ((r = sd_bus_set_address(raw, st.paths.dbus_address.c_str())) < 0
          || (r = sd_bus_set_bus_client(raw, 1)) < 0
          || (r = sd_bus_set_method_call_timeout(raw, call_timeout_usec)) < 0
          || (r = sd_bus_start(raw)) < 0)
        return host_error(host_errc::bus_unavailable,
                          "D-Bus " + st.paths.dbus_address + ": "
                            + std::strerror(-r));
      const char* unique = nullptr;
      // Waits for the bus's Hello reply: the connection is usable.
      if ((r = sd_bus_get_unique_name(raw, &unique)) < 0)
        return host_error(host_errc::bus_unavailable,
                          "D-Bus " + st.paths.dbus_address + ": "
                            + std::strerror(-r));
      std::string name = unique != nullptr ? unique : "";
      st.bus = std::move(bus);
      return name;
    },
    [self](const logind_power& p) -> caf::result<void> {
      if (!self->state.bus)
        return no_bus();
      error_guard g;
      int r = sd_bus_call_method(
        self->state.bus.get(), "org.freedesktop.login1",
        "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
        p.action == power_action::reboot ? "Reboot" : "PowerOff", &g.e,
        &g.reply, "b", 0);
      if (r < 0)
        return call_error(self, r, g.e);
      return caf::unit;
    },
    [self](const unit_call& c) -> caf::result<void> {
      if (!self->state.bus)
        return no_bus();
      error_guard g;
      int r = sd_bus_call_method(
        self->state.bus.get(), "org.freedesktop.systemd1",
        "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
        unit_method(c.op), &g.e, &g.reply, "ss", c.unit.c_str(), "fail");
      if (r < 0)
        return call_error(self, r, g.e);
      return caf::unit;
    },
    [self](const unit_property& q) -> caf::result<std::vector<std::string>> {
      if (!self->state.bus)
        return no_bus();
      auto* bus = self->state.bus.get();
      error_guard g;
      int r = sd_bus_call_method(bus, "org.freedesktop.systemd1",
                                 "/org/freedesktop/systemd1",
                                 "org.freedesktop.systemd1.Manager", "GetUnit",
                                 &g.e, &g.reply, "s", q.unit.c_str());
      if (r < 0)
        return call_error(self, r, g.e);
      const char* path = nullptr;
      if ((r = sd_bus_message_read(g.reply, "o", &path)) < 0)
        return host_error(host_errc::failed, std::strerror(-r));
      std::string unit_path = path;
      error_guard p;
      std::vector<std::string> out;
      if (q.property == "PartOf") {
        char** list = nullptr;
        r = sd_bus_get_property_strv(
          bus, "org.freedesktop.systemd1", unit_path.c_str(),
          "org.freedesktop.systemd1.Unit", "PartOf", &p.e, &list);
        if (r < 0)
          return call_error(self, r, p.e);
        for (auto** i = list; i != nullptr && *i != nullptr; ++i) {
          out.emplace_back(*i);
          free(*i); // NOLINT: sd-bus hands out malloc'ed strings
        }
        free(list); // NOLINT
        return out;
      }
      char* value = nullptr;
      r = sd_bus_get_property_string(
        bus, "org.freedesktop.systemd1", unit_path.c_str(),
        "org.freedesktop.systemd1.Unit", q.property.c_str(), &p.e, &value);
      if (r < 0)
        return call_error(self, r, p.e);
      out.emplace_back(value != nullptr ? value : "");
      free(value); // NOLINT
      return out;
    },
    [self](const static_hostname& h) -> caf::result<void> {
      if (!self->state.bus)
        return no_bus();
      error_guard g;
      int r = sd_bus_call_method(
        self->state.bus.get(), "org.freedesktop.hostname1",
        "/org/freedesktop/hostname1", "org.freedesktop.hostname1",
        "SetStaticHostname", &g.e, &g.reply, "sb", h.name.c_str(), 0);
      if (r < 0)
        return call_error(self, r, g.e);
      return caf::unit;
    },
    [self](breadcrumb_check) {
      const auto& s = self->state.paths.state_mount;
      return exists(s + "/rollback-health-breadcrumb")
             || exists(s + "/rollback-altboot-breadcrumb");
    },
    [self](const locks_take& t) -> caf::result<std::vector<int64_t>> {
      const auto& base = self->state.paths.lock_base;
      std::vector<int64_t> taken;
      for (auto app : locked_apps(base)) {
        std::string why;
        if (agent_holds_lock(base, app)) {
          why = "Locks for app " + std::to_string(app)
                + " are being held by another supervisor operation";
        } else {
          auto r = take_locks(base, app, lock_services(base, app), t.force);
          if (r.ok) {
            taken.push_back(app);
            continue;
          }
          why = r.error;
        }
        for (auto a : taken)
          release_locks(base, a);
        return host_error(host_errc::updates_locked, why);
      }
      return taken;
    },
    [self](const locks_release& r) {
      for (auto app : r.apps)
        release_locks(self->state.paths.lock_base, app);
    },
    [self](const led_write& w) -> caf::result<void> {
      auto& st = self->state;
      if (st.led.empty())
        st.led = exists(st.paths.led_file) ? st.paths.led_file : "/dev/null";
      int fd = ::open(st.led.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
      if (fd < 0)
        return host_error(host_errc::failed,
                          st.led + ": " + std::strerror(errno));
      auto n = ::write(fd, w.on ? "1" : "0", 1);
      auto err = errno;
      ::close(fd);
      if (n != 1)
        return host_error(host_errc::failed,
                          st.led + ": " + std::strerror(err));
      return caf::unit;
    },
    [self](hostcfg_read) -> caf::result<host_settings> {
      const auto& p = self->state.paths;
      host_settings c;
      if (auto h = read_text(p.host_root + "/etc/hostname")) {
        auto& s = *h;
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
          s.pop_back();
        auto first = s.find_first_not_of(" \t\r\n");
        c.hostname = first == std::string::npos ? "" : s.substr(first);
      }
      auto dir = p.boot_mount + "/system-proxy";
      if (auto conf = read_text(dir + "/redsocks.conf")) {
        c.proxy = redsocks::parse(*conf);
        if (auto np = read_text(dir + "/no_proxy"))
          c.proxy->no_proxy = redsocks::parse_no_proxy(*np);
      } else if (exists(dir + "/redsocks.conf")) {
        return host_error(host_errc::failed,
                          "Failed to read file " + dir + "/redsocks.conf");
      }
      return c;
    },
    [self](const proxy_write& w) -> caf::result<void> {
      const auto& p = self->state.paths;
      auto dir = p.boot_mount + "/system-proxy";
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec)
        return host_error(host_errc::failed, dir + ": " + ec.message());
      host_proxy current;
      if (auto conf = read_text(dir + "/redsocks.conf"))
        current = redsocks::parse(*conf);
      auto merged = redsocks::merge(current, w.patch);
      bool no_proxy_changed = false;
      if (w.patch.no_proxy_given) {
        auto old
          = redsocks::parse_no_proxy(read_text(dir + "/no_proxy").value_or(""));
        if (w.patch.no_proxy && !w.patch.no_proxy->empty()) {
          std::string text;
          for (const auto& n : *w.patch.no_proxy)
            text += (text.empty() ? "" : "\n") + n;
          if (auto err = write_text(dir + "/no_proxy", text))
            return host_error(host_errc::failed, *err);
        } else {
          fs::remove(dir + "/no_proxy", ec);
        }
        no_proxy_changed = w.patch.no_proxy && *w.patch.no_proxy != old;
      }
      if (redsocks::writable(merged)) {
        if (auto err
            = atomic_write(dir + "/redsocks.conf", redsocks::write(merged)))
          return host_error(host_errc::failed,
                            "Write failed with error: " + *err);
      } else if (!no_proxy_changed) {
        fs::remove(dir + "/redsocks.conf", ec);
      }
      return caf::unit;
    },
    [self](vpn_connected) {
      struct stat st {};
      return ::lstat((self->state.paths.vpn_status + "/active").c_str(), &st)
             == 0;
    },
    [](const config_hostname& h) -> caf::result<void> {
      cloud::config_json_edit edit;
      edit.set["hostname"] = h.name;
      if (auto err = rewrite_config_json(h.config_path, edit))
        return host_error(host_errc::failed, *err);
      return caf::unit;
    },
    [self](caf::get_atom, addrs_atom) {
      return self->state.paths.facts->addresses();
    },
  };
}

} // namespace

host_io_actor spawn_host_io(caf::actor_system& sys, host_paths paths,
                            bool detached) {
  if (!detached)
    return sys.spawn(host_io_impl, std::move(paths));
  return sys.spawn<caf::detached>(host_io_impl, std::move(paths));
}

} // namespace bosun
