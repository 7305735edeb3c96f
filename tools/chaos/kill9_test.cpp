// The kill -9 matrix (issue 15 item 1; docs/RELIABILITY.md). Each trial: a
// seed picks a kill point (actors/apps/chaos_hook.hpp: a step kind, the
// nth time, before or after) and a change of one app that passes it; the
// real bosun applies the change with BOSUN_CHAOS_KILL_AT set and dies there
// by SIGKILL; a new bosun on the same data dir and engine must converge to
// the target with no duplicate or orphan container, no stray network or
// volume, the volume's data, a sound database and no update lock left.
//
//   BOSUN_CHAOS_TRIALS=N   N seeded trials (default: one per kind, for CI)
//   BOSUN_CHAOS_SEED=S     the first trial's seed (default 0); trial i uses
//                          S + i, and a failing trial prints its seed:
//                          BOSUN_CHAOS_SEED=<seed> BOSUN_CHAOS_TRIALS=1
//                          replays it.
#include "tests/support/bosun.hpp"
#include "tests/support/registry.hpp"

#include <algorithm>
#include <csignal>
#include <doctest/doctest.h>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>

using namespace std::chrono_literals;
using bosun::test::docker;
using bosun::test::eventually;
using bosun::test::running_bosun;

namespace {

constexpr int app_id = 9100;
const std::string app = std::to_string(app_id);

// The kill points the matrix covers, and which changes pass each.
struct kind_info {
  const char* kind;
  std::vector<int> changes; // indexes into change_names
  bool twice = false;       // reached at least twice by each of its changes
};

enum change_kind {
  from_empty,
  env_change,
  add_service,
  remove_service,
  image_change,
  volume_change,
  stop_service,
  release_only,
  handover_change,
};
const char* change_names[] = {"from empty",
                              "env change",
                              "add a service",
                              "remove a service",
                              "image change",
                              "volume config change",
                              "stop a service",
                              "new release, same config",
                              "env change, hand-over strategy"};

const std::vector<kind_info> kinds = {
  {"fetch", {from_empty, image_change}},
  {"volume-create", {from_empty, add_service, volume_change}},
  {"volume-remove", {volume_change}},
  {"network-create", {from_empty, add_service}},
  {"network-remove", {remove_service}},
  {"stop", {stop_service}},
  {"kill", {remove_service}, false},
  // A changed service whose new container waits for nothing is replaced in
  // one step (the old one killed, the new one created and started).
  {"replace", {env_change, image_change}, false},
  {"create", {from_empty, env_change, image_change}, true},
  {"start", {from_empty}, true},
  {"metadata", {release_only}},
  {"lock-take", {env_change, remove_service, image_change, stop_service}},
  {"lock-release", {env_change, remove_service, image_change, stop_service}},
  {"commit", {from_empty, env_change, add_service, release_only}},
  {"db", {from_empty, env_change, remove_service, release_only}},
  {"pull", {from_empty, image_change}, true},
  // The old container renamed old_<name> and kept running until the new one
  // is up and the hand-over timeout passed; then killed.
  {"handover", {handover_change}},
};

// One service of the app: "main" always (volume data, maybe scratch),
// "extra" sometimes (volume keep, network backend).
struct service_spec {
  std::string name;
  int id = 0;
  std::string image;
  std::string env_v = "1";
  bool running = true;
  bool handover = false; // io.balena.update.strategy: hand-over
};

struct app_spec {
  std::string commit = "c1";
  std::vector<service_spec> services;
  int scratch_gen = 0; // 0 = no scratch volume; else its label gen=<n>

