#include "actors/telemetry/process_stats.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace bosun::telemetry;

namespace {

// A real line's shape, with a command name holding spaces and a ')'.
std::string stat_line(const std::string& comm) {
  return "4242 (" + comm
         + ") S 1 4242 4242 0 -1 4194560 2100 0 0 0 250 75 0 0 20 0 7 0 "
           "123400 300000000 2048 18446744073709551615 1 1 0 0 0 0 0 4096 "
           "0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
}

const char* status_text = "Name:\tbosun\n"
                          "State:\tS (sleeping)\n"
                          "VmPeak:\t  400000 kB\n"
                          "VmHWM:\t    9000 kB\n"
                          "VmRSS:\t    8192 kB\n"
                          "Threads:\t7\n";

} // namespace

TEST_SUITE("process_stats") {
  TEST_CASE("reads CPU ticks, threads, start time and RSS pages from stat") {
    auto s = parse_proc_stat(stat_line("bosun"));
    REQUIRE(s);
    CHECK(s->utime == 250);
    CHECK(s->stime == 75);
    CHECK(s->num_threads == 7);
    CHECK(s->starttime == 123400);
    CHECK(s->rss_pages == 2048);
  }

  TEST_CASE("counts stat fields from the last ')' of the command name") {
    auto s = parse_proc_stat(stat_line("a (b) c) d"));
    REQUIRE(s);
    CHECK(s->utime == 250);
    CHECK(s->num_threads == 7);
  }

  TEST_CASE("refuses a truncated or garbled stat line") {
    CHECK_FALSE(parse_proc_stat(""));
    CHECK_FALSE(parse_proc_stat("4242 (bosun) S 1 2 3"));
    CHECK_FALSE(parse_proc_stat("4242 bosun S 1 2 3"));
    auto line = stat_line("bosun");
    line.replace(line.find(" 250 "), 5, " x50 ");
    CHECK_FALSE(parse_proc_stat(line));
  }

  TEST_CASE("reads kB figures of status by exact name, in bytes") {
    CHECK(parse_status_kb(status_text, "VmRSS") == 8192u * 1024);
    CHECK(parse_status_kb(status_text, "VmHWM") == 9000u * 1024);
    CHECK_FALSE(parse_status_kb(status_text, "VmRS"));
    CHECK_FALSE(parse_status_kb(status_text, "VmSwap"));
    CHECK_FALSE(parse_status_kb("VmRSS:\t12 MB\n", "VmRSS"));
    CHECK_FALSE(parse_status_kb("VmRSS:\t-12 kB\n", "VmRSS"));
  }

  TEST_CASE("reads the seconds since boot from uptime") {
    CHECK(parse_uptime("1500.25 2900.10\n") == doctest::Approx(1500.25));
    CHECK(parse_uptime("42 1\n") == doctest::Approx(42));
    CHECK_FALSE(parse_uptime(""));
    CHECK_FALSE(parse_uptime("abc 1"));
    CHECK_FALSE(parse_uptime("1.x 1"));
  }

  TEST_CASE("makes seconds of ticks and the process uptime from its start") {
    auto p = make_process_stats(stat_line("bosun"), status_text, "1500.25 1\n",
                                100, 4096);
    REQUIRE(p.available);
    CHECK(p.cpu_user_seconds == doctest::Approx(2.5));
    CHECK(p.cpu_system_seconds == doctest::Approx(0.75));
    CHECK(p.threads == 7);
    CHECK(p.uptime_seconds == doctest::Approx(1500.25 - 1234));
    CHECK(p.rss_bytes == 8192u * 1024);
    CHECK(p.rss_peak_bytes == 9000u * 1024);
  }

  TEST_CASE("falls back to stat's RSS pages without status") {
    auto p = make_process_stats(stat_line("bosun"), "", "1500 1", 100, 4096);
    REQUIRE(p.available);
    CHECK(p.rss_bytes == 2048u * 4096);
    CHECK(p.rss_peak_bytes == p.rss_bytes);
  }

  TEST_CASE("is unavailable when stat or uptime cannot be parsed") {
    CHECK_FALSE(
      make_process_stats("", status_text, "1 1", 100, 4096).available);
    CHECK_FALSE(
      make_process_stats(stat_line("x"), status_text, "", 100, 4096).available);
    CHECK_FALSE(make_process_stats(stat_line("x"), status_text, "1 1", 0, 4096)
                  .available);
  }

  TEST_CASE("reads this test process's own figures") {
    auto p = read_process_stats();
    REQUIRE(p.available);
    CHECK(p.rss_bytes > 1024u * 1024);
    CHECK(p.threads >= 1);
    CHECK(p.uptime_seconds >= 0);
    CHECK(p.uptime_seconds < 3600);
  }
}
