#pragma once

// Small rules the simulated engine's model shares (sim_world.cpp,
// sim_objects.cpp): its errors, Docker's name charset, list filters.
#include "messages/engine.hpp"

#include <algorithm>
#include <string>

namespace bosun::sim::rules {

inline caf::error fail(engine_errc code, std::string msg) {
  return caf::make_error(code, std::move(msg));
}

// What the engine actor makes of dockerd's 403 (engine_logic::from_status).
inline caf::error forbidden(const std::string& msg) {
  return fail(engine_errc::bad_request, "HTTP 403: " + msg);
}

inline bool starts_with(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

// [a-zA-Z0-9][a-zA-Z0-9_.-]+ (Docker's container and volume name rule).
inline bool valid_name(const std::string& n) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
  };
  if (n.size() < 2 || !alnum(n[0]))
    return false;
  return std::all_of(n.begin() + 1, n.end(), [&](char c) {
    return alnum(c) || c == '_' || c == '.' || c == '-';
  });
}

inline const string_list* filter(const engine_filters& f,
                                 const std::string& key) {
  auto i = f.find(key);
  return i == f.end() ? nullptr : &i->second;
}

// Label filter values: "k" or "k=v", all of them.
inline bool labels_match(const string_map& labels, const string_list& wanted) {
  for (const auto& w : wanted) {
    auto eq = w.find('=');
    auto i = labels.find(w.substr(0, eq));
    if (i == labels.end()
        || (eq != std::string::npos && i->second != w.substr(eq + 1)))
      return false;
  }
  return true;
}

} // namespace bosun::sim::rules
