// The persistent log: the rotation plan (pure), the files it writes (a real
// temp dir: append across restarts, the cap, the newest lines kept, a line
// cut short, failures counted and survived) and the history reader's
// filters.
#include "actors/logs/log_file.hpp"
#include "api/logs/history.hpp"
#include "api/logs/log_json.hpp"
#include "tests/support/process.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace bosun;
using namespace bosun::log_logic;

namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint64_t size_of(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

log_entry service_line(const std::string& text, int64_t ts = 1000,
                       const std::string& service = "main") {
  log_entry e;
  e.message = text;
  e.timestamp_ms = ts;
  e.service_id = 7;
  e.service_name = service;
  return e;
}

log_entry system_line(const std::string& text, int64_t ts = 1000) {
  log_entry e;
  e.message = text;
  e.timestamp_ms = ts;
  e.is_system = true;
  return e;
}

// The messages of an NDJSON text, in order ("" for a line that is not one).
std::vector<std::string> messages_of(const std::string& ndjson) {
  std::vector<std::string> out;
  std::istringstream in(ndjson);
  std::string line;
  const std::string key = "\"message\":\"";
  while (std::getline(in, line)) {
    auto at = line.find(key);
    if (at == std::string::npos) {
      out.emplace_back();
      continue;
    }
    at += key.size();
    out.push_back(line.substr(at, line.find('"', at) - at));
  }
  return out;
}

std::vector<std::string> numbered(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i)
    out.push_back("line " + std::to_string(i));
  return out;
}

std::string all_files(const persistent_log& log) {
  std::string out;
  for (auto& f : log.files())
    out += slurp(f);
  return out;
}

} // namespace

TEST_SUITE("logs.file_batch") {
  TEST_CASE("a line that would pass a file's cap starts a new file; an empty "
            "file takes any line") {
    CHECK_FALSE(rotate_before(0, 100, 50));
    CHECK_FALSE(rotate_before(40, 10, 50));
    CHECK(rotate_before(41, 10, 50));
  }

  TEST_CASE("lines that fit are appended to the current file") {
    file_batch b(100, 30);
    CHECK(b.add(std::string(30, 'a')));
    CHECK(b.add(std::string(40, 'b')));
    CHECK(b.file_bytes() == 100);
    CHECK(b.pending_lines() == 2);
    auto p = b.take();
    REQUIRE(p.size() == 1);
    CHECK_FALSE(p[0].fresh);
    CHECK(p[0].text == std::string(30, 'a') + std::string(40, 'b'));
    CHECK(p[0].lines == 2);
    CHECK(b.empty());
    CHECK(b.pending_bytes() == 0);
    CHECK(b.file_bytes() == 100); // what the file holds once written
  }

  TEST_CASE("a rotation splits the batch; the new piece starts a file") {
    file_batch b(100, 90);
    CHECK(b.add(std::string(10, 'a')));
    CHECK(b.add(std::string(10, 'b')));
    CHECK(b.file_bytes() == 10);
    auto p = b.take();
    REQUIRE(p.size() == 2);
    CHECK_FALSE(p[0].fresh);
    CHECK(p[1].fresh);
    CHECK(p[1].text == std::string(10, 'b'));
  }

  TEST_CASE("only the last two pieces are kept: older ones would be rotated "
            "out at once") {
    file_batch b(100, 0);
    for (int i = 0; i < 10; ++i)
      CHECK(b.add(std::string(60, static_cast<char>('a' + i))));
    CHECK(b.pending_bytes() == 120);
    CHECK(b.pending_lines() == 2);
    CHECK(b.skipped() == 8);
    auto p = b.take();
    REQUIRE(p.size() == 2);
    CHECK(p[0].fresh);
    CHECK(p[0].text == std::string(60, 'i'));
    CHECK(p[1].fresh);
    CHECK(p[1].text == std::string(60, 'j'));
  }

  TEST_CASE("a line over a file's cap is refused") {
    file_batch b(100, 0);
    CHECK_FALSE(b.add(std::string(101, 'x')));
    CHECK(b.empty());
    CHECK(b.add(std::string(100, 'x')));
  }

  TEST_CASE("the real size after a failure re-decides the first piece") {
    file_batch b(100, 0);
    CHECK(b.add(std::string(30, 'a')));
    b.reset(80); // the file turned out to hold 80 bytes
    CHECK(b.file_bytes() == 30);
    auto p = b.take();
    REQUIRE(p.size() == 1);
    CHECK(p[0].fresh);
    b.reset(50);
    CHECK(b.file_bytes() == 50);
    CHECK(b.add(std::string(30, 'b')));
    CHECK_FALSE(b.take()[0].fresh);
  }
}

