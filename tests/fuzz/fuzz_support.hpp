#pragma once
// Helpers shared by the fuzz targets (tests/fuzz/*_fuzz.cpp).
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace bosun::fuzz {

// The bytes up to the next '\n' (all of them when there is none); `rest`
// moves past it.
inline std::string_view take_line(std::string_view& rest) {
  auto nl = rest.find('\n');
  auto line = rest.substr(0, nl);
  rest
    = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  return line;
}

// A failed check: says which and aborts (the replay prints the input).
[[noreturn]] inline void fail(const char* target, const char* what,
                              std::string_view detail = {}) {
  std::fprintf(stderr, "%s: %s %.*s\n", target, what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

} // namespace bosun::fuzz
