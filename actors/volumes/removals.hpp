#pragma once

// Internal to actors/volumes: removes several engine objects at once and
// collects what happened, for the volumes and networks actors.
#include "messages/engine.hpp"
#include "messages/volumes.hpp"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bosun::volumes_detail {

// "engine conflict: <message>" → "<message>"; other errors rendered.
inline std::string why_of(const caf::error& e) {
  auto msg = engine_error_message(e);
  if (!msg.empty())
    return msg;
  if (e.category() == caf::atom("engine"))
    return render_engine_error(e);
  return caf::to_string(e);
}

// Sends make_req(name) to the engine for every name, in parallel; calls
// done(report) once all answered. A missing object counts as removed: it
// is gone either way. A 409 lands in in_use.
template <class Self, class MakeReq>
void remove_each(Self* self, const engine_actor& engine,
                 std::chrono::milliseconds timeout,
                 std::vector<std::string> names, MakeReq make_req,
                 std::function<void(volume_removal&)> done) {
  struct run {
    volume_removal report;
    size_t outstanding = 1; // held until every request is sent
    std::function<void(volume_removal&)> done;
  };
  auto r = std::make_shared<run>();
  r->done = std::move(done);
  auto step = [r] {
    if (--r->outstanding == 0)
      r->done(r->report);
  };
  for (auto& name : names) {
    ++r->outstanding;
    self->request(engine, timeout, make_req(name))
      .then(
        [r, name, step] {
          r->report.removed.push_back(name);
          step();
        },
        [r, name, step](caf::error& e) {
          if (e == engine_errc::not_found)
            r->report.removed.push_back(name);
          else if (e == engine_errc::conflict)
            r->report.in_use.push_back(name);
          else
            r->report.failed.push_back(name + ": " + why_of(e));
          step();
        });
  }
  step();
}

} // namespace bosun::volumes_detail
