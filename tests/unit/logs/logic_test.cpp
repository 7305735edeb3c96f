// The logs actor's pure parts: cutting, UTF-8 repair, timestamps, resume
// points, backoff and the bounded fair queue.
#include "actors/logs/log_logic.hpp"

#include <algorithm>
#include <doctest/doctest.h>

using namespace bosun;
using namespace bosun::log_logic;
using namespace std::chrono_literals;

namespace {

queued_line line(uint32_t source, std::string text, int64_t ns = 0) {
  auto e = std::make_shared<log_entry>();
  e->message = std::move(text);
  return queued_line{e, source, resume_point{ns, 1}};
}

std::vector<std::string> texts(const std::vector<queued_line>& v) {
  std::vector<std::string> out;
  for (auto& l : v)
    out.push_back(l.entry->message);
  return out;
}

} // namespace

TEST_SUITE("logs.cut") {
  TEST_CASE("a line at the limit is kept whole") {
    std::string s(max_message, 'a');
    CHECK_FALSE(cut_message(s));
    CHECK(s.size() == max_message);
  }
  TEST_CASE("a longer line is cut to the limit, ending [...]") {
    std::string s(max_message + 1, 'a');
    CHECK(cut_message(s));
    CHECK(s.size() == max_message);
    CHECK(s.substr(s.size() - 5) == "[...]");
    CHECK(s.substr(0, max_message - 5) == std::string(max_message - 5, 'a'));
  }
  TEST_CASE("a megabyte line costs ten thousand bytes") {
    std::string s(1 << 20, 'x');
    CHECK(cut_message(s));
    CHECK(s.size() == max_message);
  }
  TEST_CASE("the cut never splits a UTF-8 sequence") {
    // 'é' is two bytes: place one across the cut point.
    std::string s(max_message - 6, 'a');
    s += "\xC3\xA9";
    s += std::string(100, 'b');
    CHECK(cut_message(s));
    CHECK(s == std::string(max_message - 6, 'a') + "[...]");
  }
}

TEST_SUITE("logs.utf8") {
  TEST_CASE("valid text is left alone") {
    std::string s = "plain ascii, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80";
    auto before = s;
    CHECK_FALSE(sanitize_utf8(s));
    CHECK(s == before);
  }
  TEST_CASE("invalid bytes become U+FFFD") {
    std::string s = "a\xFF"
                    "b\xC3"
                    "c\xED\xA0\x80"
                    "d";
    CHECK(sanitize_utf8(s));
    CHECK(s
          == "a\xEF\xBF\xBD"
             "b\xEF\xBF\xBD"
             "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
             "d");
  }
  TEST_CASE("overlong encodings are invalid") {
    std::string s = "\xC0\xAF";
    CHECK(sanitize_utf8(s));
    CHECK(s == "\xEF\xBF\xBD\xEF\xBF\xBD");
  }
}

TEST_SUITE("logs.time") {
  TEST_CASE("the engine's nanosecond timestamps") {
    CHECK(parse_rfc3339_ns("1970-01-01T00:00:00Z") == 0);
    CHECK(parse_rfc3339_ns("2024-01-02T03:04:05.123456789Z")
          == int64_t{1704164645} * 1000000000 + 123456789);
    // Go trims trailing zeros.
    CHECK(parse_rfc3339_ns("2024-01-02T03:04:05.1Z")
          == int64_t{1704164645} * 1000000000 + 100000000);
    CHECK(parse_rfc3339_ns("2024-01-02T04:04:05+01:00")
          == int64_t{1704164645} * 1000000000);
    CHECK(parse_rfc3339_ns("2000-02-29T00:00:00Z")
          == int64_t{951782400} * 1000000000);
  }
  TEST_CASE("anything else is not a time") {
    CHECK_FALSE(parse_rfc3339_ns(""));
    CHECK_FALSE(parse_rfc3339_ns("hello world"));
    CHECK_FALSE(parse_rfc3339_ns("2024-01-02T03:04:05"));
    CHECK_FALSE(parse_rfc3339_ns("2024-13-02T03:04:05Z"));
    CHECK_FALSE(parse_rfc3339_ns("2024-01-02T03:04:05.Z"));
    CHECK_FALSE(parse_rfc3339_ns("2024-01-02T03:04:05Zjunk"));
  }
}

