#include "tools/fleet-sim/shard.hpp"

#include <charconv>

namespace bosun::fleet {

namespace {

std::optional<size_t> number(std::string_view t) {
  size_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc{} || end != t.data() + t.size())
    return std::nullopt;
  return v;
}

} // namespace

std::optional<shard> parse_shard(std::string_view text, std::string* why) {
  auto fail = [why](const char* w) -> std::optional<shard> {
    if (why != nullptr)
      *why = w;
    return std::nullopt;
  };
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return fail("expected i/n, e.g. 0/4");
  auto i = number(text.substr(0, slash));
  auto n = number(text.substr(slash + 1));
  if (!i || !n)
    return fail("expected i/n with decimal numbers, e.g. 0/4");
  if (*n == 0)
    return fail("n must be at least 1");
  if (*i >= *n)
    return fail("i must be below n (shards are numbered from 0)");
  return shard{*i, *n};
}

index_range shard_range(size_t total, shard s) {
  if (s.count == 0 || s.index >= s.count)
    return {};
  // total = q·n + r: the first r shards run q + 1 devices, the others q.
  auto q = total / s.count;
  auto r = total % s.count;
  auto first = s.index * q + (s.index < r ? s.index : r);
  return {first, first + q + (s.index < r ? 1 : 0)};
}

} // namespace bosun::fleet
