// NDJSON splitting (events, pull progress) and log demultiplexing, with the
// input split at every byte boundary.
#include "api/docker/codec.hpp"
#include "api/docker/stream.hpp"
#include "data.hpp"

#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::docker;
using bosun::docker::test::load;

namespace {

std::vector<std::string> split_all(std::string_view in,
                                   std::size_t max_line
                                   = ndjson_splitter::default_max_line) {
  ndjson_splitter s(max_line);
  auto lines = s.feed(in);
  if (auto last = s.finish())
    lines.push_back(*last);
  return lines;
}

// Feeds [0,k) then [k,n) and finishes.
std::vector<std::string> split_at(std::string_view in, std::size_t k,
                                  ndjson_splitter& s) {
  auto lines = s.feed(in.substr(0, k));
  auto more = s.feed(in.substr(k));
  lines.insert(lines.end(), more.begin(), more.end());
  if (auto last = s.finish())
    lines.push_back(*last);
  return lines;
}

std::vector<log_frame> demux_at(std::string_view in, std::size_t k,
                                log_demuxer& d) {
  auto frames = d.feed(in.substr(0, k));
  auto more = d.feed(in.substr(k));
  frames.insert(frames.end(), more.begin(), more.end());
  return frames;
}

std::string frame(uint8_t stream, std::string_view payload) {
  std::string out{static_cast<char>(stream), 0, 0, 0};
  auto n = static_cast<uint32_t>(payload.size());
  out += static_cast<char>(n >> 24 & 0xFF);
  out += static_cast<char>(n >> 16 & 0xFF);
  out += static_cast<char>(n >> 8 & 0xFF);
  out += static_cast<char>(n & 0xFF);
  out += payload;
  return out;
}

} // namespace

