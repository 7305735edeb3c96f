#pragma once

// The app_manager's view of the engine: the supervised containers, the
// networks, the volumes and the target's images. It is read in full once,
// then kept current: engine events and the results of bosun's own steps
// mark what changed, and the next pass reads just that (one inspect per
// changed container or image, one list when networks or volumes changed).
// A full read happens again only when the engine reconnected or an engine
// error contradicted the view (invalidate()).
//
// Pure bookkeeping: no actor, no I/O. refresh_view (below) does the reads.
#include "actors/apps/current_state.hpp"
#include "messages/engine_types.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace bosun {

// What one refresh must read from the engine.
struct view_reads {
  bool full = false; // everything; the fields below are then empty
  std::set<std::string> containers; // ids to inspect
  bool networks = false;
  bool volumes = false;
  std::set<std::string> images; // references to inspect

  bool empty() const {
    return !full && containers.empty() && !networks && !volumes
           && images.empty();
  }
};

class engine_view {
public:
  const engine_snapshot& snapshot() const {
    return snap_;
  }
  bool valid() const {
    return valid_;
  }
  uint64_t full_reads() const {
    return full_reads_;
  }
  uint64_t partial_reads() const {
    return partial_reads_;
  }

  // What the next refresh reads, given the images the target names; the
  // marks it covers are cleared (an event arriving while it runs marks
  // again, so nothing it changes is lost).
  view_reads next_reads(const std::set<std::string>& target_images);

  // The results of a refresh.
  // A complete full read; `absent`: target images not on the engine.
  void replace(engine_snapshot fresh, std::set<std::string> absent = {});
  void put_container(container_inspect c);
  void put_networks(std::vector<network_info> ns);
  void put_volumes(std::vector<volume_info> vs);
  void put_image(const std::string& ref, std::optional<image_inspect> ii);

  // What changed, from events or bosun's own steps.
  void on_event(const engine_event& ev);
  void container_changed(const std::string& id);
  void container_gone(const std::string& id);
  void networks_changed();
  void volumes_changed();
  void image_changed(const std::string& ref);
  // The view cannot be trusted: the next refresh reads everything.
  void invalidate();
  // Images marked since the last next_reads (a download just ended).
  bool images_pending() const {
    return !dirty_images_.empty();
  }

private:
  engine_snapshot snap_;
  bool valid_ = false;
  std::set<std::string> dirty_containers_;
  bool dirty_networks_ = false;
  bool dirty_volumes_ = false;
  std::set<std::string> dirty_images_;
  std::set<std::string> absent_images_; // inspected: not on the engine
  uint64_t full_reads_ = 0;
  uint64_t partial_reads_ = 0;
};

} // namespace bosun