  bool has(const std::string& name) const {
    return std::any_of(services.begin(), services.end(),
                       [&](const service_spec& s) { return s.name == name; });
  }
  std::string container(const service_spec& s) const {
    return s.name + "_" + std::to_string(s.id) + "_1_" + commit;
  }
  std::set<std::string> volumes() const {
    std::set<std::string> out{app + "_data"};
    if (has("extra"))
      out.insert(app + "_keep");
    if (scratch_gen != 0)
      out.insert(app + "_scratch");
    return out;
  }
  std::set<std::string> networks() const {
    std::set<std::string> out{app + "_default"};
    if (has("extra"))
      out.insert(app + "_backend");
    return out;
  }
};

const std::string sleeper
  = R"(["/bin/sh","-c","trap 'exit 0' TERM; sleep 100000 & wait"])";

std::string local_target(const app_spec& a) {
  std::ostringstream o;
  o << R"({"local":{"name":"chaos","config":{},"apps":{")" << app
    << R"(":{"name":"chaos","commit":")" << a.commit
    << R"(","releaseId":"1","services":{)";
  bool first = true;
  for (auto& s : a.services) {
    bool main = s.name == "main";
    o << (first ? "" : ",") << '"' << s.id << R"(":{"serviceName":")" << s.name
      << R"(","serviceId":)" << s.id << R"(,"imageId":)" << s.id
      << R"(,"image":")" << s.image << R"(","environment":{"V":")" << s.env_v
      << R"("},"labels":{"chaos":"yes")"
      << (s.handover ? R"(,"io.balena.update.strategy":"hand-over",)"
                       R"("io.balena.update.handover-timeout":"2000")"
                     : "")
      << R"(},"command":)" << sleeper << R"(,"running":)"
      << (s.running ? "true" : "false") << R"(,"volumes":[)"
      << (main ? R"("data:/data")" : R"("keep:/keep")")
      << (main && a.scratch_gen != 0 ? R"(,"scratch:/scratch")" : "") << "]"
      << (main ? "" : R"(,"networks":["backend"])") << "}";
    first = false;
  }
  o << R"(},"volumes":{"data":{})";
  if (a.has("extra"))
    o << R"(,"keep":{})";
  if (a.scratch_gen != 0)
    o << R"(,"scratch":{"labels":{"gen":")" << a.scratch_gen << R"("}})";
  o << R"(},"networks":{)" << (a.has("extra") ? R"("backend":{})" : "")
    << "}}}}}";
  return o.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l))
    if (!l.empty())
      out.push_back(l);
  return out;
}

std::set<std::string> with_prefix(const std::string& listing) {
  std::set<std::string> out;
  for (auto& l : lines_of(listing))
    if (l.rfind(app + "_", 0) == 0)
      out.insert(l);
  return out;
}

// name → "<running> <image> <env>" of the app's containers.
std::map<std::string, std::string> containers() {
  std::map<std::string, std::string> out;
  auto ids
    = lines_of(docker("ps -aq --filter label=io.balena.app-id=" + app).out);
  for (auto& id : ids) {
    auto r = docker("inspect -f '{{.Name}} {{.State.Running}} "
                    "{{.Config.Image}} {{json .Config.Env}}' "
                    + id);
    if (r.status != 0)
      continue; // removed meanwhile
    auto sp = r.out.find(' ');
    out[r.out.substr(1, sp - 1)] = r.out.substr(sp + 1);
  }
  return out;
}

void clean_app() {
  for (auto& id :
       lines_of(docker("ps -aq --filter label=io.balena.app-id=" + app).out))
    docker("rm -f " + id);
  for (auto& n : with_prefix(docker("network ls --format '{{.Name}}'").out))
    docker("network rm " + n);
  for (auto& v : with_prefix(docker("volume ls -q").out))
    docker("volume rm -f " + v);
}

// What differs between the engine and `a` ("" when it matches): the
// containers (each once, running as the target says, with its image and
// env), the networks and the volumes (`kept`: volumes an earlier target
// had, which balena keeps).
std::string mismatch(const app_spec& a, const std::set<std::string>& kept) {
  auto cs = containers();
  std::string out;
  std::set<std::string> expected;
  for (auto& s : a.services) {
    auto name = a.container(s);
    expected.insert(name);
    auto it = cs.find(name);
    if (it == cs.end()) {
      out += name + " missing; ";
      continue;
    }
    auto image = docker("image inspect -f '{{.Id}}' " + s.image).out;
    auto want = std::string(s.running ? "true " : "false ") + image + " ";
    if (it->second.rfind(want, 0) != 0
        || it->second.find("\"V=" + s.env_v + "\"") == std::string::npos)
      out += name + " is " + it->second + "; ";
  }
  for (auto& [name, _] : cs)
    if (expected.count(name) == 0)
      out += "extra container " + name + "; ";
  auto nets = with_prefix(docker("network ls --format '{{.Name}}'").out);
  if (nets != a.networks())
    out += "networks differ (" + std::to_string(nets.size()) + "); ";
  auto vols = with_prefix(docker("volume ls -q").out);
  auto want_vols = a.volumes();
  want_vols.insert(kept.begin(), kept.end());
  if (vols != want_vols)
    out += "volumes differ (" + std::to_string(vols.size()) + "); ";
  if (a.scratch_gen != 0) {
    auto gen = docker("volume inspect -f '{{index .Labels \"gen\"}}' " + app
                      + "_scratch")
                 .out;
    if (gen != std::to_string(a.scratch_gen))
      out += "scratch volume gen " + gen + "; ";
  }
  return out;
}

bool applied(running_bosun& b) {
  return b.get("/v2/state/status").body.find(R"("appState":"applied")")
         != std::string::npos;
}

// A trial as its seed decides it.
struct trial_plan {
  unsigned seed = 0;
  const kind_info* kind = nullptr;
  int change = 0;
  int nth = 1;
  bool after = false;
  // A second kill, in the bosun that recovers ("" = none).
  std::string again;

