#pragma once

// The images actor's interface: image fetches (pull with progress) and image
// cleanup.
//
//  - image_fetch → image_fetched once the image is on the engine (an image
//    already present is not pulled), or an error of category "images"
//    (images_errc) whose context is the user-facing message, e.g.
//      "Failed to download image '127.0.0.1:5000/x:1' due to 'manifest
//       unknown'".
//    Concurrent fetches of one image share one pull; at most a few pulls run
//    at once (the rest queue); a failed pull is retried with backoff a
//    bounded number of times before the error is the reply.
//  - progress: image_subscribe{listener}; the listener gets image_progress
//    {image, percent 0-100, who asked} while pulls run (throttled: on a change
//    of whole percent, at most every 250 ms, and always the final 100), and
//    one with `failure` set each time an attempt fails and a retry follows.
//  - image_cleanup{keep} → removes images bosun fetched that no current or
//    target service needs, and dangling images; never an image a container
//    uses (the engine refuses with 409; it is reported as in use).
//  - get → images_telemetry.
#include "messages/engine_types.hpp"
#include "messages/message.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bosun {

enum class images_errc : uint8_t {
  fetch_failed = 1, // every pull attempt failed (the context says why)
  not_available,    // a local-only image (no registry in its name) is absent
};

inline const char* to_string(images_errc x) {
  switch (x) {
    case images_errc::fetch_failed:
      return "fetch_failed";
    case images_errc::not_available:
      return "not_available";
  }
  return "unknown";
}

} // namespace bosun

CAF_ERROR_CODE_ENUM(bosun::images_errc, "images")

namespace bosun {

// Who asked for an image: progress is attributed to these services.
struct image_user {
  int64_t app_id = 0;
  std::string service_name;
};

inline bool operator==(const image_user& a, const image_user& b) {
  return a.app_id == b.app_id && a.service_name == b.service_name;
}

// Command: make `image` present on the engine.
struct image_fetch {
  std::string image; // "registry:5000/repo:tag", "repo@sha256:…", local tag
  std::optional<registry_auth> auth; // X-Registry-Auth for the pull
  int64_t app_id = 0;                // for progress attribution
  std::string service_name;
};

// Reply to image_fetch.
struct image_fetched {
  std::string image;   // as requested
  std::string id;      // the engine's image id, "sha256:…"
  bool pulled = false; // false: it was already on the engine
};

// Event: pull progress of one image, 0-100 and never decreasing for one pull.
// With `failure` set, an attempt failed and a retry waits for its backoff:
// the fetch goes on, and its waiters hear of the failure now, not only when
// every attempt has failed.
struct image_progress {
  std::string image; // as first requested
  int32_t percent = 0;
  std::vector<image_user> users; // every fetch waiting for this image
  std::string failure; // the failed attempt's user-facing message, or ""
};

using image_listener_actor = caf::typed_actor<caf::reacts_to<image_progress>>;

struct image_subscribe {
  image_listener_actor listener; // dropped when it terminates
};

// Command: remove images no current or target service needs.
// Removed: images fetched through this actor (since it started) or named in
// `fetched`, and dangling images (no tag, no digest), unless `keep` names
// them (by name or id) or the engine says a container uses them.
struct image_cleanup {
  string_list keep;     // names or ids of every current and target image
  string_list fetched;  // names bosun fetched earlier (e.g. remembered in db)
  bool dangling = true; // also remove dangling images
};

struct image_cleanup_result {
  string_list removed; // names (or ids for dangling images) removed
  string_list in_use;  // skipped: a container uses it (engine 409)
  string_list failed;  // "name: why"
};

struct images_telemetry {
  uint64_t pulling = 0;  // pulls in progress
  uint64_t queued = 0;   // waiting for a pull slot
  uint64_t retrying = 0; // waiting for their backoff to pass
  uint64_t done = 0;     // fetches that ended with the image present
  uint64_t pulled = 0;   // ... of which needed a pull
  uint64_t failed = 0;   // fetches that ended in an error
  uint64_t attempts = 0; // pull attempts started
  uint64_t removed = 0;  // images removed by cleanups
  std::string last_error;
};

using images_actor
  = caf::typed_actor<caf::replies_to<image_fetch>::with<image_fetched>,
                     caf::replies_to<image_cleanup>::with<image_cleanup_result>,
                     caf::reacts_to<image_subscribe>,
                     caf::replies_to<caf::get_atom>::with<images_telemetry>>;

// The message of an images error ("" for other errors): what the app_manager
// reports and logs.
inline std::string images_error_message(const caf::error& e) {
  if (e.category() != caf::atom("images"))
    return {};
  const auto& ctx = e.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

} // namespace bosun

BOSUN_MESSAGE(bosun::image_user)
BOSUN_MESSAGE(bosun::image_fetch)
BOSUN_MESSAGE(bosun::image_fetched)
BOSUN_MESSAGE(bosun::image_progress)
BOSUN_MESSAGE(bosun::image_subscribe)
BOSUN_MESSAGE(bosun::image_cleanup)
BOSUN_MESSAGE(bosun::image_cleanup_result)
BOSUN_MESSAGE(bosun::images_telemetry)
