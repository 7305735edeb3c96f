#pragma once

// POST /v2/journal-logs (reference/host.md §5): journalctl with the
// arguments the body asks for, its stdout streamed to the requester. One
// runner per request, a detached actor (its own thread: it waits on the
// pipe, at most a second at a time so a stop is seen), which kills
// (SIGKILL) and reaps the process when the reader goes away, and always
// reaps it before it ends.
#include "messages/host.hpp"

#include <caf/actor_system.hpp>
#include <string>
#include <vector>

namespace bosun {

// `journalctl [-a] [--follow] [-u U] [-t ID] [-n N] [-S S] [-U U] -o F`,
// in that order, argv[0] = `binary`.
std::vector<std::string> journal_argv(const std::string& binary,
                                      const journal_query& q);

// `detached`: on a thread of its own, waiting on the pipe (a device); false:
// on the scheduler, looking at the pipe without waiting and again after
// a short delay (fleet-sim).
journal_runner_actor spawn_journal_runner(caf::actor_system& sys,
                                          std::vector<std::string> argv,
                                          journal_sink_actor sink,
                                          bool detached = true);

} // namespace bosun