TEST_SUITE("logs.persistent_log") {
  TEST_CASE("lines are written as /v2/local/logs shows them, only on flush") {
    test::temp_dir tmp;
    auto dir = tmp.path() + "/logs";
    persistent_log log(dir, 1 << 20);
    log.add(service_line("hello", 1234));
    log.add(system_line("Installing service 'main'", 1235));
    CHECK(log.pending());
    CHECK(size_of(dir + "/bosun.log") == 0);
    CHECK_FALSE(log.flush());
    CHECK_FALSE(log.pending());
    CHECK(slurp(dir + "/bosun.log")
          == "{\"serviceName\":\"main\",\"message\":\"hello\",\"isStdErr\":"
             "false,\"timestamp\":1234,\"serviceId\":7}\n"
             "{\"message\":\"Installing service 'main'\",\"isSystem\":true,"
             "\"isStdErr\":false,\"timestamp\":1235}\n");
    auto s = log.stats();
    CHECK(s.enabled);
    CHECK(s.lines == 2);
    CHECK(s.bytes_written == size_of(dir + "/bosun.log"));
    CHECK(s.size_bytes == s.bytes_written);
    CHECK(s.write_errors == 0);
    CHECK(log.files() == std::vector<std::string>{dir + "/bosun.log"});
  }

  TEST_CASE("a restart appends to what is there; the destructor writes what "
            "is pending") {
    test::temp_dir tmp;
    {
      persistent_log log(tmp.path(), 1 << 20);
      for (auto& m : numbered(1, 3))
        log.add(service_line(m));
    }
    {
      persistent_log log(tmp.path(), 1 << 20);
      for (auto& m : numbered(4, 5))
        log.add(service_line(m));
      log.flush();
      CHECK(messages_of(all_files(log)) == numbered(1, 5));
    }
  }

  TEST_CASE("a line cut short by a crash is ended before new lines") {
    test::temp_dir tmp;
    std::ofstream(tmp.path() + "/bosun.log") << "{\"message\":\"cut sh";
    persistent_log log(tmp.path(), 1 << 20);
    log.add(service_line("next"));
    log.flush();
    auto text = slurp(tmp.path() + "/bosun.log");
    CHECK(text.rfind("{\"message\":\"cut sh\n{", 0) == 0);
    CHECK(messages_of(text).back() == "next");
    CHECK(log_files::filter(text, {}).find("cut sh") == std::string::npos);
  }

  TEST_CASE("the files never pass the cap and the newest lines survive") {
    test::temp_dir tmp;
    const uint64_t cap = persistent_log::min_max_bytes;
    int n = 0;
    for (int restart = 0; restart < 3; ++restart) {
      persistent_log log(tmp.path(), cap);
      for (int batch = 0; batch < 20; ++batch) {
        for (int i = 0; i < 50; ++i) {
          ++n;
          log.add(
            service_line("line " + std::to_string(n) + " "
                         + std::string(static_cast<size_t>(n % 97), '.')));
        }
        log.flush();
        auto total = size_of(tmp.path() + "/bosun.log")
                     + size_of(tmp.path() + "/bosun.log.1");
        CHECK(total <= cap);
        CHECK(size_of(tmp.path() + "/bosun.log") <= cap / 2);
        CHECK(log.stats().size_bytes == total);
      }
      // Oldest first, consecutive, ending with the last line written, and
      // more than half the cap of them.
      auto got = messages_of(all_files(log));
      REQUIRE(!got.empty());
      int first = std::atoi(got.front().c_str() + 5);
      for (size_t i = 0; i < got.size(); ++i)
        CHECK(std::atoi(got[i].c_str() + 5) == first + static_cast<int>(i));
      CHECK(std::atoi(got.back().c_str() + 5) == n);
      CHECK(log.stats().size_bytes > cap / 2 - 200); // a line less at most
      CHECK(log.stats().rotations > 0);
      CHECK(log.stats().dropped == 0);
    }
  }

  TEST_CASE("files over a lowered cap are started afresh") {
    test::temp_dir tmp;
    {
      persistent_log log(tmp.path(), 1 << 20);
      for (int i = 0; i < 2000; ++i)
        log.add(service_line("line " + std::to_string(i)));
    }
    REQUIRE(size_of(tmp.path() + "/bosun.log") > 40000);
    persistent_log log(tmp.path(), persistent_log::min_max_bytes);
    log.add(service_line("after"));
    log.flush();
    CHECK(messages_of(all_files(log)) == std::vector<std::string>{"after"});
  }

  TEST_CASE("a line too long for a file is dropped and counted") {
    test::temp_dir tmp;
    persistent_log log(tmp.path(), persistent_log::min_max_bytes);
    log.add(service_line(std::string(40000, 'x')));
    log.add(service_line("short"));
    log.flush();
    CHECK(messages_of(all_files(log)) == std::vector<std::string>{"short"});
    CHECK(log.stats().dropped == 1);
  }

  TEST_CASE("an unusable directory is counted and reported once; it works "
            "once the directory can be made") {
    test::temp_dir tmp;
    auto blocker = tmp.path() + "/data";
    std::ofstream(blocker) << "a file where the directory should be";
    persistent_log log(blocker + "/logs", 1 << 20);
    auto s = log.stats();
    CHECK(s.write_errors == 1);
    CHECK(s.last_error.find("cannot create") != std::string::npos);
    log.add(service_line("lost 1"));
    CHECK_FALSE(log.flush()); // already reported at start
    log.add(service_line("lost 2"));
    CHECK_FALSE(log.flush());
    CHECK(log.stats().write_errors == 3);
    CHECK(log.stats().dropped == 2);
    fs::remove(blocker);
    log.add(service_line("kept"));
    auto change = log.flush();
    REQUIRE(change);
    CHECK(change->empty()); // works again
    CHECK(log.stats().last_error.empty());
    CHECK(messages_of(all_files(log)) == std::vector<std::string>{"kept"});
  }

  TEST_CASE("a full disk fails the writes, reported once, and they resume") {
    test::temp_dir tmp;
    fs::create_symlink("/dev/full", tmp.path() + "/bosun.log");
    persistent_log log(tmp.path(), 1 << 20);
    log.add(service_line("a"));
    auto first = log.flush();
    REQUIRE(first);
    CHECK(first->find("cannot write") != std::string::npos);
    log.add(service_line("b"));
    CHECK_FALSE(log.flush());
    CHECK(log.stats().write_errors == 2);
    CHECK(log.stats().dropped == 2);
    fs::remove(tmp.path() + "/bosun.log");
    log.add(service_line("c"));
    auto again = log.flush();
    REQUIRE(again);
    CHECK(again->empty());
    CHECK(messages_of(all_files(log)) == std::vector<std::string>{"c"});
  }
}