  std::string point() const {
    return std::string(kind->kind) + ":" + std::to_string(nth) + ":"
           + (after ? "after" : "before");
  }
};

trial_plan plan_for(unsigned seed) {
  trial_plan p;
  p.seed = seed;
  std::mt19937 rng{seed};
  p.kind = &kinds[seed % kinds.size()];
  p.change = p.kind->changes[rng() % p.kind->changes.size()];
  p.after = rng() % 2 == 1;
  p.nth = p.kind->twice && rng() % 2 == 1 ? 2 : 1;
  if (p.kind->kind == std::string("pull")) {
    p.nth = 1 + static_cast<int>(rng() % 4); // the nth progress line
    p.after = true;                          // its only point
  }
  // Every other trial (not the per-kind set CI runs) kills the recovery
  // too, at a point of a kind the same change passes.
  if (seed >= kinds.size() && rng() % 2 == 1) {
    std::vector<const kind_info*> fits;
    for (auto& k : kinds)
      if (std::count(k.changes.begin(), k.changes.end(), p.change) != 0)
        fits.push_back(&k);
    auto& k = *fits[rng() % fits.size()];
    bool after = rng() % 2 == 1 || k.kind == std::string("pull");
    p.again = std::string(k.kind) + ":1:" + (after ? "after" : "before");
  }
  return p;
}

struct images {
  std::string a; // the test image
  std::string b; // another image in the registry
};

// The app before and after the change.
std::pair<std::optional<app_spec>, app_spec> change_of(int change,
                                                       const images& im) {
  app_spec before;
  before.services.push_back({"main", 1, im.a});
  before.services.push_back({"extra", 2, im.a});
  auto after = before;
  after.commit = "c2";
  switch (change) {
    case from_empty:
      return {std::nullopt, after};
    case env_change:
      for (auto& s : after.services)
        s.env_v = "2";
      break;
    case add_service:
      before.services.pop_back();
      break;
    case remove_service:
      after.services.pop_back();
      break;
    case image_change:
      for (auto& s : after.services)
        s.image = im.b;
      break;
    case volume_change:
      before.scratch_gen = 1;
      after.scratch_gen = 2;
      break;
    case stop_service:
      after.services.back().running = false;
      break;
    case handover_change:
      before.services.front().handover = true;
      after.services.front().handover = true;
      after.services.front().env_v = "2";
      break;
    default: // release_only
      break;
  }
  return {before, after};
}

struct figures {
  int trials = 0, killed = 0, killed_again = 0, not_reached = 0, converged = 0,
      duplicates = 0, data_lost = 0, integrity = 0, locks_left = 0;
  std::chrono::milliseconds worst{0};
};

