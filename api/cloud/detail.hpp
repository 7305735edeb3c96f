#pragma once

// Internal to api/cloud: checked RapidJSON access with JSON paths, shared by
// the target decoders. Decoding code throws `failure` (caught at the public
// entry points and turned into a decode_error); nothing escapes api/cloud.
#include "api/cloud/target_codec.hpp"
#include "api/json_writer.hpp"

#include <map>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::cloud::detail {

using json = rapidjson::Value;
using writer = json_out::writer;

struct failure {
  std::string path;
  std::string rule;
};

[[noreturn]] void fail(std::string path, std::string rule);

// Path building: `child("apps", "d149")` → "apps.d149"; keys outside
// [A-Za-z0-9_-]+ (or with force_quote) are JSON-quoted: `environment."1BAD"`.
std::string child(const std::string& path, std::string_view key,
                  bool force_quote = false);
std::string item(const std::string& path, size_t index);

// Parses with the iterative parser after checking the nesting depth, UTF-8
// validated; fails with path "" and "invalid JSON at offset N: <reason>".
void parse_document(rapidjson::Document& doc, std::string_view text);

// True when `text` opens more than `limit` objects or arrays inside each
// other (strings skipped). Checked before parsing: the parser recurses.
bool nested_deeper_than(std::string_view text, size_t limit);

std::string_view view(const json& v); // v must be a string
const json* find(const json& obj, std::string_view key);

const json& expect_object(const json& v, const std::string& path);
const json& expect_array(const json& v, const std::string& path);
std::string expect_string(const json& v, const std::string& path);
bool expect_bool(const json& v, const std::string& path);
// Non-negative integer, as a number or a numeric string.
int64_t expect_id(const json& v, const std::string& path);
// Signed integer, as a number or a numeric string.
int64_t expect_int(const json& v, const std::string& path);
// Any number, or a numeric string.
double expect_double(const json& v, const std::string& path);
// A string, a number or a boolean, as text ("1", "1.5", "true").
std::string expect_scalar(const json& v, const std::string& path);
// [str, ...]; with allow_single, a lone string gives [s].
std::vector<std::string> expect_string_list(const json& v,
                                            const std::string& path,
                                            bool allow_single = false);
// {k: scalar} → map, or (with allow_list) ["k=v", ...].
std::map<std::string, std::string> expect_string_map(const json& v,
                                                     const std::string& path,
                                                     bool allow_list = false);

struct context {
  std::vector<decode_warning> warnings;
  void warn(std::string path, std::string message) {
    warnings.push_back({std::move(path), std::move(message)});
  }
};

// What a release defines, for cross-references from its services.
struct release_names {
  std::set<std::string> services;
  std::set<std::string> volumes;
  std::set<std::string> networks; // "default" is always implicitly there
};

// Applies one compose key (already snake_case) of a service; returns false
// for an unsupported key (the caller warns).
bool decode_compose_key(service_config& cfg, std::string_view key,
                        const json& value, const std::string& path,
                        const release_names& names, context& ctx);

// Environment: {NAME: scalar|null} or ["NAME=v", "NAME"]; names checked;
// null / valueless entries are skipped with a warning. Entries are written
// over `into` (so a later call overrides).
void decode_environment(std::map<std::string, std::string>& into, const json& v,
                        const std::string& path, context& ctx);
// Labels: {k: scalar} or ["k=v"]; written over `into`.
void decode_labels(std::map<std::string, std::string>& into, const json& v,
                   const std::string& path);

// A contract object as compact JSON text.
std::string compact_json(const json& v);

// Writes a service's compose keys (snake_case, defaults omitted); with
// with_env_labels, also "environment" and "labels".
void write_composition(writer& w, const service_config& cfg,
                       bool with_env_labels);

} // namespace bosun::cloud::detail
