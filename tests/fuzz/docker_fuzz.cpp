// libFuzzer target: arbitrary bytes through the Docker Engine API codec as
// bosun reads the engine's answers (api/docker, api/client/wire). Build and
// run: docs/fuzz.md.
//
// An input is read as
//   byte 0   which decoder gets the rest (modulo the table below)
//   byte 1   the seed of the byte splits the streaming decoders are fed in
//   the rest the bytes
// and checks, besides "no crash, no exception, no sanitizer report":
//  - every response decoder (version, info, containers, images, volumes,
//    networks, pull progress, events, wait, errors) takes the bytes;
//  - the streaming decoders (the NDJSON splitter of /events and
//    /images/create, the multiplexed and raw log demuxer, the HTTP response
//    parser with chunked framing) give the same units whether the bytes come
//    at once or in pieces, and each NDJSON line goes through decode_event and
//    decode_pull_progress as the engine actor feeds them;
//  - error_message never returns an empty message.
#include "api/client/wire.hpp"
#include "api/docker/codec.hpp"
#include "api/docker/stream.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace docker = bosun::docker;
namespace wire = bosun::http::wire;

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  bosun::fuzz::fail("docker_fuzz", what, detail);
}

// Cuts `bytes` into pieces of 1..16 bytes, the sizes from a tiny LCG seeded
// with `seed`: the same input always splits the same way.
std::vector<std::string_view> pieces(std::string_view bytes, uint8_t seed) {
  std::vector<std::string_view> out;
  uint32_t state = seed + 1u;
  while (!bytes.empty()) {
    state = state * 1103515245u + 12345u;
    auto n = std::min<size_t>(bytes.size(), 1 + (state >> 16) % 16);
    out.push_back(bytes.substr(0, n));
    bytes.remove_prefix(n);
  }
  return out;
}

void ndjson(std::string_view bytes, uint8_t seed) {
  // A small line limit, so that the limit is reached too.
  docker::ndjson_splitter whole{4096}, split{4096};
  auto lines = whole.feed(bytes);
  std::vector<std::string> split_lines;
  for (auto p : pieces(bytes, seed))
    for (auto& l : split.feed(p))
      split_lines.push_back(std::move(l));
  if (whole.error().has_value() != split.error().has_value())
    fail("ndjson: the error depends on how the bytes were split");
  if (!whole.error() && lines != split_lines)
    fail("ndjson: the lines depend on how the bytes were split");
  for (const auto& l : lines) {
    if (l.empty() || l.find('\n') != std::string::npos)
      fail("ndjson: an empty line or a line with a newline came out");
    (void)docker::decode_event(l);
    (void)docker::decode_pull_progress(l);
  }
  if (auto last = whole.finish())
    (void)docker::decode_event(*last);
}

void demux(std::string_view bytes, uint8_t seed) {
  for (auto m : {docker::log_demuxer::mode::multiplexed,
                 docker::log_demuxer::mode::raw}) {
    docker::log_demuxer whole{m, 1 << 16}, split{m, 1 << 16};
    auto frames = whole.feed(bytes);
    std::vector<docker::log_frame> split_frames;
    for (auto p : pieces(bytes, seed))
      for (auto& f : split.feed(p))
        split_frames.push_back(std::move(f));
    bool whole_ok = whole.finish();
    bool split_ok = split.finish();
    if (whole_ok != split_ok
        || whole.error().has_value() != split.error().has_value())
      fail("demux: the outcome depends on how the bytes were split");
    if (m == docker::log_demuxer::mode::multiplexed && frames != split_frames)
      fail("demux: the frames depend on how the bytes were split");
    if (m == docker::log_demuxer::mode::raw) {
      std::string a, b;
      for (const auto& f : frames)
        a += f.data;
      for (const auto& f : split_frames)
        b += f.data;
      if (a != b || a != bytes)
        fail("demux: raw mode changed the bytes");
    }
    for (const auto& f : frames) {
      auto t = docker::split_timestamp(f.data);
      if (t.timestamp.size() + t.message.size() > f.data.size())
        fail("split_timestamp: parts longer than the line");
    }
  }
}

struct body_sink : wire::response_sink {
  int status = 0;
  std::string body;
  void on_head(int s, bosun::http::header_list&) override {
    status = s;
  }
  bool on_body(std::string_view piece) override {
    body.append(piece);
    return body.size() < (1 << 20);
  }
};

using parse_state = wire::response_parser::state;

parse_state parse(const std::vector<std::string_view>& chunks, bool head,
                  body_sink& sink) {
  wire::response_parser p{sink, head};
  auto s = parse_state::more;
  for (auto c : chunks) {
    s = p.feed(c);
    if (s != parse_state::more)
      break;
  }
  if (s == parse_state::more)
    s = p.feed_eof();
  return s;
}

void response(std::string_view bytes, uint8_t seed) {
  for (bool head : {false, true}) {
    body_sink whole_sink, split_sink;
    auto whole = parse({bytes}, head, whole_sink);
    auto split = parse(pieces(bytes, seed), head, split_sink);
    if (whole != split)
      fail("http: the state depends on how the bytes were split");
    if (whole != parse_state::failed
        && (whole_sink.status != split_sink.status
            || whole_sink.body != split_sink.body))
      fail("http: the body depends on how the bytes were split");
    if (whole == parse_state::complete) {
      // What the engine actor does with a complete answer.
      (void)docker::error_message(whole_sink.body);
      docker::ndjson_splitter lines;
      for (const auto& l : lines.feed(whole_sink.body))
        (void)docker::decode_event(l);
    }
  }
}

void decode(uint8_t which, std::string_view b) {
  switch (which) {
    case 0:
      (void)docker::decode_version(b);
      break;
    case 1:
      (void)docker::decode_info(b);
      break;
    case 2:
      (void)docker::decode_container_list(b);
      break;
    case 3:
      (void)docker::decode_container_inspect(b);
      break;
    case 4:
      (void)docker::decode_container_create_result(b);
      break;
    case 5:
      (void)docker::decode_container_update_result(b);
      break;
    case 6:
      (void)docker::decode_wait_result(b);
      break;
    case 7:
      (void)docker::decode_image_list(b);
      break;
    case 8:
      (void)docker::decode_image_inspect(b);
      break;
    case 9:
      (void)docker::decode_image_delete_result(b);
      break;
    case 10:
      (void)docker::decode_pull_progress(b);
      break;
    case 11:
      (void)docker::decode_volume(b);
      break;
    case 12:
      (void)docker::decode_volume_list(b);
      break;
    case 13:
      (void)docker::decode_network(b);
      break;
    case 14:
      (void)docker::decode_network_list(b);
      break;
    case 15:
      (void)docker::decode_network_create_result(b);
      break;
    case 16:
      (void)docker::decode_event(b);
      break;
    case 17:
      (void)docker::decode_container_create(b);
      break;
    case 18:
      (void)docker::decode_network_create(b);
      break;
    default:
      (void)docker::decode_volume_create(b);
      break;
  }
  if (docker::error_message(b).empty())
    fail("error_message returned an empty message");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  std::string_view bytes{reinterpret_cast<const char*>(data + 2), size - 2};
  auto which = static_cast<uint8_t>(data[0] % 23);
  auto seed = data[1];
  if (which < 20)
    decode(which, bytes);
  else if (which == 20)
    ndjson(bytes, seed);
  else if (which == 21)
    demux(bytes, seed);
  else
    response(bytes, seed);
  return 0;
}
