#pragma once

// Update locks, balena's way (reference/behaviour.md "Update locks"): each
// service has a host directory <base>/services/<appId>/<service>/, mounted in
// its container at /tmp/balena and /tmp/resin. An app blocks updates by
// creating updates.lock there (legacy name: resin-updates.lock). The agent
// takes the lock by creating both files itself, owned by uid 65534, so its
// own lock files are told apart from the app's by their owner.
//
// The functions are small synchronous file-system operations on a local
// directory. The lock keeper actor (below) runs them, so that no handler of
// app_manager blocks on the file system; it also owns the handover files.
#include "messages/message.hpp"

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bosun {

inline constexpr unsigned agent_lock_uid = 65534;

struct lock_outcome {
  bool ok = true;
  // "Lockfile exists for { appId: 1, service: web }" when a service holds a
  // lock of its own and the take was not forced; else the OS error.
  std::string error;
  std::string holder; // the service holding the lock, when locked
  bool taken = false; // lock_take: this call created the lock files
};

// <base>/services/<appId>/<service>
std::string service_lock_dir(const std::string& base, int64_t app_id,
                             const std::string& service);

// Creates the lock directories (mode 1777, so apps running as any user can
// lock) without taking any lock.
lock_outcome prepare_lock_dirs(const std::string& base, int64_t app_id,
                               const std::vector<std::string>& services);

// Takes the lock of every service. A service whose directory holds a lock
// file not owned by the agent refuses (unless `force`, which deletes the
// app's lock files first); on refusal the locks taken by this call are
// released again.
lock_outcome take_locks(const std::string& base, int64_t app_id,
                        const std::vector<std::string>& services, bool force);

// Removes the agent's lock files of every service of the app.
void release_locks(const std::string& base, int64_t app_id);

// Services whose lock directory holds a lock file the agent did not create.
std::vector<std::string> user_locks(const std::string& base, int64_t app_id);

// Whether any of the app's lock files is the agent's.
bool agent_holds_lock(const std::string& base, int64_t app_id);

// A handover's successor asked for the old container to go: removes its
// handover-complete (or legacy resin-kill-me) file and says whether there
// was one.
bool consume_handover_signal(const std::string& lock_dir);

// -- the lock keeper ----------------------------------------------------------

// Take the app's locks (take_locks); with `unless_held`, not when the
// agent holds one already (the reply then says ok and not taken).
struct lock_take {
  int64_t app_id = 0;
  std::vector<std::string> services;
  bool force = false;
  bool unless_held = false;
};
struct lock_release {
  int64_t app_id = 0;
};
// Who holds the locks of these apps.
struct lock_query {
  std::vector<int64_t> app_ids;
};
struct lock_states {
  std::map<int64_t, bool> agent_held;                     // app → held
  std::map<int64_t, std::vector<std::string>> user_locks; // app → services
};
struct handover_poll {
  std::string lock_dir;
};

using lock_keeper_actor
  = caf::typed_actor<caf::replies_to<lock_take>::with<lock_outcome>,
                     caf::replies_to<lock_release>::with<bool>,
                     caf::replies_to<lock_query>::with<lock_states>,
                     caf::replies_to<handover_poll>::with<bool>>;

// The keeper of the lock directories under `base`.
lock_keeper_actor::behavior_type lock_keeper(std::string base);

} // namespace bosun

BOSUN_MESSAGE(bosun::lock_outcome)
BOSUN_MESSAGE(bosun::lock_take)
BOSUN_MESSAGE(bosun::lock_release)
BOSUN_MESSAGE(bosun::lock_query)
BOSUN_MESSAGE(bosun::lock_states)
BOSUN_MESSAGE(bosun::handover_poll)
