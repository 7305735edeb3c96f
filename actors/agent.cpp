#include "actors/agent.hpp"

#include "actors/root/root.hpp"

#include <random>

namespace bosun {

namespace {

std::string random_hex(std::size_t n) {
  std::random_device rd;
  std::string out;
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i)
    out += digits[rd() % 16];
  return out;
}

} // namespace

std::variant<agent, std::string>
start_agent(caf::actor_system& sys, const config& cfg, agent_deps deps) {
  agent out;
  out.uuid = cfg.uuid.empty() ? random_hex(32) : cfg.uuid;
  out.api_key = random_hex(32);
  root_options opts;
  opts.log = deps.log;
  out.root = spawn_root(sys, std::move(opts));
  return out;
}

} // namespace bosun
