// libFuzzer target: arbitrary bytes through the cloud codecs (api/cloud): the
// target state decoders, the compose string parsers and the provisioning
// answers. Build and run: docs/fuzz.md.
//
// An input is read as
//   byte 0   which decoder gets the rest (modulo the table below)
//   the rest the bytes
// and checks, besides "no crash, no exception, no sanitizer report":
//  - a target any decoder accepts survives bosun's persisted form:
//    decode_target_json(encode_target_json(t)) == t (what the database keeps
//    is what was accepted), and the local form is accepted back;
//  - a compose string a parser accepts is formatted and parsed back to the
//    same value (durations, port and volume specs), shell_split never gives
//    an argument with a NUL it was not given;
//  - edit_config_json of an accepted document is itself accepted again.
#include "api/cloud/compose_parse.hpp"
#include "api/cloud/device_api.hpp"
#include "api/cloud/target_codec.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace cloud = bosun::cloud;

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  bosun::fuzz::fail("cloud_fuzz", what, detail);
}

void persisted_round_trip(const cloud::target_result& r) {
  if (!r)
    return;
  const auto& t = r->target;
  auto text = cloud::encode_target_json(t);
  auto back = cloud::decode_target_json(text);
  if (!back)
    fail("the persisted form was refused:", back.error.to_string());
  if (!(back->target == t))
    fail("the persisted form changed the target:", text);
  // The GET /v2/local/target-state answer is accepted by its POST.
  if (t.source == bosun::target_source::local) {
    auto local = cloud::decode_local_target(cloud::encode_local_target(t));
    if (!local)
      fail("the local form was refused:", local.error.to_string());
  }
}

template <class T, class Format>
void compose_round_trip(const cloud::parsed<T>& p, Format format,
                        cloud::parsed<T> (*parse)(std::string_view)) {
  if (!p)
    return;
  auto text = format(*p);
  auto again = parse(text);
  if (!again)
    fail("a formatted compose value was refused:", text);
  if (!(*again == *p))
    fail("a formatted compose value reads back differently:", text);
}

void compose(std::string_view s) {
  if (auto argv = cloud::shell_split(s); argv && s.find('\0') == s.npos)
    for (const auto& a : *argv)
      if (a.find('\0') != std::string::npos)
        fail("shell_split made up a NUL");
  compose_round_trip(cloud::parse_duration_ns(s), cloud::format_duration_ns,
                     cloud::parse_duration_ns);
  (void)cloud::parse_byte_size(s);
  compose_round_trip(cloud::parse_port_spec(s), cloud::format_port_spec,
                     cloud::parse_port_spec);
  compose_round_trip(cloud::parse_volume_spec(s), cloud::format_volume_spec,
                     cloud::parse_volume_spec);
  (void)cloud::camel_to_snake(s);
}

void config_json(std::string_view s) {
  cloud::config_json_edit edit;
  edit.set["uuid"] = std::string{"fuzz"};
  edit.set["deviceId"] = int64_t{42};
  edit.remove.push_back("apiKey");
  auto r = cloud::edit_config_json(s, edit);
  if (r.text) {
    auto again = cloud::edit_config_json(*r.text, edit);
    if (!again.text)
      fail("an edited config.json was refused:", again.error);
    if (*again.text != *r.text)
      fail("editing config.json twice is not idempotent:", *r.text);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  std::string_view bytes{reinterpret_cast<const char*>(data + 1), size - 1};
  switch (data[0] % 8) {
    case 0:
      persisted_round_trip(cloud::decode_target_v3(bytes));
      break;
    case 1:
      persisted_round_trip(cloud::decode_target_v3(
        bytes, bosun::target_source::cloud, "fuzzdevice"));
      break;
    case 2:
      persisted_round_trip(cloud::decode_local_target(bytes));
      break;
    case 3:
      persisted_round_trip(cloud::decode_target_json(bytes));
      break;
    case 4:
      compose(bytes);
      break;
    case 5:
      (void)cloud::decode_registered_id(bytes);
      (void)cloud::decode_device_query_id(bytes);
      break;
    default:
      config_json(bytes);
      break;
  }
  return 0;
}
