#pragma once

// The system lines app_manager and the service supervisors send to the logs
// actor, in balena's wording (its log types' human names, and the
// "<what> '<object>'" + " due to '<error>'" shape of system_event): the
// dashboard, the CLI and users' scripts read these.
//
// Pure: building a line needs no actor; send_line() is the only side effect
// and does nothing when there is no logs actor (tests, tools).
#include "messages/logs.hpp"

#include <chrono>
#include <string>

namespace bosun::apps {

// balena's human names (src/lib/log-types.ts). One line per event: a
// download logs when it is asked for and when it ends, never per progress
// step; a crash loop logs each exit and each restart (both backed off).
namespace lines {
inline constexpr const char* downloading_image = "Downloading image";
inline constexpr const char* downloaded_image = "Downloaded image";
inline constexpr const char* download_failed = "Failed to download image";
inline constexpr const char* deleting_image = "Deleting image";
inline constexpr const char* deleted_image = "Deleted image";
inline constexpr const char* delete_failed = "Failed to delete image";
inline constexpr const char* installing_service = "Installing service";
inline constexpr const char* installed_service = "Installed service";
inline constexpr const char* install_failed = "Failed to install service";
inline constexpr const char* starting_service = "Starting service";
inline constexpr const char* started_service = "Started service";
inline constexpr const char* start_failed = "Failed to start service";
inline constexpr const char* killing_service = "Killing service";
inline constexpr const char* killed_service = "Killed service";
inline constexpr const char* kill_failed = "Failed to kill service";
inline constexpr const char* service_exited = "Service exited";
inline constexpr const char* restarting_service = "Restarting service";
inline constexpr const char* removing_dead = "Removing dead container";
inline constexpr const char* remove_dead_failed
  = "Error removing dead container";
inline constexpr const char* creating_volume = "Creating volume";
inline constexpr const char* create_volume_failed = "Error creating volume";
inline constexpr const char* removing_volume = "Removing volume";
inline constexpr const char* remove_volume_failed = "Error removing volume";
inline constexpr const char* creating_network = "Creating network";
inline constexpr const char* create_network_failed = "Error creating network";
inline constexpr const char* removing_network = "Removing network";
inline constexpr const char* remove_network_failed = "Error removing network";
inline constexpr const char* taking_locks = "Taking update locks";
inline constexpr const char* releasing_locks = "Releasing update locks";
} // namespace lines

// How balena names a service in its lines: "<service> <image>", the image
// being the one its container is created from (the engine's image id,
// "sha256:…", once the image is on the engine). Without an image balena
// names nothing: "".
std::string service_object(const std::string& service,
                           const std::string& image);

// A duration as pretty-ms prints it with {compact: true}: its largest unit
// only, rounded down ("500ms", "1s", "32s", "4m", "1h", "2d").
std::string compact_duration(std::chrono::milliseconds d);

// balena's line for an apply that could not take an app's update lock:
// "Updates are locked, retrying in 2s. Reason: Lockfile exists for …".
// Not an error line: the device is doing what the user asked.
system_log updates_locked(std::chrono::milliseconds retry_in,
                          const std::string& reason);

// balena's device API purge lines.
system_log purging_data(int64_t app_id);
system_log purged_data();
system_log purge_failed(const std::string& why);

// Fire and forget; nothing when `logs` is null.
void send_line(const logs_actor& logs, system_log line);

} // namespace bosun::apps