TEST_SUITE("ndjson_splitter") {
  TEST_CASE("splits the recorded event stream into decodable events") {
    auto text = load("events.ndjson");
    auto lines = split_all(text);
    REQUIRE(lines.size() == 64);
    std::vector<engine_event> events;
    for (auto& l : lines) {
      auto e = decode_event(l);
      REQUIRE_MESSAGE(e, e.err.value_or("") << " in " << l);
      events.push_back(*e);
    }
    CHECK(events[0].type == "network");
    CHECK(events[0].action == "create");
    CHECK(events[0].attributes.at("name") == "rec_net");
    CHECK(events[0].scope == "local");
    CHECK(events[0].time == 1795432507);
    CHECK(events[0].time_nano == 1795432507438151902);
    int dies = 0, health = 0, execs = 0;
    for (auto& e : events) {
      if (e.type == "container" && e.action == "die") {
        ++dies;
        CHECK(!e.attributes.at("exitCode").empty());
        CHECK(!e.actor_id.empty());
      }
      if (e.action == "health_status: healthy") {
        ++health;
        CHECK(e.attributes.at("io.balena.service-name") == "main");
      }
      if (e.action.rfind("exec_start: ", 0) == 0)
        ++execs;
    }
    CHECK(dies == 3);
    CHECK(health == 1);
    CHECK(execs >= 1);
  }

  TEST_CASE("gives the same lines whatever the split") {
    auto text = load("events.ndjson");
    text = text.substr(0, 3000); // keep the n^2 loop fast
    text += "{\"tail\":1}";      // unterminated last record
    auto whole = split_all(text);
    REQUIRE(whole.size() >= 5);
    for (std::size_t k = 0; k <= text.size(); ++k) {
      ndjson_splitter s;
      auto got = split_at(text, k, s);
      REQUIRE_MESSAGE(got == whole, "split at " << k);
    }
  }

  TEST_CASE("handles CRLF, empty lines and byte-at-a-time input") {
    std::string text = "{\"a\":1}\r\n\r\n\n{\"b\":2}\r\n{\"c\":3}";
    std::vector<std::string> want{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"};
    CHECK(split_all(text) == want);
    for (std::size_t k = 0; k <= text.size(); ++k) {
      ndjson_splitter s;
      REQUIRE(split_at(text, k, s) == want);
    }
    ndjson_splitter s;
    std::vector<std::string> got;
    for (char c : text)
      for (auto& l : s.feed(std::string_view(&c, 1)))
        got.push_back(l);
    CHECK(s.pending() == 7);
    got.push_back(*s.finish());
    CHECK(got == want);
  }

  TEST_CASE("fails for good on a line over the cap, whatever the split") {
    std::string text = "12345\r\n123456\n1234567\nabc\n";
    for (std::size_t k = 0; k <= text.size(); ++k) {
      ndjson_splitter s(6);
      auto got = split_at(text, k, s);
      REQUIRE(got == std::vector<std::string>{"12345", "123456"});
      REQUIRE(s.error());
      CHECK(*s.error() == "line longer than 6 bytes");
    }
    ndjson_splitter s(4);
    CHECK(s.feed("12345").empty()); // may still be "1234\r"
    CHECK_FALSE(s.error());
    CHECK(s.feed("6").empty());
    CHECK(s.error());
    CHECK(s.feed("\nok\n").empty()); // stays failed
  }

  TEST_CASE("decodes pull progress, including a failure inside the stream") {
    auto ok = split_all(load("pull_progress_layers.ndjson"));
    REQUIRE(ok.size() == 10);
    auto first = decode_pull_progress(ok[0]);
    REQUIRE(first);
    CHECK(first->status == "Pulling from big");
    CHECK(first->id == "1");
    CHECK_FALSE(first->current);
    auto fs = decode_pull_progress(ok[1]);
    REQUIRE(fs);
    CHECK(fs->status == "Pulling fs layer");
    CHECK_FALSE(fs->total); // progressDetail {}
    auto dl = decode_pull_progress(ok[2]);
    REQUIRE(dl);
    CHECK(dl->status == "Downloading");
    CHECK(dl->id == "fb798131b71d");
    CHECK(dl->current == 36445);
    CHECK(dl->total == 3001196);
    CHECK(dl->progress.find("36.45kB/3.001MB") != std::string::npos);
    CHECK(dl->progress.find('>') != std::string::npos); // \u003e
    for (auto& l : ok) {
      auto p = decode_pull_progress(l);
      REQUIRE(p);
      CHECK_FALSE(p->error);
    }
    auto small = split_all(load("pull_progress.ndjson"));
    REQUIRE(small.size() == 3);
    CHECK(decode_pull_progress(small[2])->status
          == "Status: Downloaded newer image for 127.0.0.1:5001/busybox:1");

    auto bad = split_all(load("pull_progress_error.ndjson"));
    REQUIRE(bad.size() == 5);
    auto err = decode_pull_progress(bad.back());
    REQUIRE(err); // a valid line that reports a failure
    REQUIRE(err->error);
    CHECK(err->error->rfind("filesystem layer verification failed", 0) == 0);
    auto only_error = decode_pull_progress(R"({"error":"boom"})");
    REQUIRE(only_error);
    CHECK(only_error->error == "boom");
  }
}

TEST_SUITE("log_demuxer") {
  TEST_CASE("demultiplexes recorded non-TTY logs") {
    auto bytes = load("logs_multiplexed.bin");
    log_demuxer d;
    auto frames = d.feed(bytes);
    CHECK(d.finish());
    std::vector<log_frame> want{{log_stream::stderr_, "err1\n"},
                                {log_stream::stdout_, "out1\n"},
                                {log_stream::stdout_, "partial\n"},
                                {log_stream::stdout_, "out2\n"}};
    CHECK(frames == want);
  }

  TEST_CASE("gives the same frames whatever the split") {
    auto bytes = load("logs_multiplexed_timestamps.bin")
                 + frame(2, "") // an empty frame is legal
                 + load("logs_multiplexed.bin");
    log_demuxer whole;
    auto want = whole.feed(bytes);
    REQUIRE(whole.finish());
    REQUIRE(want.size() == 9);
    for (std::size_t k = 0; k <= bytes.size(); ++k) {
      log_demuxer d;
      REQUIRE_MESSAGE(demux_at(bytes, k, d) == want, "split at " << k);
      REQUIRE(d.finish());
    }
  }

  TEST_CASE("splits timestamps off recorded log lines") {
    log_demuxer d;
    auto frames = d.feed(load("logs_multiplexed_timestamps.bin"));
    REQUIRE(frames.size() == 4);
    auto line = frames[0].data;
    auto t = split_timestamp(line);
    CHECK(t.timestamp.size() == 30);
    CHECK(t.timestamp.substr(0, 11) == "2026-11-23T");
    CHECK(t.message == "err1\n");
    CHECK(split_timestamp(frames[2].data).message == "partial\n");

    auto plain = split_timestamp("hello world");
    CHECK(plain.timestamp.empty());
    CHECK(plain.message == "hello world");
    auto short_ts = split_timestamp("2024-01-02T03:04:05Z x");
    CHECK(short_ts.timestamp == "2024-01-02T03:04:05Z");
    CHECK(short_ts.message == "x");
    CHECK(split_timestamp("2024-01-02T03:04:05.123456789Z").timestamp.empty());
    CHECK(split_timestamp("").message.empty());
    CHECK(split_timestamp("2024-01-02X03:04:05Z x").timestamp.empty());
  }

  TEST_CASE("passes TTY logs through in raw mode") {
    auto bytes = load("logs_tty.bin");
    CHECK(bytes == "tty-out\r\ntty-err\r\n");
    log_demuxer d(log_demuxer::mode::raw);
    std::string got;
    for (std::size_t k = 0; k < bytes.size(); k += 5)
      for (auto& f : d.feed(std::string_view(bytes).substr(k, 5))) {
        CHECK(f.stream == log_stream::stdout_);
        got += f.data;
      }
    CHECK(got == bytes);
    CHECK(d.finish());
  }

  TEST_CASE("rejects a raw stream read as multiplexed and truncated input") {
    log_demuxer d;
    CHECK(d.feed(load("logs_tty.bin")).empty());
    REQUIRE(d.error());
    CHECK(d.error()->find("bad log frame header at byte 0") == 0);
    CHECK(d.feed(frame(1, "x")).empty()); // stays failed
    CHECK_FALSE(d.finish());

    log_demuxer t;
    auto f = frame(1, "hello");
    CHECK(t.feed(f.substr(0, f.size() - 1)).empty());
    CHECK_FALSE(t.finish());
    CHECK(t.error()->find("truncated") != std::string::npos);

    log_demuxer big(log_demuxer::mode::multiplexed, 4);
    CHECK(big.feed(frame(1, "12345")).empty());
    CHECK(*big.error() == "log frame of 5 bytes exceeds 4");

    log_demuxer later;
    auto good = frame(1, "ok");
    auto frames = later.feed(good + std::string("\x05\0\0\0\0\0\0\0", 8));
    CHECK(frames.size() == 1);
    CHECK(later.error()->find("at byte 10") != std::string::npos);
  }
}
