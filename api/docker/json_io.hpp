#pragma once

// RapidJSON reading and writing helpers for the Docker codec (private to
// api/docker). Reading checks every type before touching a value and reports
// failures by throwing json_error, which the public decode_* functions turn
// into decoded<T>::err; nothing here asserts on hostile input.
#include <cstdint>
#include <map>
#include <optional>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <string>
#include <string_view>
#include <vector>

namespace bosun::docker::json {

using value = rapidjson::Value;
using writer = rapidjson::Writer<rapidjson::StringBuffer>;

// A decoding failure; `what` is the whole message ("field 'X': ...").
struct json_error {
  std::string what;
};

[[noreturn]] void fail(const std::string& path, const std::string& why);

// Parses `text` (iteratively: deep nesting cannot overflow the stack).
// Throws json_error "offset N: <reason>" when it is not JSON.
void parse(rapidjson::Document& doc, std::string_view text);

// Path of a member / element, for error messages.
std::string child(const std::string& path, const char* key);
std::string index(const std::string& path, std::size_t i);
std::string entry(const std::string& path, const std::string& key);

const value& expect_object(const value& v, const std::string& path);
const value& expect_array(const value& v, const std::string& path);

// The member `key` of object `obj`, or nullptr when it is absent or null
// (Docker writes null for empty lists and maps).
const value* find(const value& obj, const char* key);

// ----------------------------------------------------------------- read --
// read(v, path, out) fills `out` from `v` or throws json_error; null reads as
// the zero value.

void read(const value& v, const std::string& path, std::string& out);
void read(const value& v, const std::string& path, bool& out);
void read(const value& v, const std::string& path, int64_t& out);

// Containers (vector, map, optional) and struct readers are templates and
// overloads in the decoding TU, so that they can see one another.

// Keys of an object whose values are ignored ({"80/tcp": {}} → ["80/tcp"]).
void keys(const value& obj, const std::string& path, const char* key,
          std::vector<std::string>& out);

// ---------------------------------------------------------------- write --

void put(writer& w, const char* key, const std::string& v);
void put(writer& w, const char* key, const char* v);
void put(writer& w, const char* key, bool v);
void put(writer& w, const char* key, int64_t v);
void put(writer& w, const char* key, const std::vector<std::string>& v);
void put(writer& w, const char* key,
         const std::map<std::string, std::string>& v);
// {"a": {}, "b": {}}
void put_keys(writer& w, const char* key, const std::vector<std::string>& v);

template <class T>
void put_opt(writer& w, const char* key, const std::optional<T>& v) {
  if (v)
    put(w, key, *v);
}

// Only when not empty.
void put_nonempty(writer& w, const char* key, const std::string& v);

void string(writer& w, const std::string& v);

} // namespace bosun::docker::json
