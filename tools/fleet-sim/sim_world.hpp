#pragma once

// The simulated engine's model: containers, images, volumes and networks in
// memory, with Docker's (dockerd 20.10, API 1.41) state machine, naming
// rules, errors and events. Pure: no actors, no clock of its own (the actor
// sets `now_ns` before each operation), no randomness but the seeded ids.
//
// Every operation that fails returns the error the engine actor would give
// for dockerd's reply: category "engine" (engine_errc), context dockerd's
// message, e.g. not_found "No such container: x", conflict
// `Conflict. The container name "/x" is already in use by container "<id>".
// You have to remove (or rename) that container to be able to reuse that
// name.`, not_modified "container already started: x". Statuses dockerd gives
// as 403 (network endpoint rules) arrive as bad_request "HTTP 403: ...", as
// engine_logic::from_status makes them.
//
// Every change appends the events dockerd would emit to `events` (the actor
// drains them to subscribers): container create/start/kill/die/stop/
// restart/rename/destroy/health_status with the container's labels, "name"
// and "image" as attributes (plus "exitCode" on die, "signal" on kill);
// image pull/tag/untag/delete; volume create/mount/destroy; network
// create/connect/disconnect/destroy.
//
// Not modelled: engine restart policies (bosun always creates with "no"),
// pause, exec, anonymous volumes from Config.Volumes, ports, image layers on
// disk (only sizes), build.
#include "messages/engine.hpp"

#include <atomic>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bosun::sim {

// One line a container wrote; seq numbers are per container, from 1.
struct stored_line {
  uint64_t seq = 0;
  int64_t time_ns = 0;
  log_source source = log_source::out;
  std::string text;
};

struct container_rec {
  std::string id;
  std::string name;      // without Docker's leading '/'
  container_create spec; // as created, image defaults merged in
  std::string image_id;
  std::string status = "created"; // created|running|exited|dead
  int64_t exit_code = 0;
  int64_t pid = 0;
  int64_t created_ns = 0;
  std::optional<int64_t> started_ns; // never started: none
  std::optional<int64_t> finished_ns;
  int64_t restart_count = 0;
  std::optional<std::string> health; // with a healthcheck: starting|...
  int64_t failing_streak = 0;
  std::map<std::string, endpoint_settings> networks; // attached, by name
  uint64_t run = 0; // bumped at each start: timers of older runs are moot
  std::deque<stored_line> log; // the newest `log_keep` lines
  uint64_t log_seq = 0;        // seq of the last line written

  bool running() const {
    return status == "running";
  }
};

struct image_rec {
  std::string id;
  string_list tags;    // normalised "repo:tag"
  string_list digests; // "repo@sha256:..."
  int64_t size = 0;
  int64_t created_ns = 0;
  container_config config; // defaults containers inherit
};

struct network_rec {
  network_info info;
  bool predefined = false; // bridge, host, none: never removed
  uint32_t next_host = 2;  // the next address handed out in its subnet
};

class world {
public:
  explicit world(uint64_t seed, std::string hostname = "sim");

  int64_t now_ns = 0; // set by the actor before each operation
  size_t log_keep = 1000;
  std::vector<engine_event> events; // drained by the actor

  // -- containers
  caf::expected<std::string> create(const container_create& spec);
  caf::error start(const std::string& ref);
  // Stop (SIGTERM then SIGKILL): kill, die, stop. `exit_code` as the
  // process gave it.
  caf::error stop(const std::string& ref, int64_t exit_code = 143);
  caf::error kill(const std::string& ref, const std::string& signal);
  // The process ended on its own (crash, or its command returned): die.
  caf::error exited(const std::string& ref, int64_t exit_code);
  caf::error restart(const std::string& ref);
  caf::error remove(const std::string& ref, bool force, bool volumes);
  caf::error rename(const std::string& ref, const std::string& name);
  caf::expected<container_update_result> update(const std::string& ref,
                                                const container_update& u);
  caf::expected<container_inspect> inspect(const std::string& ref) const;
  container_list list(bool all, const engine_filters& filters) const;
  // health_status event; no event when unchanged.
  caf::error set_health(const std::string& ref, const std::string& status);
  // Appends a line to the container's log (kept: the last `log_keep`).
  caf::error write_log(const std::string& ref, log_source src,
                       std::string text);

