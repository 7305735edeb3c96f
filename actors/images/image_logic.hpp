#pragma once

// Pure helpers of the images actor: image names, pull progress aggregation,
// progress throttling, retry backoff and the cleanup choice. No CAF, no I/O,
// no clock of their own (time is passed in).
#include "messages/engine_types.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::image_logic {

// The form Docker lists an image under, so that two spellings of one image
// compare equal: a missing tag becomes ":latest" (unless a digest is given),
// "docker.io/" and "docker.io/library/" are dropped, and a tag next to a
// digest is dropped (the digest wins, as in Docker). Ids ("sha256:…") are
// returned as they are.
//   "busybox"                            -> "busybox:latest"
//   "docker.io/library/busybox:1"        -> "busybox:1"
//   "127.0.0.1:5000/x"                   -> "127.0.0.1:5000/x:latest"
//   "reg/x:1@sha256:ab"                  -> "reg/x@sha256:ab"
std::string normalise_name(std::string_view name);

// Whether the name starts with a registry ("host.domain/…", "host:port/…",
// "localhost/…"). Images without one (the balena CLI's "local_image_web:
// latest") are built on the device and never pulled.
bool has_registry(std::string_view name);

// "sha256:<hex>": an image id rather than a name.
bool is_image_id(std::string_view s);

// The wait before retry number `failures` (1 = after the first failure):
// initial, doubling, capped at max.
std::chrono::milliseconds retry_delay(uint32_t failures,
                                      std::chrono::milliseconds initial,
                                      std::chrono::milliseconds max);

// "Failed to download image '<image>' due to '<why>'" (balena's wording).
std::string fetch_failure_message(std::string_view image, std::string_view why);

// Aggregates the per-layer lines of one pull stream into one percent.
//
// Each layer to download counts with its size (the total of its
// Downloading/Extracting lines; a layer whose size is not known yet counts
// with the mean of the known sizes, or 1 when none is known); a layer that
// "Already exists" on the engine is no part of the download and does not
// count. A layer is half done when its download is ("Download complete",
// "Verifying Checksum", or current == total), fully done on "Pull
// complete"; in between, download and extraction each give half of
// current/total. The result is floor(100 * done / sizes), at most 99 until
// finish() is called (the engine tells the layers one by one: those told so
// far being complete does not make the pull done), and never goes down
// during one pull.
class pull_tracker {
public:
  void add(const pull_progress& line);

  // The pull ended successfully: 100 from now on.
  void finish();

  int percent() const {
    return high_;
  }

  size_t layers() const {
    return layers_.size();
  }

private:
  struct layer {
    std::optional<int64_t> total;
    int64_t downloaded = 0;
    int64_t extracted = 0;
    bool download_done = false;
    bool done = false;
    bool present = false; // "Already exists"
  };
  int compute() const;

  std::map<std::string, layer> layers_;
  int high_ = 0;
};

// Decides when a progress percent is published: on a change of whole
// percent, at most once per `interval`; 100 at once.
struct progress_throttle {
  using clock = std::chrono::steady_clock;

  struct decision {
    bool send = false;
    // When not sending: the wait after which the value may be sent
    // (zero = nothing to send: unchanged).
    std::chrono::milliseconds wait{0};
  };

  explicit progress_throttle(std::chrono::milliseconds interval
                             = std::chrono::milliseconds(250))
      : interval_(interval) {}

  decision decide(int percent, clock::time_point now) const;

  // Record that `percent` was published at `now`.
  void sent(int percent, clock::time_point now) {
    last_ = percent;
    last_time_ = now;
  }

  int last() const {
    return last_;
  }

private:
  std::chrono::milliseconds interval_;
  int last_ = -1;
  clock::time_point last_time_{};
};

// What an image cleanup removes, chosen from the engine's image list.
struct cleanup_plan {
  // Fetched names not kept: of images nothing keeps, or of kept images that
  // keep a kept tag after this one goes (the engine then only untags).
  string_list remove_names;
  string_list remove_ids; // dangling images (no tag, no digest) not kept
  string_list forget;     // fetched names the engine no longer has
};

// `keep`: names or ids of every image a current or target service uses.
// `fetched`: names bosun fetched (normalised or not).
cleanup_plan plan_cleanup(const image_list& images, const string_list& keep,
                          const string_list& fetched);

} // namespace bosun::image_logic
