#include "tests/unit/cloud_sim/gzip.hpp"
#include "tools/cloud-sim/line_inflater.hpp"

#include <doctest/doctest.h>

using bosun::cloud_sim::line_inflater;

namespace {

struct collected {
  std::vector<std::string> lines;
  line_inflater::line_fn fn() {
    return [this](std::string_view l) { lines.emplace_back(l); };
  }
};

} // namespace

TEST_SUITE("line_inflater") {
  TEST_CASE("gives each line as soon as its flushed piece arrives") {
    bosun::test::gzip_writer gz;
    line_inflater in(true);
    collected c;
    auto first = gz.write("{\"a\":1}\n{\"b\"");
    CHECK(in.feed(first.data(), first.size(), c.fn()));
    CHECK(c.lines == std::vector<std::string>{"{\"a\":1}"});
    auto second = gz.write(":2}\r\n\n");
    CHECK(in.feed(second.data(), second.size(), c.fn()));
    CHECK(c.lines == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"});
    auto end = gz.finish("tail");
    CHECK(in.feed(end.data(), end.size(), c.fn()));
    CHECK(c.lines.size() == 2);
    CHECK(in.finish(c.fn()));
    CHECK(c.lines.back() == "tail");
  }

  TEST_CASE("decodes a body delivered one byte at a time") {
    std::string text;
    for (int i = 0; i < 200; ++i)
      text += "{\"message\":\"line " + std::to_string(i) + "\"}\n";
    auto body = bosun::test::gzip(text);
    line_inflater in(true);
    collected c;
    for (char ch : body)
      REQUIRE(in.feed(&ch, 1, c.fn()));
    CHECK(in.finish(c.fn()));
    REQUIRE(c.lines.size() == 200);
    CHECK(c.lines[199] == "{\"message\":\"line 199\"}");
    CHECK(in.bytes_out() == text.size());
  }

  TEST_CASE("reads concatenated gzip members") {
    auto body = bosun::test::gzip("one\n") + bosun::test::gzip("two\n");
    line_inflater in(true);
    collected c;
    CHECK(in.feed(body.data(), body.size(), c.fn()));
    CHECK(c.lines == std::vector<std::string>{"one", "two"});
  }

  TEST_CASE("passes plain text through when not gzip") {
    line_inflater in(false);
    collected c;
    std::string body = "x\ny";
    CHECK(in.feed(body.data(), body.size(), c.fn()));
    CHECK(in.finish(c.fn()));
    CHECK(c.lines == std::vector<std::string>{"x", "y"});
  }

  TEST_CASE("reports a corrupt stream") {
    line_inflater in(true);
    collected c;
    std::string junk = "this is not gzip at all";
    CHECK_FALSE(in.feed(junk.data(), junk.size(), c.fn()));
    CHECK(in.error().find("gzip") != std::string::npos);
  }

  TEST_CASE("refuses a line longer than the limit") {
    line_inflater in(false, 8);
    collected c;
    std::string body = "0123456789";
    CHECK_FALSE(in.feed(body.data(), body.size(), c.fn()));
    CHECK(c.lines.empty());
  }
}
