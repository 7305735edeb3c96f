#pragma once

// State report v3 (reference/state.md): the body of PATCH /device/v3/state,
// from the typed report in messages/cloud.hpp.
//
//   {"<uuid>":{"api_port":48484,…,"apps":{"<app uuid>":{"release_uuid":…,
//     "releases":{"<commit>":{"update_status":"done","services":{"web":
//     {"image":"…","status":"Running"}}}}}}}}
//
// Device keys are written in the map's order; `apps` only when present;
// `download_progress` only when set; `release_uuid` only when known.
#include "messages/cloud.hpp"

#include <string>

namespace bosun::cloud {

std::string encode_state_report(const std::string& uuid,
                                const device_report& patch);

} // namespace bosun::cloud
