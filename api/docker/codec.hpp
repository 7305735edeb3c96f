#pragma once

// Docker Engine API v1.41 codec: request targets, request bodies and response
// decoding for the types in messages/engine_types.hpp.
//
// Pure functions, no I/O. Every decoder treats its input as hostile: it never
// asserts or throws, and a failure names where it happened, e.g.
//   "offset 12: Invalid value."                   (not JSON)
//   "field 'State.ExitCode': expected integer"    (wrong type)
//   "field 'Id': missing"                         (required field absent)
// Only identity fields are required (Id, Name, ...); any other missing field
// decodes to its zero value (or stays a disengaged optional), since Docker
// omits empty fields freely.
#include "messages/engine_types.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::docker {

// Every target below starts with this prefix.
inline constexpr std::string_view api_prefix = "/v1.41";

// A decoded value or why not. `err` is set on failure; `value` is then
// meaningless.
template <class T>
struct decoded {
  std::optional<std::string> err;
  T value{};
  explicit operator bool() const {
    return !err;
  }
  T& operator*() {
    return value;
  }
  const T& operator*() const {
    return value;
  }
  T* operator->() {
    return &value;
  }
  const T* operator->() const {
    return &value;
  }
};

// ------------------------------------------------------------- helpers --

// Percent-encodes everything except RFC 3986 unreserved characters
// (A-Z a-z 0-9 - . _ ~), for both path segments and query values.
std::string url_escape(std::string_view s);

// base64url (RFC 4648 §5, "-_" alphabet) with '=' padding, as Docker expects
// in X-Registry-Auth.
std::string base64url(std::string_view bytes);

// {"key":["v1","v2"]} as used by ?filters= on list and events endpoints.
using filter_map = std::map<std::string, string_list>;
std::string encode_filters(const filter_map& filters);

// X-Registry-Auth header value: base64url of
// {"username","password","serveraddress"[,"identitytoken"]}.
std::string registry_auth_header(const registry_auth& auth);

// -------------------------------------------------------------- targets --
// Request targets (path + query, escaped), ready for http::request::target.
// Optional query parameters are left out when they have their default value.

std::string ping_target();    // GET  /_ping
std::string version_target(); // GET  /version
std::string info_target();    // GET  /info

// GET /containers/json?all=1&filters=...
std::string list_containers_target(bool all, const filter_map& filters = {});
// POST /containers/create[?name=...]; body encode(container_create)
std::string create_container_target(std::string_view name);
// GET /containers/{id}/json
std::string inspect_container_target(std::string_view id);
// POST /containers/{id}/start
std::string start_container_target(std::string_view id);
// POST /containers/{id}/stop[?t=seconds]
std::string stop_container_target(std::string_view id,
                                  std::optional<int64_t> timeout_s = {});
// POST /containers/{id}/restart[?t=seconds]
std::string restart_container_target(std::string_view id,
                                     std::optional<int64_t> timeout_s = {});
// POST /containers/{id}/kill[?signal=...]
std::string kill_container_target(std::string_view id,
                                  std::string_view signal = {});
// DELETE /containers/{id}[?force=1][&v=1]
std::string remove_container_target(std::string_view id, bool force = false,
                                    bool remove_volumes = false);
// POST /containers/{id}/rename?name=...
std::string rename_container_target(std::string_view id,
                                    std::string_view new_name);
// POST /containers/{id}/update; body encode(container_update)
std::string update_container_target(std::string_view id);
// POST /containers/{id}/wait[?condition=not-running|next-exit|removed]
std::string wait_container_target(std::string_view id,
                                  std::string_view condition = {});
// GET /containers/{id}/logs?stdout=1&stderr=1[&follow=1][&timestamps=1]...
std::string logs_target(std::string_view id,
                        const container_logs_options& opts);

// GET /images/json[?filters=...]
std::string list_images_target(const filter_map& filters = {});
// GET /images/{name}/json (name may contain '/' and ':'; kept readable)
std::string inspect_image_target(std::string_view name);
// POST /images/create?fromImage=...[&tag=...]; add header
// X-Registry-Auth: registry_auth_header(*pull.auth) when auth is set.
std::string pull_image_target(const image_pull& pull);
// POST /images/{name}/tag?repo=...[&tag=...]
std::string tag_image_target(std::string_view name, const image_tag& tag);
// DELETE /images/{name}[?force=1][&noprune=1]
std::string remove_image_target(std::string_view name, bool force = false,
                                bool no_prune = false);

// GET /volumes[?filters=...]
std::string list_volumes_target(const filter_map& filters = {});
// POST /volumes/create; body encode(volume_create)
std::string create_volume_target();
// GET /volumes/{name}
std::string inspect_volume_target(std::string_view name);
// DELETE /volumes/{name}[?force=1]
std::string remove_volume_target(std::string_view name, bool force = false);

// GET /networks[?filters=...]
std::string list_networks_target(const filter_map& filters = {});
// POST /networks/create; body encode(network_create)
std::string create_network_target();
// GET /networks/{id}
std::string inspect_network_target(std::string_view id);
// DELETE /networks/{id}
std::string remove_network_target(std::string_view id);
// POST /networks/{id}/connect; body encode(network_connect)
std::string connect_network_target(std::string_view id);
// POST /networks/{id}/disconnect; body encode(network_disconnect)
std::string disconnect_network_target(std::string_view id);

// GET /events[?since=..][&until=..][&filters=...]
std::string events_target(const events_query& query);

// --------------------------------------------------------------- encode --
// Request bodies (compact JSON). Disengaged optionals are left out.

std::string encode(const container_create& c); // Config + HostConfig + ...
std::string encode(const container_update& u);
std::string encode(const volume_create& v);
std::string encode(const network_create& n);
std::string encode(const network_connect& n);
std::string encode(const network_disconnect& n);

// --------------------------------------------------------------- decode --
// Response bodies.

decoded<engine_version> decode_version(std::string_view json);
decoded<engine_info> decode_info(std::string_view json);

decoded<container_list> decode_container_list(std::string_view json);
decoded<container_inspect> decode_container_inspect(std::string_view json);
decoded<container_create_result>
decode_container_create_result(std::string_view json);
decoded<container_update_result>
decode_container_update_result(std::string_view json);
decoded<container_wait_result> decode_wait_result(std::string_view json);

decoded<image_list> decode_image_list(std::string_view json);
decoded<image_inspect> decode_image_inspect(std::string_view json);
decoded<image_delete_result> decode_image_delete_result(std::string_view json);
// One line of the POST /images/create stream.
decoded<pull_progress> decode_pull_progress(std::string_view line);

decoded<volume_info> decode_volume(std::string_view json);
decoded<volume_list> decode_volume_list(std::string_view json);

decoded<network_info> decode_network(std::string_view json);
decoded<network_infos> decode_network_list(std::string_view json);
decoded<network_create_result>
decode_network_create_result(std::string_view json);

// One line of the GET /events stream.
decoded<engine_event> decode_event(std::string_view line);

// The message of an error response: {"message": "..."} → "...". Never fails:
// a body that is not such JSON comes back trimmed (or "HTTP error" when
// empty), so the caller always has something to report.
std::string error_message(std::string_view body);

// Request bodies decoded back into their structs: for round-trip tests and
// for fake engines in tests. The container name is not in the body.
decoded<container_create> decode_container_create(std::string_view json);
decoded<network_create> decode_network_create(std::string_view json);
decoded<volume_create> decode_volume_create(std::string_view json);

} // namespace bosun::docker
