#include "actors/host/journal.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace bosun {

namespace {

constexpr int poll_ms = 1000;
// On the scheduler: how long until an empty pipe is looked at again.
constexpr auto scheduled_poll = std::chrono::milliseconds{50};
constexpr size_t chunk_bytes = 64 * 1024;

struct runner_state {
  static inline const char* name = "journal_runner";
  journal_sink_actor sink;
  pid_t pid = -1;
  int fd = -1;
  bool waiting_ack = false;
  bool detached = true; // false: never wait in poll (a scheduler worker)
};

using runner_ptr = journal_runner_actor::stateful_pointer<runner_state>;

// Ends the run: kills journalctl when asked to, reaps it, tells the sink.
void finish(runner_ptr self, bool kill) {
  auto& st = self->state;
  if (st.fd >= 0)
    ::close(st.fd);
  st.fd = -1;
  if (st.pid > 0) {
    if (kill)
      ::kill(st.pid, SIGKILL);
    int status = 0;
    while (::waitpid(st.pid, &status, 0) < 0 && errno == EINTR) {
    }
    st.pid = -1;
  }
  self->send(st.sink, journal_end{});
  self->quit();
}

bool start(runner_ptr self, const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return false;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  // stderr is discarded (balena).
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int r = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (r != 0) {
    ::close(fds[0]);
    return false;
  }
  self->state.pid = pid;
  self->state.fd = fds[0];
  return true;
}

journal_runner_actor::behavior_type runner_impl(runner_ptr self,
                                                std::vector<std::string> argv,
                                                journal_sink_actor sink,
                                                bool detached) {
  self->state.sink = std::move(sink);
  self->state.detached = detached;
  if (!start(self, argv)) {
    // A journalctl that cannot start gives an empty stream.
    self->send(self->state.sink, journal_end{});
    self->quit();
    return {[](journal_more) {}, [](journal_stop) {}, [](journal_poll) {}};
  }
  // A sink that dies (its connection's actor) is a reader gone.
  self->monitor(self->state.sink);
  self->set_down_handler([self](caf::down_msg&) { finish(self, true); });
  self->send(self, journal_poll{});
  return {
    [self](journal_poll) {
      auto& st = self->state;
      if (st.fd < 0 || st.waiting_ack)
        return;
      pollfd p{st.fd, POLLIN, 0};
      int n = ::poll(&p, 1, st.detached ? poll_ms : 0);
      if (n == 0 || (n < 0 && errno == EINTR)) {
        // Nothing yet: look at the mailbox (a stop), then wait again.
        if (st.detached)
          self->send(self, journal_poll{});
        else
          self->delayed_send(self, scheduled_poll, journal_poll{});
        return;
      }
      std::string buf(chunk_bytes, '\0');
      auto got = ::read(st.fd, buf.data(), buf.size());
      if (got <= 0)
        return finish(self, false);
      buf.resize(static_cast<size_t>(got));
      st.waiting_ack = true;
      self->send(st.sink, journal_chunk{std::move(buf)},
                 journal_runner_actor{self});
    },
    [self](journal_more) {
      self->state.waiting_ack = false;
      self->send(self, journal_poll{});
    },
    [self](journal_stop) { finish(self, true); },
  };
}

} // namespace

std::vector<std::string> journal_argv(const std::string& binary,
                                      const journal_query& q) {
  std::vector<std::string> a{binary};
  if (q.all)
    a.emplace_back("-a");
  if (q.follow)
    a.emplace_back("--follow");
  auto pair = [&a](const char* flag, const std::optional<std::string>& v) {
    if (v) {
      a.emplace_back(flag);
      a.push_back(*v);
    }
  };
  pair("-u", q.unit);
  pair("-t", q.container_id);
  if (q.count && *q.count > 0) {
    a.emplace_back("-n");
    a.push_back(std::to_string(*q.count));
  }
  pair("-S", q.since);
  pair("-U", q.until);
  a.emplace_back("-o");
  a.push_back(q.format.empty() ? "short" : q.format);
  return a;
}

journal_runner_actor spawn_journal_runner(caf::actor_system& sys,
                                          std::vector<std::string> argv,
                                          journal_sink_actor sink,
                                          bool detached) {
  if (!detached)
    return sys.spawn(runner_impl, std::move(argv), std::move(sink), false);
  return sys.spawn<caf::detached>(runner_impl, std::move(argv), std::move(sink),
                                  true);
}

} // namespace bosun
