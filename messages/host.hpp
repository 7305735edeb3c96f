#pragma once

// The host actor's interface (reference/host.md): power actions through
// logind, the LED, host config (hostname, proxy), VPN status, and the
// host's network facts. It owns the system D-Bus connection; while the bus
// is unreachable the requests that need it fail with bus_unavailable and a
// reason, and the actor keeps reconnecting with backoff.
#include "messages/message.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bosun {

// The context of every host error is one std::string: the sentence the
// device API shows.
enum class host_errc : uint8_t {
  bus_unavailable = 1, // the system bus is not reachable (yet)
  updates_locked,      // an update lock or a rollback breadcrumb
  failed,              // the host refused or a file could not be used
  bad_request,         // the request is malformed (400)
};

inline const char* to_string(host_errc x) {
  switch (x) {
    case host_errc::bus_unavailable:
      return "bus_unavailable";
    case host_errc::updates_locked:
      return "updates_locked";
    case host_errc::failed:
      return "failed";
    case host_errc::bad_request:
      return "bad_request";
  }
  return "unknown";
}

} // namespace bosun

CAF_ERROR_CODE_ENUM(bosun::host_errc, "host")

CAF_ADD_ATOM(bosun, bosun, blink_atom, "blink")
CAF_ADD_ATOM(bosun, bosun, vpn_atom, "vpn")
CAF_ADD_ATOM(bosun, bosun, addrs_atom, "addrs")
CAF_ADD_ATOM(bosun, bosun, hostcfg_atom, "hostcfg")
CAF_ADD_ATOM(bosun, bosun, bus_atom, "bus")

namespace bosun {

enum class power_action : uint8_t { reboot, shutdown };

// POST /v1/reboot, /v1/shutdown: answered once the locks were taken, the
// call is scheduled and the locks released again; the logind call itself
// follows a second later (its failure is only logged).
struct power_request {
  power_action action = power_action::reboot;
  bool force = false; // the body's force: bypasses locks and breadcrumbs
};

// The device's addresses as balena reports them (GET /v1/device, the state
// report): external IPv4 and global IPv6 addresses, and the MACs of those
// interfaces, each space-separated.
struct host_addresses {
  std::string ip_address;
  std::string mac_address; // upper-case
};

// The proxy as host-config shows and takes it: the redsocks block's fields
// in file order ("type", "ip", "port", "login", "password", ...), the DNS
// relay and the no_proxy list.
struct host_proxy {
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<std::string> dns;    // "ip:port" of a valid dnsu2t block
  std::vector<std::string> no_proxy; // empty: none
  bool valid = true;                 // false: the redsocks block was bad
};

struct host_settings {
  std::string hostname;
  std::optional<host_proxy> proxy; // none when redsocks.conf is absent
};

// PATCH /v1/device/host-config, already parsed (api/server).
struct host_config_patch {
  std::optional<std::string> hostname;
  // Present: the proxy object. `fields` are the given keys (values as
  // strings); dns: absent, false (drop the relay), true or "ip:port".
  struct proxy_patch {
    std::vector<std::pair<std::string, std::string>> fields;
    std::optional<std::string> dns; // "false", "true" or "ip:port"
    std::optional<std::vector<std::string>> no_proxy; // given as an array
    bool no_proxy_given = false; // noProxy key present (any type)
  };
  std::optional<proxy_patch> proxy;
  bool force = false;
};

struct vpn_status {
  bool enabled = false;
  bool connected = false;
};

// The bus as the host actor sees it.
struct bus_status {
  bool connected = false;
  std::string address;
  std::string last_error; // why the last attempt or call failed
  uint64_t connects = 0;  // successful connections since start
};

// POST /v2/journal-logs (reference/host.md §5): what the body asks for.
struct journal_query {
  bool all = false;
  bool follow = false;
  std::optional<int64_t> count; // positive, else ignored
  std::optional<std::string> unit, container_id, since, until;
  std::string format = "short";
};

// journalctl's output, streamed to the requester (its sink): chunks, each
// acknowledged with journal_more (or journal_stop: the reader is gone, the
// process is killed), then journal_end once journalctl exited and was
// reaped.
struct journal_chunk {
  std::string data;
};
struct journal_end {};
struct journal_more {};
struct journal_stop {};
struct journal_poll {}; // the runner's own

using journal_runner_actor
  = caf::typed_actor<caf::reacts_to<journal_more>, caf::reacts_to<journal_stop>,
                     caf::reacts_to<journal_poll>>;
using journal_sink_actor
  = caf::typed_actor<caf::reacts_to<journal_chunk, journal_runner_actor>,
                     caf::reacts_to<journal_end>>;

// Starts journalctl for `sink`; fails (host_errc::failed) while the most
// allowed runs are going on.
struct journal_open {
  journal_query query;
  journal_sink_actor sink;
};

// Internal to the host actor: reconnect the bus; the LED pattern's steps;
// the delayed logind call.
struct bus_retry {};
struct blink_step {
  uint64_t pattern = 0;
  bool on = false;
};
struct blink_stop {};
struct power_due {
  power_action action = power_action::reboot;
};

using host_actor = caf::typed_actor<
  caf::replies_to<power_request>::with<void>,
  caf::replies_to<blink_atom>::with<void>,
  caf::replies_to<caf::get_atom, hostcfg_atom>::with<host_settings>,
  caf::replies_to<host_config_patch>::with<void>,
  caf::replies_to<caf::get_atom, vpn_atom>::with<vpn_status>,
  caf::replies_to<caf::get_atom, addrs_atom>::with<host_addresses>,
  caf::replies_to<caf::get_atom, bus_atom>::with<bus_status>,
  caf::replies_to<journal_open>::with<void>, caf::reacts_to<bus_retry>,
  caf::reacts_to<blink_step>, caf::reacts_to<blink_stop>,
  caf::reacts_to<power_due>>;

} // namespace bosun

BOSUN_MESSAGE(bosun::power_request)
BOSUN_MESSAGE(bosun::host_addresses)
BOSUN_MESSAGE(bosun::host_proxy)
BOSUN_MESSAGE(bosun::host_settings)
BOSUN_MESSAGE(bosun::host_config_patch)
BOSUN_MESSAGE(bosun::vpn_status)
BOSUN_MESSAGE(bosun::bus_status)
BOSUN_MESSAGE(bosun::journal_query)
BOSUN_MESSAGE(bosun::journal_chunk)
BOSUN_MESSAGE(bosun::journal_end)
BOSUN_MESSAGE(bosun::journal_more)
BOSUN_MESSAGE(bosun::journal_stop)
BOSUN_MESSAGE(bosun::journal_poll)
BOSUN_MESSAGE(bosun::journal_open)
BOSUN_MESSAGE(bosun::bus_retry)
BOSUN_MESSAGE(bosun::blink_step)
BOSUN_MESSAGE(bosun::blink_stop)
BOSUN_MESSAGE(bosun::power_due)
