#pragma once

// --shard i/n: n fleet-sim processes (on n machines) together simulate one
// fleet of --devices N against one cloud; process i runs a deterministic
// slice of the device indices. The slices are contiguous, disjoint, cover
// 0..N-1 together, and their sizes differ by at most one. Pure.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bosun::fleet {

struct shard {
  size_t index = 0; // 0 ≤ index < count
  size_t count = 1;
};

// "i/n" (decimal, 0 ≤ i < n); std::nullopt with `why` otherwise.
std::optional<shard> parse_shard(std::string_view text,
                                 std::string* why = nullptr);

// The device indices [first, last) that shard `s` of a fleet of `total`
// devices runs.
struct index_range {
  size_t first = 0;
  size_t last = 0;
  size_t size() const {
    return last - first;
  }
};
index_range shard_range(size_t total, shard s);

} // namespace bosun::fleet
