#pragma once

// The actor telemetry snapshot as the device API serves it: JSON for
// GET /v2/telemetry and Prometheus text (exposition format 0.0.4) for
// GET /metrics. Pure: unit-tested without a server.
#include "api/server/auth.hpp"
#include "messages/telemetry.hpp"

#include <string>
#include <string_view>

namespace bosun {

// What a key may see: the global key sees everything; an app-scoped key
// sees the agent's own actors, and the services and supervisors of its app
// only.
telemetry_snapshot in_scope(telemetry_snapshot s, const auth::scope& scope);

// {"actors":[...],"services":[...],"apps":{...},"engine":{...},
//  "process":{...},"actorsRunning":n,"collectedAt":t,"collectionMs":x}
std::string encode_telemetry_json(const telemetry_snapshot& s);

// Every figure of the snapshot as bosun_* counters and gauges with labels;
// each family's # HELP and # TYPE come once, before its samples.
std::string encode_metrics(const telemetry_snapshot& s);

// A label value with \, " and newline escaped as the format asks.
std::string prometheus_escape(std::string_view v);

inline constexpr const char* metrics_content_type
  = "text/plain; version=0.0.4; charset=utf-8";

} // namespace bosun