void run_trial(const trial_plan& p, const images& im, figures& fig) {
  CAPTURE(p.seed);
  MESSAGE("trial seed ", p.seed, ": ", std::string(change_names[p.change]),
          ", kill at ", p.point(),
          p.again.empty() ? std::string() : ", again at " + p.again);
  auto [before, after] = change_of(p.change, im);
  clean_app();
  // Each trial that fetches finds its image missing.
  if (p.change == from_empty)
    docker("rmi -f " + im.a);
  if (p.change == image_change)
    docker("rmi -f " + im.b);
  bosun::test::temp_dir state;
  auto data_dir = state.path() + "/data";
  std::string token = "seed-" + std::to_string(p.seed);
  std::set<std::string> kept;
  ++fig.trials;
  if (before) {
    running_bosun a({}, data_dir);
    REQUIRE(a.wait_ready());
    REQUIRE(a.post("/v2/local/target-state", local_target(*before)).status
            == 200);
    REQUIRE_MESSAGE(eventually(
                      120s,
                      [&](std::string& last) {
                        last = mismatch(*before, {});
                        return last.empty() && applied(a);
                      },
                      "the starting state"),
                    a.log());
    auto main = before->container(before->services.front());
    REQUIRE(
      docker("exec " + main + " /bin/sh -c 'echo " + token + " > /data/file'")
        .status
      == 0);
    kept = before->volumes();
    a.proc().signal(SIGTERM);
    REQUIRE(a.proc().wait_exit(30s).has_value());
  }
  {
    running_bosun b({}, data_dir, "{}", {{"BOSUN_CHAOS_KILL_AT", p.point()}});
    REQUIRE(b.wait_ready());
    auto r = b.post("/v2/local/target-state", local_target(after));
    CHECK_MESSAGE((r.status == 200 || r.status == 0), r.body);
    std::optional<int> exit;
    // At the target without passing the point: given a few seconds more
    // (the last steps, commit and lock release, follow the containers).
    std::optional<std::chrono::steady_clock::time_point> at_target;
    eventually(
      120s,
      [&](std::string& last) {
        exit = b.proc().wait_exit(0ms);
        if (exit)
          return true;
        if (!at_target && applied(b) && mismatch(after, kept).empty())
          at_target = std::chrono::steady_clock::now();
        last = at_target ? "the target was reached without passing the point"
                         : "bosun still running";
        return at_target && std::chrono::steady_clock::now() - *at_target > 5s;
      },
      "bosun to die at " + p.point());
    if (exit && *exit == 128 + SIGKILL
        && b.log().find("chaos: SIGKILL at " + p.point())
             != std::string::npos) {
      ++fig.killed;
    } else {
      ++fig.not_reached;
      MESSAGE("seed ", p.seed, ": ", p.point(), " not reached (exit ",
              exit ? std::to_string(*exit) : "none", ")\n", b.log());
      b.proc().signal(SIGKILL);
      b.proc().wait_exit(10s);
    }
  }
  if (!p.again.empty()) {
    // The recovery dies too, if it passes that point before converging.
    // (It may die before its API answers: it resumes the apply at once.)
    running_bosun b2({}, data_dir, "{}", {{"BOSUN_CHAOS_KILL_AT", p.again}});
    eventually(120s, [&](std::string& last) {
      last = "the second bosun neither died nor converged";
      return b2.proc().wait_exit(0ms).has_value()
             || (applied(b2) && mismatch(after, kept).empty());
    });
    if (b2.log().find("chaos: SIGKILL at ") != std::string::npos)
      ++fig.killed_again;
  }
  auto start = std::chrono::steady_clock::now();
  running_bosun c({}, data_dir);
  REQUIRE(c.wait_ready());
  std::string last;
  bool ok = eventually(
    180s,
    [&](std::string& l) {
      l = mismatch(after, kept);
      last = l;
      return l.empty() && applied(c);
    },
    "convergence after the kill (replay: BOSUN_CHAOS_SEED="
      + std::to_string(p.seed) + " BOSUN_CHAOS_TRIALS=1)");
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - start);
  if (ok) {
    ++fig.converged;
    fig.worst = std::max(fig.worst, took);
  } else {
    MESSAGE(c.log());
  }
  if (last.find("extra container") != std::string::npos)
    ++fig.duplicates;
  if (before) {
    auto main = after.container(after.services.front());
    auto data = docker("exec " + main + " cat /data/file").out;
    if (data != token)
      ++fig.data_lost;
    CHECK_MESSAGE(data == token, "the volume lost its data (seed ", p.seed,
                  ")");
  }
  c.proc().signal(SIGTERM);
  CHECK(c.proc().wait_exit(30s).has_value());
  auto integrity = bosun::test::run_command("sqlite3 -readonly " + data_dir
                                            + "/bosun.sqlite "
                                              "'PRAGMA integrity_check'");
  if (integrity.out != "ok")
    ++fig.integrity;
  CHECK_MESSAGE(integrity.out == "ok", integrity.out);
  auto locks = bosun::test::run_command(
    "find " + data_dir
    + "/services -name '*updates.lock' -user 65534 2>/dev/null");
  if (!locks.out.empty())
    ++fig.locks_left;
  CHECK_MESSAGE(locks.out.empty(), "update locks left held: ", locks.out);
  MESSAGE("seed ", p.seed, ": ", std::string(ok ? "" : "NOT "), "converged in ",
          took.count(), " ms");
}

long env_long(const char* name, long dflt) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::stol(v) : dflt;
}

} // namespace

TEST_SUITE("chaos") {
  TEST_CASE("kill -9 at each apply step: a restarted bosun converges with "
            "no duplicates, its data, a sound db and no lock left") {
    images im;
    im.a = bosun::test::required_env("BOSUN_TEST_IMAGE");
    im.b = bosun::test::push_layered_image(im.a, "bosun/chaos-b:1",
                                           "echo b > /image-b");
    auto first = static_cast<unsigned>(env_long("BOSUN_CHAOS_SEED", 0));
    auto trials = env_long("BOSUN_CHAOS_TRIALS", long(kinds.size()));
    bool every_point_required = std::getenv("BOSUN_CHAOS_TRIALS") == nullptr;
    figures fig;
    for (long i = 0; i < trials; ++i)
      run_trial(plan_for(first + static_cast<unsigned>(i)), im, fig);
    clean_app();
    MESSAGE("kill -9 matrix, seeds ", first, "..", first + trials - 1, ": ",
            fig.trials, " trials, ", fig.killed, " killed at their point (",
            fig.killed_again, " killed again while recovering), ",
            fig.not_reached, " point not reached, ", fig.converged,
            " converged, ", fig.duplicates, " with duplicates, ", fig.data_lost,
            " lost data, ", fig.integrity, " integrity failures, ",
            fig.locks_left, " left a lock, worst recovery ", fig.worst.count(),
            " ms");
    CHECK(fig.converged == fig.trials);
    if (every_point_required)
      CHECK(fig.not_reached == 0);
  }
}
