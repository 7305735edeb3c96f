#pragma once

// The images actor: fetches images for services and cleans up unused ones.
//
// Owns: the fetches in flight (one per image, however many services asked),
// the pull queue (at most `max_pulls` pulls run at once), their progress, and
// the names it fetched (so cleanup removes only what bosun brought).
// Answers: images_actor (messages/images.hpp): image_fetch, image_cleanup,
// image_subscribe, get (telemetry).
// Emits: image_progress to subscribers while pulls run.
// A fetch: inspect by name (present → reply, no pull); a local-only name (no
// registry) that is absent fails at once; otherwise the image is queued and
// pulled, with its progress aggregated (image_logic::pull_tracker) and
// throttled. A failed attempt, including an error reported inside the pull
// stream ("manifest unknown"), is retried after backoff, up to `attempts`
// times; then every waiting fetch gets images_errc::fetch_failed with
// "Failed to download image '<name>' due to '<why>'".
// Never: removes an image a kept service uses, forces a removal, or blocks.
#include "messages/engine.hpp"
#include "messages/images.hpp"

#include <chrono>

namespace caf {
class actor_system;
class actor_system_config;
} // namespace caf

namespace bosun {

struct images_options {
  size_t max_pulls = 3;  // pulls running at once
  uint32_t attempts = 3; // pull attempts per fetch before it fails
  std::chrono::milliseconds backoff_initial{500}; // doubling after each failure
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
  std::chrono::milliseconds progress_interval{250}; // publishing throttle
  std::chrono::milliseconds request_timeout{std::chrono::seconds(60)};
  // One pull attempt at most (the engine also fails a pull silent for long).
  std::chrono::milliseconds pull_timeout{std::chrono::hours(2)};
};

images_actor spawn_images(caf::actor_system& sys, engine_actor engine,
                          images_options opts = {});

// Lets sys.render(e) print images errors as their message.
void add_images_error_renderer(caf::actor_system_config& cfg);

} // namespace bosun
