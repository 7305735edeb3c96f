#pragma once

// The state report v3 (reference/state.md): what the device looks like, as
// the typed report of messages/cloud.hpp, and the diff against the last
// report the cloud accepted. Pure: no actors, no clock, no I/O.
#include "actors/cloud/host_facts.hpp"
#include "messages/app_manager.hpp"
#include "messages/cloud.hpp"
#include "messages/target.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace bosun::cloud_report {

// The balena Supervisor version whose contracts bosun speaks; reported as
// supervisor_version (the cloud gates features on it).
inline constexpr const char* supervisor_version = "19.0.5";

struct device_identity {
  int64_t api_port = 48484;
  std::string api_secret; // the global device API key
  std::string os_version; // os-release PRETTY_NAME
  std::string os_variant = "prod";
};

// The device-level keys: identity, addresses, metrics present in `host`
// (all null when hardware_metrics is off: SUPERVISOR_HARDWARE_METRICS),
// and the constant ones (status "Idle", provisioning_*, is_undervolted,
// logs_channel unless in local mode).
std::map<std::string, report_value> device_fields(const device_identity& id,
                                                  const host_facts& host,
                                                  bool local_mode,
                                                  bool hardware_metrics = true);

// commit → service name → image, for releases the device ran before (a
// container of an older release is reported with its release's image).
using known_images = std::map<std::string, std::map<std::string, std::string>>;

// The apps section: one entry per app of `target`, with release_uuid = the
// commit it runs (when known) and one release per commit that has a
// container or an image: containers with their status, target images not
// yet in a container as Downloading (with progress) or Downloaded. The
// balena Supervisor's own entry (well-known app uuids) is always Running.
report_apps build_apps(const apps_view& view, const target_state& target,
                       const known_images& images = {});

// The release's update_status from its services: downloading (a progress
// that is not 100) > downloaded > applying changes (Installing, Installed,
// Awaiting handover) > done.
std::string release_status(const report_release& r);

// Metric keys: a diff holding only these waits (report_gate).
bool is_metric_key(const std::string& key);

// What to send: device keys that differ from `last` (all when there is no
// last), and `apps` whole when anything in it differs. Keys `current`
// lacks are not sent; an empty `apps` is pruned.
device_report diff(const device_report& current, const device_report* last);

bool empty(const device_report& patch);
bool metrics_only(const device_report& patch);

// The cloud accepted `patch`: fold it into the last accepted report.
void merge(device_report& accepted, const device_report& patch);

} // namespace bosun::cloud_report