TEST_SUITE("logs.marks") {
  TEST_CASE("marks round-trip; unreadable lines and words are left out") {
    std::map<std::string, std::string> m{
      {"c1", "5:1"}, {"c2", "7:3"}, {"bad key", "x"}, {"k", ""}};
    auto text = encode_marks(m);
    CHECK(text == "c1 5:1\nc2 7:3\n");
    CHECK(parse_marks(text)
          == std::map<std::string, std::string>{{"c1", "5:1"}, {"c2", "7:3"}});
    CHECK(parse_marks("c1 5:1\nnospace\n\nc2 7:3 extra\nc3 9:1")
          == std::map<std::string, std::string>{{"c1", "5:1"}});
  }

  TEST_CASE("marks are kept beside the files across a restart, written with "
            "the lines") {
    test::temp_dir tmp;
    {
      persistent_log log(tmp.path(), 1 << 20);
      log.add(service_line("a"));
      log.set_mark("c1", "10:1");
      CHECK(log.dirty());
      CHECK_FALSE(fs::exists(tmp.path() + "/bosun.log.marks"));
      log.flush();
      CHECK(slurp(tmp.path() + "/bosun.log.marks") == "c1 10:1\n");
      CHECK_FALSE(log.dirty());
      log.set_mark("c1", "10:1"); // unchanged: nothing to write
      CHECK_FALSE(log.dirty());
      log.set_mark("c2", "20:1");
    } // written by the destructor
    persistent_log log(tmp.path(), 1 << 20);
    CHECK(log.mark("c1") == "10:1");
    CHECK(log.mark("c2") == "20:1");
    CHECK(log.mark_keys() == std::vector<std::string>{"c1", "c2"});
    log.erase_mark("c1");
    log.flush();
    CHECK(slurp(tmp.path() + "/bosun.log.marks") == "c2 20:1\n");
    CHECK(log.files() == std::vector<std::string>{tmp.path() + "/bosun.log"});
  }
}

