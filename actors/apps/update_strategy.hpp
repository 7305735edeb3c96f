#pragma once

// Which update strategy a service asks for, from its labels. Pure.
//
//   io.balena.update.strategy: download-then-kill (default, and any unknown
//     value) | kill-then-download | delete-then-download | hand-over
//   io.balena.update.handover-timeout: milliseconds (default 60000)
//
// The legacy io.resin.* spelling of both labels is read too (io.balena.*
// wins when both are set).
#include "messages/target.hpp"

#include <cstdint>

namespace bosun {

enum class update_strategy : uint8_t {
  download_then_kill,   // fetch; once every app image is present, kill; start
  kill_then_download,   // kill at once; fetch; start
  delete_then_download, // as kill-then-download (the old image goes too)
  hand_over,            // fetch; start new beside old; kill old when done
};

// The label value ("download-then-kill", ...).
const char* to_string(update_strategy x);

// The strategy the service's labels ask for.
update_strategy strategy_of(const target_service& svc);

// The handover timeout in ms from the service's labels; `fallback` when the
// label is absent or not a non-negative integer.
int64_t handover_timeout_ms(const target_service& svc, int64_t fallback);

} // namespace bosun
