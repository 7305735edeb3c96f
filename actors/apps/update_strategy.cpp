#include "actors/apps/update_strategy.hpp"

#include <cctype>
#include <string>

namespace bosun {

namespace {

// The value of `io.balena.<key>`, else of `io.resin.<key>`, else null.
const std::string* label(const target_service& svc, const char* key) {
  const auto& labels = svc.config.labels;
  auto i = labels.find(std::string{"io.balena."} + key);
  if (i != labels.end())
    return &i->second;
  i = labels.find(std::string{"io.resin."} + key);
  if (i != labels.end())
    return &i->second;
  return nullptr;
}

} // namespace

const char* to_string(update_strategy x) {
  switch (x) {
    case update_strategy::download_then_kill:
      return "download-then-kill";
    case update_strategy::kill_then_download:
      return "kill-then-download";
    case update_strategy::delete_then_download:
      return "delete-then-download";
    case update_strategy::hand_over:
      return "hand-over";
  }
  return "download-then-kill";
}

update_strategy strategy_of(const target_service& svc) {
  const auto* value = label(svc, "update.strategy");
  if (value == nullptr)
    return update_strategy::download_then_kill;
  if (*value == "kill-then-download")
    return update_strategy::kill_then_download;
  if (*value == "delete-then-download")
    return update_strategy::delete_then_download;
  if (*value == "hand-over")
    return update_strategy::hand_over;
  // balena treats any other value as the default.
  return update_strategy::download_then_kill;
}

int64_t handover_timeout_ms(const target_service& svc, int64_t fallback) {
  const auto* value = label(svc, "update.handover-timeout");
  if (value == nullptr || value->empty() || value->size() > 18)
    return fallback;
  int64_t ms = 0;
  for (char c : *value) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0)
      return fallback;
    ms = ms * 10 + (c - '0');
  }
  return ms;
}

} // namespace bosun
