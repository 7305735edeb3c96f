#pragma once

// The tags actor's interface: it owns the device tags (name → value, each
// with a stable id), kept in the database and answered from memory.
//
//  - get_atom, device_tags_atom → every tag, sorted by name.
//  - put_atom, device_tags_atom, {name → value} → done once stored (the
//    other tags are kept); a db failure is the reply.
// Names and values are checked by the caller's codec (the device API's).
#include "messages/db.hpp"
#include "messages/message.hpp"

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <map>
#include <string>
#include <vector>

namespace bosun {

using tags_actor = caf::typed_actor<
  caf::replies_to<caf::get_atom,
                  device_tags_atom>::with<std::vector<device_tag>>,
  caf::replies_to<caf::put_atom, device_tags_atom,
                  std::map<std::string, std::string>>::with<void>>;

} // namespace bosun
