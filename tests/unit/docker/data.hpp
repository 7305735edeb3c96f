#pragma once

// Recorded engine responses in tests/data/docker (see record.sh there).
#include <doctest/doctest.h>
#include <fstream>
#include <sstream>
#include <string>

namespace bosun::docker::test {

inline std::string load(const std::string& name) {
  std::string path = std::string(BOSUN_TEST_DATA) + "/docker/" + name;
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace bosun::docker::test