TEST_SUITE("logs.history") {
  std::string sample() {
    std::string out;
    auto add = [&](const log_entry& e) { log_json::append_local_line(e, out); };
    add(system_line("boot", 100));
    add(service_line("m1", 200, "main"));
    add(service_line("w1", 300, "worker"));
    add(service_line("m2", 400, "main"));
    out += "{\"message\":\"torn\n"; // a line cut short
    add(service_line("m3", 500, "main"));
    return out;
  }

  TEST_CASE("no filter: every whole line, in order") {
    CHECK(messages_of(log_files::filter(sample(), {}))
          == std::vector<std::string>{"boot", "m1", "w1", "m2", "m3"});
  }

  TEST_CASE("count keeps the last N after the other filters") {
    log_files::query q;
    q.count = 2;
    CHECK(messages_of(log_files::filter(sample(), q))
          == std::vector<std::string>{"m2", "m3"});
    q.service = "main";
    q.count = 10;
    CHECK(messages_of(log_files::filter(sample(), q))
          == std::vector<std::string>{"m1", "m2", "m3"});
  }

  TEST_CASE("since and until bound the time, both inclusive") {
    log_files::query q;
    q.since = 200;
    q.until = 400;
    CHECK(messages_of(log_files::filter(sample(), q))
          == std::vector<std::string>{"m1", "w1", "m2"});
    q.service = "worker";
    CHECK(messages_of(log_files::filter(sample(), q))
          == std::vector<std::string>{"w1"});
  }

  TEST_CASE("query parameters are checked") {
    std::map<std::string, std::string> params;
    auto get = [&](const char* n) -> std::optional<std::string> {
      auto i = params.find(n);
      if (i == params.end())
        return std::nullopt;
      return i->second;
    };
    std::string why;
    auto q = log_files::parse_query(get, why);
    REQUIRE(q);
    CHECK_FALSE(q->count);
    CHECK_FALSE(q->since);
    params = {{"count", "5"},
              {"since", "1700000000000"},
              {"until", "1800000000000"},
              {"service", "main"}};
    q = log_files::parse_query(get, why);
    REQUIRE(q);
    CHECK(q->count == 5u);
    CHECK(q->since == 1700000000000);
    CHECK(q->until == 1800000000000);
    CHECK(q->service == "main");
    for (auto bad : std::vector<std::pair<std::string, std::string>>{
           {"count", "0"},
           {"count", "-1"},
           {"count", "x"},
           {"since", "1.5"},
           {"until", ""},
           {"since", "99999999999999999999"}}) {
      params = {bad};
      CAPTURE(bad.first);
      CAPTURE(bad.second);
      CHECK_FALSE(log_files::parse_query(get, why));
      CHECK(why.find(bad.first) == 0);
    }
  }

  TEST_CASE("read: both files oldest first, at most max_bytes of the newest") {
    test::temp_dir tmp;
    auto old_f = tmp.path() + "/bosun.log.1", cur = tmp.path() + "/bosun.log";
    std::string a, b;
    for (int i = 1; i <= 3; ++i)
      log_json::append_local_line(service_line("line " + std::to_string(i)), a);
    for (int i = 4; i <= 6; ++i)
      log_json::append_local_line(service_line("line " + std::to_string(i)), b);
    std::ofstream(old_f) << a;
    std::ofstream(cur) << b;
    CHECK(messages_of(log_files::read({old_f, cur}, 1 << 20, {}))
          == numbered(1, 6));
    // Cut inside line 2: it is dropped, not shown torn.
    CHECK(
      messages_of(log_files::read({old_f, cur}, b.size() + a.size() / 2, {}))
      == numbered(3, 6));
    // A missing file is skipped.
    CHECK(messages_of(log_files::read({tmp.path() + "/nope", cur}, 1 << 20, {}))
          == numbered(4, 6));
  }

  TEST_CASE("read: a file seen under both names (a rotation while opening) "
            "is read once") {
    test::temp_dir tmp;
    auto cur = tmp.path() + "/bosun.log";
    std::string b;
    log_json::append_local_line(service_line("only"), b);
    std::ofstream(cur) << b;
    fs::create_hard_link(cur, tmp.path() + "/bosun.log.1");
    CHECK(messages_of(
            log_files::read({tmp.path() + "/bosun.log.1", cur}, 1 << 20, {}))
          == std::vector<std::string>{"only"});
  }
}