  container_rec* find(const std::string& ref);

  // The log of a removed container, kept while a follower may still read
  // it: dockerd gives a follower that lags the rest of a container's log
  // after its removal (checked: all of 20,000 lines read after `docker rm
  // -f` by a client that had not read them). The engine forgets it once no
  // stream reads it.
  struct removed_log {
    std::deque<stored_line> log;
    uint64_t log_seq = 0;
  };
  const removed_log* removed(const std::string& id) const;
  std::vector<std::string> removed_ids() const;
  void forget_removed(const std::string& id);
  const container_rec* find(const std::string& ref) const;
  const std::map<std::string, container_rec>& containers() const {
    return containers_;
  }

  // -- images
  bool has_image(const std::string& ref) const;
  // The image `ref` (a name; normalised) as a pull leaves it: a new image,
  // or the tag moved onto it. Emits "pull".
  const image_rec& add_image(const std::string& ref, int64_t size,
                             const container_config& config);
  caf::expected<image_inspect> image(const std::string& ref) const;
  image_list images(const engine_filters& filters) const;
  caf::error tag(const std::string& ref, const image_tag& t);
  caf::expected<image_delete_result> remove_image(const std::string& ref,
                                                  bool force);

  // -- volumes
  caf::expected<volume_info> create_volume(const volume_create& spec);
  caf::expected<volume_info> volume(const std::string& name) const;
  volume_list volumes(const engine_filters& filters) const;
  caf::error remove_volume(const std::string& name, bool force);

  // -- networks
  caf::expected<std::string> create_network(const network_create& spec);
  caf::expected<network_info> network(const std::string& ref) const;
  network_infos networks(const engine_filters& filters) const;
  caf::error connect(const std::string& net, const network_connect& c);
  caf::error disconnect(const std::string& net, const network_disconnect& d);
  caf::error remove_network(const std::string& ref);

  engine_info info() const;

  // When a container last changed (created, started, stopped, renamed,
  // removed, …: any container event), on the steady clock in ns since its
  // epoch; 0 before the first. Written on the engine actor's thread, read
  // by fleet-sim's runner on its own: the moment a device's containers
  // reached the state a probe later finds converged.
  int64_t last_container_change_ns() const {
    return last_container_change_ns_.load(std::memory_order_relaxed);
  }

private:
  std::string new_id();
  std::string timestamp(int64_t ns) const;
  image_rec* find_image(const std::string& ref);
  const image_rec* find_image(const std::string& ref) const;
  network_rec* find_network(const std::string& ref);
  const network_rec* find_network(const std::string& ref) const;
  caf::error attach(container_rec& c, const std::string& net,
                    const endpoint_settings& es);
  void emit(const std::string& type, const std::string& action,
            const std::string& actor, string_map attrs);
  void emit(const container_rec& c, const std::string& action,
            string_map extra = {});
  void end_run(container_rec& c, int64_t exit_code);
  bool volume_in_use(const std::string& name, string_list* users) const;

  uint64_t seed_;
  uint64_t counter_ = 0;
  std::string hostname_;
  std::map<std::string, container_rec> containers_; // by id
  std::map<std::string, removed_log> removed_;      // by id
  std::map<std::string, image_rec> images_;         // by id
  std::map<std::string, volume_info> volumes_;      // by name
  std::map<std::string, network_rec> networks_;     // by id
  uint32_t next_subnet_ = 18;                       // 172.<n>.0.0/16
  std::atomic<int64_t> last_container_change_ns_{0};
};

// RFC 3339 with nanoseconds, as Docker writes log timestamps:
// "2024-01-02T03:04:05.000000123Z".
std::string rfc3339_nano(int64_t unix_ns);

// 64-bit FNV-1a: stable across builds and platforms (ids, layer sizes).
uint64_t fnv1a(const std::string& s, uint64_t basis = 14695981039346656037ull);

// 64 lowercase hex digits from `x` (an id or digest that depends on x only).
std::string hex64(uint64_t x);

} // namespace bosun::sim
