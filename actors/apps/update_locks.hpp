#pragma once

// Update locks, balena's way (reference/behaviour.md "Update locks"): each
// service has a host directory <base>/services/<appId>/<service>/, mounted in
// its container at /tmp/balena and /tmp/resin. An app blocks updates by
// creating updates.lock there (legacy name: resin-updates.lock). The agent
// takes the lock by creating both files itself, owned by uid 65534, so its
// own lock files are told apart from the app's by their owner.
//
// These are small synchronous file-system operations on a local directory;
// app_manager runs them between messages.
#include <cstdint>
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

} // namespace bosun
