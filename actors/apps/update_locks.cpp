#include "actors/apps/update_locks.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace bosun {

namespace fs = std::filesystem;

namespace {

constexpr const char* lock_names[] = {"updates.lock", "resin-updates.lock"};

fs::path app_dir(const std::string& base, int64_t app_id) {
  return fs::path(base) / "services" / std::to_string(app_id);
}

// -1: absent, 1: the agent's, 0: someone else's.
int lock_owner(const fs::path& file) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0)
    return -1;
  return st.st_uid == agent_lock_uid ? 1 : 0;
}

bool create_agent_lock(const fs::path& file, std::string& error) {
  int fd = ::open(file.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = file.string() + ": " + std::strerror(errno);
    return false;
  }
  // The owner is what marks a lock file as the agent's (needs root, as on a
  // device); a lock the agent cannot mark is not taken.
  if (::fchown(fd, agent_lock_uid, agent_lock_uid) != 0) {
    error = file.string()
            + ": cannot hand the lock to uid 65534: " + std::strerror(errno);
    ::close(fd);
    ::unlink(file.c_str());
    return false;
  }
  ::close(fd);
  return true;
}

std::vector<std::string> service_dirs(const std::string& base, int64_t app_id) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(app_dir(base, app_id), ec))
    if (e.is_directory(ec))
      out.push_back(e.path().filename().string());
  return out;
}

} // namespace

std::string service_lock_dir(const std::string& base, int64_t app_id,
                             const std::string& service) {
  return (app_dir(base, app_id) / service).string();
}

lock_outcome prepare_lock_dirs(const std::string& base, int64_t app_id,
                               const std::vector<std::string>& services) {
  lock_outcome out;
  for (auto& svc : services) {
    std::error_code ec;
    fs::path dir = service_lock_dir(base, app_id, svc);
    fs::create_directories(dir, ec);
    if (ec || ::chmod(dir.c_str(), 01777) != 0) {
      out.ok = false;
      out.error = dir.string() + ": "
                  + (ec ? ec.message() : std::string(std::strerror(errno)));
      return out;
    }
  }
  return out;
}

lock_outcome take_locks(const std::string& base, int64_t app_id,
                        const std::vector<std::string>& services, bool force) {
  auto out = prepare_lock_dirs(base, app_id, services);
  if (!out.ok)
    return out;
  std::vector<fs::path> taken;
  auto undo = [&] {
    for (auto& f : taken)
      ::unlink(f.c_str());
  };
  for (auto& svc : services) {
    fs::path dir = service_lock_dir(base, app_id, svc);
    for (auto* name : lock_names) {
      auto file = dir / name;
      auto owner = lock_owner(file);
      if (owner == 1)
        continue; // already ours
      if (owner == 0) {
        if (!force) {
          undo();
          out.ok = false;
          out.holder = svc;
          out.error = "Lockfile exists for { appId: " + std::to_string(app_id)
                      + ", service: " + svc + " }";
          return out;
        }
        ::unlink(file.c_str());
      }
      std::string err;
      if (!create_agent_lock(file, err)) {
        undo();
        out.ok = false;
        out.error = err;
        return out;
      }
      taken.push_back(file);
    }
  }
  return out;
}

void release_locks(const std::string& base, int64_t app_id) {
  for (auto& svc : service_dirs(base, app_id))
    for (auto* name : lock_names) {
      auto file = app_dir(base, app_id) / svc / name;
      if (lock_owner(file) == 1)
        ::unlink(file.c_str());
    }
}

std::vector<std::string> user_locks(const std::string& base, int64_t app_id) {
  std::vector<std::string> out;
  for (auto& svc : service_dirs(base, app_id))
    for (auto* name : lock_names)
      if (lock_owner(app_dir(base, app_id) / svc / name) == 0) {
        out.push_back(svc);
        break;
      }
  return out;
}

bool agent_holds_lock(const std::string& base, int64_t app_id) {
  for (auto& svc : service_dirs(base, app_id))
    for (auto* name : lock_names)
      if (lock_owner(app_dir(base, app_id) / svc / name) == 1)
        return true;
  return false;
}

bool consume_handover_signal(const std::string& lock_dir) {
  std::error_code ec;
  bool found = false;
  for (auto* name : {"handover-complete", "resin-kill-me"}) {
    auto file = fs::path(lock_dir) / name;
    if (fs::exists(file, ec)) {
      fs::remove(file, ec);
      found = true;
    }
  }
  return found;
}

lock_keeper_actor::behavior_type lock_keeper(std::string base) {
  return {
    [base](const lock_take& t) {
      if (t.unless_held && agent_holds_lock(base, t.app_id))
        return lock_outcome{};
      auto r = take_locks(base, t.app_id, t.services, t.force);
      r.taken = r.ok;
      return r;
    },
    [base](const lock_release& r) {
      release_locks(base, r.app_id);
      return true;
    },
    [base](const lock_query& q) {
      lock_states out;
      for (auto id : q.app_ids) {
        out.agent_held[id] = agent_holds_lock(base, id);
        out.user_locks[id] = user_locks(base, id);
      }
      return out;
    },
    [](const handover_poll& p) { return consume_handover_signal(p.lock_dir); },
  };
}

} // namespace bosun
