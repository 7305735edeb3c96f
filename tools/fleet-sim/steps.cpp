// The runner's stages (opening, probing, closing with the reasons and the
// telemetry of the ones that did not converge) and the steps that change
// the fleet: start, release, restart, behave, log flood, fault.
#include "actors/telemetry/process_stats.hpp"
#include "tools/fleet-sim/runner.hpp"
#include "tools/fleet-sim/sim_world.hpp"

#include <algorithm>
#include <malloc.h>
#include <sqlite3.h>

namespace bosun::fleet {

using namespace std::chrono_literals;

void runner::open(const std::string& name, const std::string& rel,
                  std::vector<size_t> ds, size_t started) {
  stage_result sr;
  sr.name = name;
  sr.release = rel;
  sr.t0_s = since_start();
  sr.devices = ds.size();
  sr.started = started;
  sr.rss_before = rss_now();
  res_.stages.push_back(sr);
  if (!rel.empty()) // --inspect's /unconverged: the newest stage's release
    inspector_.set_goal({app_uuid(fleet_), commit_of(*s_.find(rel))});
  open_stage os;
  os.index = res_.stages.size() - 1;
  os.t0 = clock_type::now();
  os.done.assign(ds.size(), false);
  int at = static_cast<int>(open_.size());
  for (auto i : ds) {
    if (stage_of_[i] >= 0) {
      // Superseded: it no longer counts in the older stage.
      auto& old = open_[static_cast<size_t>(stage_of_[i])];
      auto p = std::find(old.devices.begin(), old.devices.end(), i)
               - old.devices.begin();
      old.done[static_cast<size_t>(p)] = true;
      ++res_.stages[old.index].superseded;
    }
    stage_of_[i] = at;
  }
  os.devices = std::move(ds);
  open_.push_back(std::move(os));
  event("stage \"" + name + "\": " + std::to_string(sr.devices) + " devices");
}

// When device i converged, as far as can be told: its containers' last
// change (the simulated engine records it), if that came between the
// stage's start and the probe that found its app manager idle at the
// release; else the probe's own time. Probes go through the same CAF
// workers as the agents, so when thousands apply at once a probe answers
// late and would see a whole stage converge at once; the engine's record
// does not wait for them. (A crash-looping service keeps changing its
// containers: the probe's time stands.)
clock_type::time_point runner::converged_at(size_t i, clock_type::time_point t0,
                                            clock_type::time_point probed) {
  const auto& w = agents_.all()[i].world;
  if (!w)
    return probed;
  auto ns = w->last_container_change_ns();
  auto changed
    = clock_type::time_point(std::chrono::duration_cast<clock_type::duration>(
      std::chrono::nanoseconds(ns)));
  if (ns == 0 || changed > probed)
    return probed;
  return std::max(changed, t0);
}

void runner::probe() {
  std::vector<device*> ask;
  std::vector<std::pair<size_t, size_t>> where; // (open stage, position)
  for (size_t s = 0; s < open_.size(); ++s)
    for (size_t p = 0; p < open_[s].devices.size(); ++p)
      if (!open_[s].done[p]) {
        ask.push_back(&agents_.all()[open_[s].devices[p]]);
        where.emplace_back(s, p);
      }
  if (ask.empty())
    return;
  auto rs = agents_.probe(ask, 10s);
  auto now = clock_type::now();
  for (size_t k = 0; k < rs.size(); ++k) {
    auto [s, p] = where[k];
    auto& os = open_[s];
    auto i = os.devices[p];
    const auto& r = rs[k];
    if (r.answered && r.state == apps_state::idle
        && r.commit == commit_of(*s_.find(served_[i]))) {
      os.done[p] = true;
      res_.stages[os.index].times_s.push_back(
        std::chrono::duration<double>(converged_at(i, os.t0, now) - os.t0)
          .count());
    }
  }
}

void runner::close_all(double min_percent) {
  for (auto& os : open_) {
    auto& sr = res_.stages[os.index];
    // Every device of the stage as it is now: the reasons of the ones that
    // did not converge, and services crash-looping on converged ones (an
    // app manager at its target may still restart a failing service).
    std::vector<device*> ask;
    std::vector<bool> done;
    for (size_t p = 0; p < os.devices.size(); ++p) {
      ask.push_back(&agents_.all()[os.devices[p]]);
      done.push_back(os.done[p]);
    }
    auto rs = agents_.probe(ask, 10s);
    for (size_t k = 0; k < rs.size(); ++k) {
      const auto& r = rs[k];
      if (r.crash_looping > 0)
        sr.crash_looping.push_back(ask[k]->uuid);
      if (done[k])
        continue;
      std::string why;
      if (!ask[k]->running)
        why = "not running";
      else if (!r.answered)
        why = "app_manager did not answer";
      else
        why = std::string(to_string(r.state)) + " at "
              + (r.commit.empty() ? std::string{"no release"} : r.commit)
              + (r.crash_looping ? ", crash-looping" : "")
              + (r.last_error.empty() ? "" : ", last error: " + r.last_error);
      sr.not_converged.push_back({ask[k]->uuid, why});
    }
    for (auto i : os.devices)
      stage_of_[i] = -1;
    mailboxes(sr, os.devices);
    sr.rss_after = rss_now();
    // Where the memory is: the heap in use, SQLite's share of it (every
    // connection in the process), and how many actors run.
    auto mi = ::mallinfo2();
    sr.heap_bytes = mi.uordblks + mi.hblkhd;
    sr.sqlite_bytes = static_cast<uint64_t>(::sqlite3_memory_used());
    sr.actors = sys_.registry().running();
    sr.min_percent = min_percent;
    auto need
      = static_cast<double>(sr.devices - sr.superseded) * min_percent / 100.0;
    sr.ok = static_cast<double>(sr.times_s.size()) + 1e-9 >= need;
    if (!sr.ok)
      res_.ok = false;
    event("stage \"" + sr.name
          + "\" closed: " + std::to_string(sr.times_s.size()) + "/"
          + std::to_string(sr.devices - sr.superseded) + " converged");
  }
  open_.clear();
}

void runner::mailboxes(stage_result& sr, const std::vector<size_t>& ds) {
  // Up to 100 of the stage's agents, a fixed choice.
  std::vector<size_t> pick;
  for (auto i : order(n_, o_.seed, 5))
    if (pick.size() < 100 && agents_.all()[i].running
        && std::find(ds.begin(), ds.end(), i) != ds.end())
      pick.push_back(i);
  for (auto i : pick) {
    auto t = agents_.telemetry_of(agents_.all()[i]);
    if (!t)
      continue;
    ++sr.mailbox_agents;
    for (const auto& a : t->actors) {
      if (!a.sampled)
        continue;
      auto& m = sr.mailboxes[a.kind];
      m.first = std::max(m.first, a.sample.mailbox);
      m.second = std::max(m.second, a.sample.mailbox_max);
    }
  }
}

void runner::do_start(const step& st) {
  auto rss = rss_now();
  auto t0 = clock_type::now();
  auto k = share(st.percent, n_);
  size_t started = 0;
  std::vector<size_t> fresh;
  for (size_t i = 0; i < k; ++i)
    if (!agents_.all()[i].running && agents_.all()[i].starts == 0)
      fresh.push_back(i);
  open(st.stage, s_.initial, fresh, fresh.size());
  res_.stages.back().rss_before = rss;
  open_.back().t0 = t0;
  size_t before = 0; // agents started by earlier steps
  for (const auto& d : agents_.all())
    before += d.starts > 0 ? 1 : 0;
  for (auto i : fresh) {
    if (auto why = agents_.start(agents_.all()[i]); !why.empty()) {
      error("agent " + std::to_string(agents_.all()[i].index) + ": " + why);
      continue;
    }
    inspect(agents_.all()[i]);
    ++started;
    if (started % 1000 == 0) {
      res_.rss_checkpoints.push_back({started + before, rss_now()});
      tick();
    }
  }
  res_.stages.back().start_s
    = std::chrono::duration<double>(clock_type::now() - t0).count();
  event("started " + std::to_string(started) + " agents in "
        + std::to_string(res_.stages.back().start_s) + " s");
}

bool runner::do_release(const step& st, size_t number) {
  const auto& rel = *s_.find(st.release);
  auto k = share(st.percent, n_);
  auto ord = order(n_, o_.seed, 1);
  std::vector<size_t> ds;
  auto body = target_of(fleet_, rel);
  // The whole fleet (decided on the fleet's count, so that every shard
  // agrees): the fleet's target, set once, by shard 0. The others wait for
  // it before they drop their devices' own targets, so that no device
  // falls back to the fleet's old release in between.
  if (share(st.percent, res_.fleet_devices) == res_.fleet_devices) {
    if (leader()) {
      std::string out;
      if (int status = cloud_.call(
            "PUT", "/fleets/" + std::to_string(fleet_) + "/target", body, &out);
          status != 200)
        error("fleet target " + rel.name + ": " + std::to_string(status) + " "
              + out);
      else if (sharded())
        event("fleet target: " + rel.name);
    }
    if (!sync("s" + std::to_string(number) + "-fleet-target",
              "fleet target of step " + std::to_string(number), number, {}))
      return false;
    for (size_t i = 0; i < n_; ++i) {
      if (own_target_[i]) {
        cloud_.call("DELETE", "/devices/" + agents_.all()[i].uuid + "/target");
        own_target_[i] = false;
      }
      if (served_[i] != rel.name) {
        served_[i] = rel.name;
        if (agents_.all()[i].starts > 0)
          ds.push_back(i);
      }
    }
  } else {
    for (size_t j = 0; j < k; ++j) {
      auto i = ord[j];
      if (served_[i] == rel.name)
        continue;
      int status = cloud_.call(
        "PUT", "/devices/" + agents_.all()[i].uuid + "/target", body);
      if (status != 200) {
        error("device target for " + agents_.all()[i].uuid + ": "
              + std::to_string(status));
        continue;
      }
      own_target_[i] = true;
      served_[i] = rel.name;
      if (agents_.all()[i].starts > 0)
        ds.push_back(i);
    }
  }
  open(st.stage, rel.name, std::move(ds));
  return true;
}

void runner::do_restart(const step& st) {
  std::vector<size_t> running;
  for (auto i : order(n_, o_.seed, 2))
    if (agents_.all()[i].running)
      running.push_back(i);
  running.resize(std::min(running.size(), share(st.percent, running.size())));
  std::vector<device*> ds;
  for (auto i : running)
    ds.push_back(&agents_.all()[i]);
  auto t0 = clock_type::now();
  if (auto late = agents_.stop(ds, 30s); late > 0)
    error(std::to_string(late) + " actors of killed agents did not stop");
  size_t again = 0;
  for (auto* d : ds) {
    if (auto why = agents_.start(*d); !why.empty())
      error("restarting agent " + std::to_string(d->index) + ": " + why);
    else {
      inspect(*d);
      ++again;
    }
  }
  res_.restarts += again;
  event("killed " + std::to_string(ds.size()) + " agents and started "
        + std::to_string(again) + " again from their data dirs in "
        + std::to_string(
          std::chrono::duration<double>(clock_type::now() - t0).count())
        + " s");
}

void runner::do_behave(const step& st) {
  auto ord = order(n_, o_.seed, 3);
  ord.resize(share(st.percent, n_));
  sim::behaviour how;
  how.kind = st.behaviour == "crash_loop"  ? sim::behaviour_kind::crash_loop
             : st.behaviour == "exit_once" ? sim::behaviour_kind::exit_once
             : st.behaviour == "unhealthy" ? sim::behaviour_kind::unhealthy
                                           : sim::behaviour_kind::run;
  how.run_for
    = std::chrono::duration_cast<std::chrono::milliseconds>(wall(st.run_for_s));
  how.exit_code = st.exit_code;
  size_t told = 0;
  for (auto i : ord) {
    auto& d = agents_.all()[i];
    if (auto e = agents_.engine_of(d)) {
      caf::anon_send(e, sim::sim_behave{st.service, how});
      res_.behaving.push_back(d.uuid);
      ++told;
    }
  }
  event(std::to_string(told) + " devices: " + st.service + " will "
        + st.behaviour);
}

void runner::do_flood(const step& st) {
  auto ord = order(n_, o_.seed, 4);
  ord.resize(share(st.percent, n_));
  flood f;
  f.devices = ord;
  f.service = st.service;
  f.lines_per_s = st.lines_per_s;
  f.last = clock_type::now();
  f.until = f.last + length(st);
  for (auto i : ord)
    res_.flood_devices.push_back(agents_.all()[i].uuid);
  floods_.push_back(f);
  event(std::to_string(ord.size()) + " devices flood logs ("
        + std::to_string(static_cast<int>(st.lines_per_s))
        + " lines/s each, wall time)");
}

void runner::do_fault(const step& st) {
  if (!leader()) { // cloud-sim's faults are global: shard 0 posts them
    event("fault " + st.fault_json + " (posted by shard 0)");
    return;
  }
  std::string out;
  int status = cloud_.call("POST", "/faults", st.fault_json, &out);
  if (status != 200) {
    error("fault " + st.fault_json + ": " + std::to_string(status) + " " + out);
    return;
  }
  event("fault " + st.fault_json);
  if (timed(st)) {
    auto route = st.route;
    auto target = route == "all" ? std::string{"/faults"} : "/faults/" + route;
    due_.push_back({clock_type::now() + length(st),
                    "fault on " + route + " cleared",
                    [this, target] { cloud_.call("DELETE", target); }});
  }
}

} // namespace bosun::fleet
