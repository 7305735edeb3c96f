#pragma once

// Pure: the lines of one simulated pull and when each arrives, from the
// registry model. Layers are downloaded one after another at the model's
// bandwidth (each after one latency), then extracted at four times that;
// the progress lines are dockerd's ("Pulling fs layer", "Downloading" with
// current/total, "Verifying Checksum", "Download complete", "Extracting",
// "Pull complete", "Digest: ...", "Status: Downloaded newer image for ...").
// Layer ids and sizes depend on the image name only.
#include "tools/fleet-sim/sim_engine.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace bosun::sim {

struct pull_step {
  std::chrono::milliseconds at{0}; // since the pull began
  pull_progress line;
};

struct pull_plan {
  std::vector<pull_step> steps;
  std::chrono::milliseconds done{0}; // when the pull is over
  int64_t size = 0;                  // bytes
};

// `norm`: the normalised name. With `fail`, the plan stops half-way through
// the first layer's download (the caller then fails the pull).
pull_plan plan_pull(const std::string& norm, const registry_model& reg,
                    bool fail);

// The lines of a pull of an image already present ("Image is up to date").
pull_plan plan_up_to_date(const std::string& norm, const registry_model& reg);

} // namespace bosun::sim
