#pragma once

// Target-state codecs: JSON documents ⇄ bosun::target_state
// (messages/target.hpp).
//
//  - decode_target_v3: the cloud's GET /device/v3/{uuid}/state body.
//  - decode_local_target / encode_local_target: POST and GET
//    /v2/local/target-state (the older "v2" shape the balena CLI uses).
//  - encode_target_json / decode_target_json: bosun's own persisted form;
//    decode_target_json(encode_target_json(t)) == t.
//
// Every decoder treats its input as hostile: it never asserts, throws or
// recurses without bound (documents nested deeper than 64 levels are refused
// before parsing). A rejected document gives the JSON path of the offending
// value and the rule it broke, e.g.
//   apps.d149….releases.217d….services.web: service name must match
//     ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$
//   apps.d149….releases.217d….services.web.environment."1BAD": env var name
//     must match ^[A-Za-z_]\w*$
//   apps.d149….id: expected an integer or numeric string
//   apps.d149….releases.217d….services.web.composition.networks.backend:
//     network not defined in the release
//   name: must be at most 255 characters without newlines
// Paths of a v3 document start below the device uuid; paths of a local
// document start with "local.". Keys that are not plain [A-Za-z0-9_-]+, and
// keys reported as invalid names, are JSON-quoted. Array items are `[i]`.
//
// Accepted but ignored input (unsupported compose keys, unknown network keys,
// null environment values, ...) is reported as decode_warning, e.g.
//   apps.<uuid>.releases.<commit>.services.web.composition.build:
//     unsupported compose key, ignored
//
// Compose keys may be snake_case (v3) or camelCase (balena's internal form,
// e.g. capAdd, networkMode, and nested ipv4Address / startPeriod / readOnly);
// both are accepted everywhere. A JSON number where compose expects a duration
// means seconds.
#include "messages/target.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bosun::cloud {

// Why a document was rejected: `path` (may be empty for the root) and `rule`.
struct decode_error {
  std::string path;
  std::string rule;
  // "path: rule", or just "rule" when the path is empty.
  std::string to_string() const {
    return path.empty() ? rule : path + ": " + rule;
  }
};

// The decoded target (with warnings), or the error.
struct target_result {
  std::optional<decoded_target> value;
  decode_error error; // meaningful only when !value
  explicit operator bool() const {
    return value.has_value();
  }
  decoded_target& operator*() {
    return *value;
  }
  const decoded_target& operator*() const {
    return *value;
  }
  decoded_target* operator->() {
    return &*value;
  }
  const decoded_target* operator->() const {
    return &*value;
  }
};

// Target state v3: {"<device uuid>": {"name", "config", "apps"}}.
// With `expected_uuid` set, the device entry must be that key (other keys are
// ignored); without it the document must hold exactly one device.
//  - name: string, ≤ 255 characters, no newline (required);
//  - config: {VAR: string}, VAR ^[A-Za-z_][A-Za-z0-9_:]*$; BALENA_/RESIN_
//    stripped (BALENA_ wins over RESIN_, both over an unprefixed key); only
//    SUPERVISOR_*, HOST_* and OVERRIDE_LOCK kept;
//  - apps: keyed by app uuid; only the first release of an app is used;
//    ids are integers or numeric strings; composition networks, volumes,
//    depends_on and network_mode "service:x" must name things the release
//    defines.
// The result's target has `source` set to `source`.
target_result decode_target_v3(std::string_view json,
                               target_source source = target_source::cloud,
                               std::string_view expected_uuid = {});

// POST /v2/local/target-state body: {"local": {"name"?, "config"?, "apps"?}}
// (also the GET answer {"status":"success","state":{"local":…}}).
// apps: {"<appId>": {"name", "commit", "releaseId", "services":
// {"<serviceId>": {"serviceName", "imageId", "serviceId"?, "image",
// "environment"?, "labels"?, "running"?, "contract"?, <compose keys>…}},
// "volumes", "networks"}}; "services" may also be a list of those objects,
// each with its "serviceId" (the GET answer's form). Every service key other
// than those listed is a compose key (as v3's composition). The app uuid is the
// decimal appId (see target_app). source = local; device_uuid empty.
target_result decode_local_target(std::string_view json);

// GET /v2/local/target-state answer:
// {"status":"success","state":{"local":{"name","config","apps":{…}}}},
// apps in the v2 shape above (keyed by appId; services a list, as the
// balena Supervisor answers, each with serviceName, serviceId, imageId,
// image, running, environment and labels; compose keys snake_case, defaults
// omitted). The config and name are the target's as given: the route fills
// in the device's current ones. decode_local_target accepts it back.
std::string encode_local_target(const target_state& t);

// bosun's persisted form of a target: a v3-like document with the source and
// the device uuid, every typed field kept:
//   {"format":1,"source":"cloud"|"local","uuid":…,"name":…,"config":{…},
//    "apps":{<uuid>:{"id","name","class","is_host","parent_app"?,
//            "releases":{<commit>:{"id","services","volumes","networks"}}}}}
// An app with an empty commit is written without a release.
std::string encode_target_json(const target_state& t);
target_result decode_target_json(std::string_view json);

} // namespace bosun::cloud
