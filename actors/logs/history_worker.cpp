#include "actors/logs/history_worker.hpp"

#include "api/logs/history.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace bosun {
namespace {

log_history_worker_actor::behavior_type
history_worker(log_history_worker_actor::pointer self) {
  return {
    [self](log_history_job& j) {
      log_history_lines out{log_files::read(j.files, j.max_bytes, j.query)};
      self->quit(); // one job each: the answer goes out first
      return out;
    },
  };
}

} // namespace

log_history_worker_actor spawn_history_worker(caf::actor_system& sys,
                                              bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(history_worker);
  return sys.spawn(history_worker);
}

} // namespace bosun