TEST_SUITE("logs.resume") {
  TEST_CASE("points round-trip through their stored text") {
    resume_point p{1704164645123456789, 3};
    CHECK(to_string(p) == "1704164645123456789:3");
    CHECK(parse_resume_point(to_string(p)) == p);
    CHECK_FALSE(parse_resume_point(""));
    CHECK_FALSE(parse_resume_point("12"));
    CHECK_FALSE(parse_resume_point("a:1"));
    CHECK_FALSE(parse_resume_point("1:"));
    CHECK_FALSE(parse_resume_point("99999999999999999999:1"));
  }
  TEST_CASE("since is the resume point's whole second") {
    CHECK(since_seconds({}) == 0);
    CHECK(since_seconds({1704164645999999999, 1}) == 1704164645);
  }
  TEST_CASE("a fresh read admits everything and tracks the last line") {
    resume_filter f;
    CHECK(f.admit(10));
    CHECK(f.admit(20));
    CHECK(f.admit(20));
    CHECK(f.current() == resume_point{20, 2});
  }
  TEST_CASE("a re-read skips what was taken, including equal timestamps") {
    resume_filter f{{20, 2}};
    CHECK_FALSE(f.admit(10));
    CHECK_FALSE(f.admit(20));
    CHECK_FALSE(f.admit(20));
    CHECK(f.admit(20)); // the third line stamped 20 is new
    CHECK(f.current() == resume_point{20, 3});
    CHECK(f.admit(30));
    CHECK(f.current() == resume_point{30, 1});
  }
  TEST_CASE("restart re-reads from the current point") {
    resume_filter f;
    CHECK(f.admit(5));
    CHECK(f.admit(7));
    f.restart();
    // The engine sends the whole second again.
    CHECK_FALSE(f.admit(5));
    CHECK_FALSE(f.admit(7));
    CHECK(f.admit(8));
  }
  TEST_CASE("lines without a time pass and do not move the point") {
    resume_filter f{{20, 1}};
    CHECK(f.admit(std::nullopt));
    CHECK(f.current() == resume_point{20, 1});
  }
}

TEST_SUITE("logs.backoff") {
  TEST_CASE("min(5 s * 2^n, 300 s)") {
    CHECK(reconnect_delay(0) == 5s);
    CHECK(reconnect_delay(1) == 5s);
    CHECK(reconnect_delay(2) == 10s);
    CHECK(reconnect_delay(3) == 20s);
    CHECK(reconnect_delay(6) == 160s);
    CHECK(reconnect_delay(7) == 300s);
    CHECK(reconnect_delay(1000) == 300s);
  }
}

TEST_SUITE("logs.queue") {
  TEST_CASE("lines come out in arrival order across sources") {
    log_queue q(1 << 20);
    q.push(line(1, "a1"));
    q.push(line(2, "b1"));
    q.push(line(1, "a2"));
    q.push(line(0, "sys"));
    q.push(line(2, "b2"));
    CHECK(q.lines() == 5);
    CHECK(texts(q.take_all())
          == std::vector<std::string>{"a1", "b1", "a2", "sys", "b2"});
    CHECK(q.empty());
    CHECK(q.bytes() == 0);
  }
  TEST_CASE("the bound counts each line's text plus its overhead") {
    log_queue q(1000);
    q.push(line(1, std::string(100, 'x')));
    CHECK(q.bytes() == 164);
  }
  TEST_CASE("when full, the oldest lines go, counted and announced once") {
    log_queue q(3 * 74); // three 10-byte lines
    CHECK(q.push(line(1, "0123456789")).empty());
    CHECK(q.push(line(1, "1123456789")).empty());
    CHECK(q.push(line(1, "2123456789")).empty());
    auto dropped = q.push(line(1, "3123456789"));
    REQUIRE(dropped.size() == 1);
    CHECK(dropped[0].entry->message == "0123456789");
    q.push(line(1, "4123456789"));
    CHECK(q.dropped() == 2);
    CHECK(q.unannounced() == 2);
    CHECK(q.bytes() <= q.capacity());
    CHECK(
      texts(q.take_all())
      == std::vector<std::string>{"2123456789", "3123456789", "4123456789"});
    q.announced();
    CHECK(q.unannounced() == 0);
    CHECK(q.dropped() == 2);
  }
  TEST_CASE("a flooding source loses its own lines, not a quiet one's") {
    log_queue q(20 * 74);
    q.push(line(2, "quiet-1..."));
    for (int i = 0; i < 1000; ++i)
      q.push(line(1, "flood-" + std::to_string(1000 + i)));
    q.push(line(2, "quiet-2..."));
    for (int i = 0; i < 1000; ++i)
      q.push(line(1, "flood-" + std::to_string(2000 + i)));
    auto out = texts(q.take_all());
    CHECK(std::count(out.begin(), out.end(), "quiet-1...") == 1);
    CHECK(std::count(out.begin(), out.end(), "quiet-2...") == 1);
    CHECK(out.back() == "flood-2999");
    CHECK(q.dropped() == 2002 - out.size());
  }
  TEST_CASE("clear counts everything as dropped") {
    log_queue q(1 << 20);
    q.push(line(1, "a"));
    q.push(line(1, "b"));
    CHECK(q.clear().size() == 2);
    CHECK(q.dropped() == 2);
    CHECK(q.empty());
  }
  TEST_CASE("the suppressed line") {
    CHECK(suppressed_message(3)
          == "Warning: Suppressed 3 message(s) due to high load");
  }
}
