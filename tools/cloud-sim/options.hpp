#pragma once

// cloud-sim's command line.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bosun::cloud_sim {

struct options {
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 0; // 0: any free port, printed at start
  std::string admin_address = "127.0.0.1";
  uint16_t admin_port = 0;
  std::string state_file;
  bool verbose = false;
  size_t max_records = 200000; // per kind (reports, logs, ...)
  bool help = false;
};

// `args` without the program name. On failure: nullopt and `err`.
std::optional<options> parse_options(const std::vector<std::string>& args,
                                     std::string& err);
std::string usage();

} // namespace bosun::cloud_sim
