#pragma once

// fleet-sim's inspection endpoint (issue 14 item 4): one HTTP server beside
// the agents, answering
//   GET /metrics                   Prometheus text aggregated across the
//                                  agents by actor kind (mailbox depth max,
//                                  messages handled, restarts) and the
//                                  service supervisors' restarts
//   GET /agents/<uuid>/telemetry   that agent's /v2/telemetry document
//   GET /unconverged               the agents not at the goal, and why
// Each request asks the agents' telemetry actors through their typed
// interface (collect_telemetry) from a short-lived gathering actor, and the
// answer is written when the last agent answered or timed out; the server's
// own thread never waits for an agent.
#include "messages/root.hpp"
#include "messages/telemetry.hpp"

#include <caf/actor_system.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bosun::fleet {

struct inspected_agent {
  std::string uuid;
  root_actor root;
};

// An agent is converged when its app manager is idle, without failed
// passes, and (when commit is set) runs `commit` of `app_uuid`.
struct convergence_goal {
  std::string app_uuid;
  std::string commit;
};

// One agent's snapshot; std::nullopt with `error` when it did not answer.
struct agent_snapshot {
  std::string uuid;
  std::optional<telemetry_snapshot> snap;
  std::string error;
};

// Pure: the Prometheus text for these agents.
std::string fleet_metrics(const std::vector<agent_snapshot>& agents);

// Pure: why the agent is not converged, or std::nullopt when it is.
std::optional<std::string> unconverged_reason(const agent_snapshot& a,
                                              const convergence_goal& goal);

// Pure: {"agents":n,"goal":{...},"unconverged":[{"uuid","reason","state",
// "commit","failedPasses","lastError"}...]}.
std::string encode_unconverged(const std::vector<agent_snapshot>& agents,
                               const convergence_goal& goal);

class inspector {
public:
  explicit inspector(caf::actor_system& sys);
  ~inspector();
  inspector(const inspector&) = delete;
  inspector& operator=(const inspector&) = delete;

  // The agents to ask (again whenever agents start or stop; a restarted
  // agent's uuid replaces its old entry), and the goal.
  void set_agents(std::vector<inspected_agent> agents);
  void add_agent(inspected_agent agent);
  void set_goal(convergence_goal goal);

  // Listens on address:port (0: any free port) on a thread of its own;
  // returns the port, or std::nullopt with `why`.
  std::optional<uint16_t> start(const std::string& address, uint16_t port,
                                std::string* why = nullptr);
  // The same from "ADDR:PORT", and says where on stderr.
  std::optional<uint16_t> start(const std::string& addr_port,
                                std::string* why = nullptr);
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace bosun::fleet
