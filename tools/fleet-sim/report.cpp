#include "tools/fleet-sim/report.hpp"

#include "tools/cloud-sim/json.hpp"
#include "tools/fleet-sim/cloud.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <rapidjson/document.h>
#include <sstream>

namespace bosun::fleet {

namespace {

using value = rapidjson::Value;

double num(const value& v, const char* key) {
  auto* m = cloud_sim::json::member(v, key);
  return m != nullptr && m->IsNumber() ? m->GetDouble() : 0.0;
}

std::string str(const value& v, const char* key) {
  return cloud_sim::json::get_string(v, key).value_or("");
}

const value& arr(const value& v, const char* key) {
  static const value empty(rapidjson::kArrayType);
  auto* m = cloud_sim::json::member(v, key);
  return m != nullptr && m->IsArray() ? *m : empty;
}

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, x);
  return buf;
}

std::string mb(double bytes) {
  return fmt("%.1f MB", bytes / 1e6);
}

std::string kb(double bytes) {
  return fmt("%.0f KB", bytes / 1024);
}

bool have_gnuplot() {
  return std::system("gnuplot --version >/dev/null 2>&1") == 0;
}

// Per-second rates between samples, one column per route:
// t requests... bytes(in+out)...
void write_rates(const value& samples, const std::string& path) {
  std::ofstream o(path);
  o << "# t_s";
  for (auto* r : route_names)
    o << " req:" << r;
  for (auto* r : route_names)
    o << " bytes:" << r;
  o << "\n";
  const value* prev = nullptr;
  for (const auto& s : samples.GetArray()) {
    if (!s.IsArray() || s.Size() < 5 || !s[4].IsObject())
      continue;
    if (prev != nullptr) {
      double dt = s[0].GetDouble() - (*prev)[0].GetDouble();
      if (dt <= 0)
        continue;
      o << s[0].GetDouble();
      for (int pass = 0; pass < 2; ++pass)
        for (auto* r : route_names) {
          auto* a = cloud_sim::json::member(s[4], r);
          auto* b = cloud_sim::json::member((*prev)[4], r);
          double d = 0;
          if (a != nullptr && b != nullptr && a->IsArray() && b->IsArray()) {
            if (pass == 0)
              d = (*a)[0].GetDouble() - (*b)[0].GetDouble();
            else
              d = (*a)[1].GetDouble() + (*a)[2].GetDouble()
                  - (*b)[1].GetDouble() - (*b)[2].GetDouble();
          }
          o << ' ' << std::max(0.0, d / dt);
        }
      o << "\n";
    }
    prev = &s;
  }
}

std::string plot_script(const value& doc, const std::string& dir) {
  double scale = num(doc, "scale");
  std::ostringstream g;
  g << "set terminal svg size 900,480 dynamic font 'sans,11' background "
       "'white'\nset grid\nset key outside right\n";
  g << "set output '" << dir << "/convergence.svg'\n"
    << "set title 'Devices converged per stage (" << num(doc, "devices")
    << " devices, scale " << scale << ")'\n"
    << "set xlabel 'fleet time since the stage began (minutes)'\n"
    << "set ylabel 'devices converged (% of the stage)'\nset yrange [0:105]\n";
  std::ostringstream plots;
  size_t k = 0;
  for (const auto& s : arr(doc, "stages").GetArray()) {
    auto n = num(s, "devices") - num(s, "superseded");
    if (n <= 0)
      continue;
    auto file = dir + "/stage" + std::to_string(k) + ".dat";
    std::ofstream o(file);
    size_t i = 0;
    for (const auto& t : arr(s, "times_s").GetArray())
      o << t.GetDouble() * scale / 60.0 << ' ' << 100.0 * double(++i) / n
        << "\n";
    plots << (k ? ", " : "") << "'" << file << "' using 1:2 with steps lw 2 "
          << "title '" << str(s, "name") << "'";
    ++k;
  }
  if (k > 0)
    g << "plot " << plots.str() << "\n";
  g << "set yrange [*:*]\nset xlabel 'wall time since the run began (s)'\n";
  auto rates = dir + "/rates.dat";
  auto col = [&](size_t first, const char* what) {
    std::ostringstream p;
    for (size_t i = 0; i < route_names.size(); ++i)
      p << (i ? ", " : "") << "'" << rates << "' using 1:" << first + i
        << " with lines lw 2 title '" << route_names[i] << "'";
    return "plot " + p.str() + "\n" + std::string(what);
  };
  g << "set output '" << dir << "/requests.svg'\n"
    << "set title 'Cloud requests per second by route'\n"
    << "set ylabel 'requests/s'\n"
    << col(2, "");
  g << "set output '" << dir << "/bytes.svg'\n"
    << "set title 'Cloud bytes per second by route (in + out)'\n"
    << "set ylabel 'bytes/s'\n"
    << col(2 + route_names.size(), "");
  g << "set output '" << dir << "/resources.svg'\n"
    << "set title 'fleet-sim process: RSS and CPU'\n"
    << "set ylabel 'RSS (MB)'\nset y2label 'CPU (cores)'\nset y2tics\n"
    << "plot '" << dir << "/resources.dat' using 1:2 with lines lw 2 title "
    << "'RSS', '' using 1:3 axes x1y2 with lines lw 2 title 'CPU'\n";
  return g.str();
}

void write_resources(const value& samples, const std::string& path) {
  std::ofstream o(path);
  o << "# t_s rss_mb cpu_cores\n";
  const value* prev = nullptr;
  for (const auto& s : samples.GetArray()) {
    if (!s.IsArray() || s.Size() < 4)
      continue;
    double cores = 0;
    if (prev != nullptr) {
      double dt = s[0].GetDouble() - (*prev)[0].GetDouble();
      if (dt > 0)
        cores = (s[2].GetDouble() - (*prev)[2].GetDouble()) / dt;
    }
    o << s[0].GetDouble() << ' ' << s[1].GetDouble() / 1e6 << ' ' << cores
      << "\n";
    prev = &s;
  }
}

void stages_table(std::ostream& md, const value& doc) {
  double scale = num(doc, "scale");
  md << "| stage | release | devices | converged | p50 | p90 | p99 | max "
        "| ok |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : arr(doc, "stages").GetArray()) {
    const auto& f = s["fleet_s"];
    const auto& w = s["wall_s"];
    auto cell = [&](const char* q) {
      return fmt("%.0f s", num(f, q)) + fmt(" (%.2f s wall)", num(w, q));
    };
    md << "| " << str(s, "name") << " | " << str(s, "release") << " | "
       << num(s, "devices") - num(s, "superseded") << " | "
       << num(s, "converged") << " | " << cell("p50") << " | " << cell("p90")
       << " | " << cell("p99") << " | " << cell("max") << " | "
       << (s["ok"].GetBool() ? "yes" : "**no**") << " |\n";
  }
  md << "\nTimes are fleet time (wall × " << scale
     << ") from the stage's start to the device's app manager being idle at "
        "the release. A rollout's bound is the scaled poll interval ("
     << fmt("%.1f", num(doc, "poll_interval_s")) << " s wall) + cloud_sync's "
     << "jitter (" << num(doc, "max_jitter_s")
     << " s wall, not scaled) + the simulated apply ("
     << fmt("%.2f", num(doc, "apply_estimate_s")) << " s wall) = "
     << fmt("%.1f s wall", num(doc, "poll_interval_s")
                             + num(doc, "max_jitter_s")
                             + num(doc, "apply_estimate_s"))
     << ".\n\n";
  for (const auto& s : arr(doc, "stages").GetArray()) {
    if (auto* mb = cloud_sim::json::member(s, "mailboxes");
        mb != nullptr && mb->IsObject() && mb->MemberCount() > 0) {
      md << "\"" << str(s, "name") << "\": mailboxes of "
         << num(s, "mailbox_agents")
         << " agents' actors when the stage closed (deepest now / deepest "
            "seen behind one message): ";
      bool first = true;
      for (auto& m : mb->GetObject()) {
        md << (first ? "" : ", ") << m.name.GetString() << " "
           << m.value[0].GetUint64() << "/" << m.value[1].GetUint64();
        first = false;
      }
      md << ".\n\n";
    }
    const auto& cl = arr(s, "crash_looping");
    if (!cl.Empty())
      md << "\"" << str(s, "name") << "\": " << cl.Size()
         << " devices had a crash-looping service when the stage closed "
            "(their app managers were at the release, restarting it).\n\n";
    const auto& nc = arr(s, "not_converged");
    if (nc.Empty())
      continue;
    md << "Not converged in \"" << str(s, "name") << "\" (" << nc.Size()
       << "):\n\n";
    size_t i = 0;
    for (const auto& n : nc.GetArray()) {
      if (++i > 20) {
        md << "- … " << nc.Size() - 20 << " more\n";
        break;
      }
      md << "- `" << str(n, "uuid") << "`: " << str(n, "why") << "\n";
    }
    md << "\n";
  }
}

void cloud_table(std::ostream& md, const value& doc) {
  auto* c = cloud_sim::json::member(doc, "cloud_counts");
  if (c == nullptr || !c->IsObject())
    return;
  double wall = std::max(num(doc, "wall_s"), 1e-9);
  md << "| route | requests | req/s | bytes in | bytes out | bytes/s | "
        "statuses |\n|---|---|---|---|---|---|---|\n";
  for (auto* r : route_names) {
    auto* x = cloud_sim::json::member(*c, r);
    if (x == nullptr || num(*x, "requests") == 0)
      continue;
    std::string statuses;
    if (auto* st = cloud_sim::json::member(*x, "statuses"))
      for (auto& m : st->GetObject())
        statuses += std::string(statuses.empty() ? "" : ", ")
                    + m.name.GetString() + ": "
                    + fmt("%.0f", m.value.GetDouble());
    md << "| " << r << " | " << num(*x, "requests") << " | "
       << fmt("%.2f", num(*x, "requests") / wall) << " | "
       << mb(num(*x, "bytes_in")) << " | " << mb(num(*x, "bytes_out")) << " | "
       << fmt("%.0f", (num(*x, "bytes_in") + num(*x, "bytes_out")) / wall)
       << " | " << statuses << " |\n";
  }
  md << "\n(Status 0: no answer was sent — a drop, a hang-up or a stream the "
        "client ended.)\n\n";
}

// Where the memory is when each stage closed: the process's RSS and heap
// over the agents' baseline, SQLite's share, actors per agent.
void memory_table(std::ostream& md, const value& doc) {
  const auto& rss = doc["rss"];
  double rss0 = num(rss, "before_agents");
  double heap0 = num(rss, "heap_before_agents");
  md << "\nMemory when each stage closed, per running agent (over the "
        "process before the agents):\n\n"
        "| stage | agents | RSS | heap in use | SQLite (of the heap) | "
        "actors per agent |\n|---|---|---|---|---|---|\n";
  double agents = 0;
  for (const auto& s : arr(doc, "stages").GetArray()) {
    agents += num(s, "started");
    if (agents <= 0)
      continue;
    md << "| " << str(s, "name") << " | " << agents << " | "
       << kb((num(s, "rss_after") - rss0) / agents) << " | "
       << kb((num(s, "heap_bytes") - heap0) / agents) << " | "
       << kb(num(s, "sqlite_bytes") / agents) << " | "
       << fmt("%.1f", num(s, "actors") / agents) << " |\n";
  }
  md << "\n";
}

// --shard: the barriers this shard waited at, how long, and how far apart
// the shards arrived (the skew a slower shard or a late start puts on
// everyone).
void shards_section(std::ostream& md, const value& doc) {
  const auto* sh = cloud_sim::json::member(doc, "shard");
  const auto& bs = arr(doc, "barriers");
  if (sh == nullptr || num(*sh, "count") <= 1)
    return;
  md << "## Shards\n\nShard " << num(*sh, "index") << " of "
     << num(*sh, "count") << ": fleet devices " << num(*sh, "first_device")
     << "–" << num(*sh, "first_device") + num(doc, "devices") - 1 << " ("
     << num(doc, "devices") << " of " << num(*sh, "fleet_devices")
     << "). Shard 0 set the fleet's target and posted the faults; every "
        "shard waited at a barrier before each step until all had finished "
        "the step before.\n\n"
        "| barrier | waited here | shards arrived within | last to arrive "
        "|\n|---|---|---|---|\n";
  double waited = 0;
  for (const auto& b : bs.GetArray()) {
    const auto* okv = cloud_sim::json::member(b, "ok");
    bool ok = okv != nullptr && okv->IsTrue();
    waited += ok ? num(b, "wait_s") : 0;
    md << "| " << str(b, "what") << " | "
       << (ok ? fmt("%.2f s", num(b, "wait_s")) : std::string("**failed**"))
       << " | " << (ok ? fmt("%.2f s", num(b, "spread_s")) : "—") << " | "
       << (ok ? fmt("shard %.0f", num(b, "last_shard")) : "—") << " |\n";
  }
  md << "\nWaited at barriers: " << fmt("%.1f s", waited) << " in all.\n\n";
}

} // namespace

bool write_report(const std::string& result_json, const std::string& dir,
                  bool plots) {
  std::ifstream in(result_json);
  std::stringstream ss;
  ss << in.rdbuf();
  rapidjson::Document doc;
  auto text = ss.str();
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    std::cerr << "fleet-sim: " << result_json << " is not a result\n";
    return false;
  }
  std::ofstream md(dir + "/report.md");
  double n = num(doc, "devices");
  md << "# fleet-sim: " << str(doc, "scenario") << "\n\n"
     << str(doc, "description") << "\n\n"
     << n << " agents, scale " << num(doc, "scale") << ", seed "
     << num(doc, "seed")
     << (doc["register_storm"].GetBool()
           ? ", devices register with one provisioning key"
           : ", devices registered already")
     << "; " << fmt("%.1f", num(doc, "wall_s")) << " s wall ("
     << fmt("%.0f", num(doc, "wall_s") * num(doc, "scale") / 60)
     << " fleet minutes). Result: **"
     << (doc["ok"].GetBool() ? "converged as the scenario asks" : "FAILED")
     << "**.";
  if (const auto& la = arr(doc, "load_average"); la.Size() == 2)
    md << " The machine's load average (1 min) was "
       << fmt("%.1f", la[0].GetDouble()) << " at the start and "
       << fmt("%.1f", la[1].GetDouble()) << " at the end.";
  md << "\n\n## Convergence\n\n";
  stages_table(md, doc);
  shards_section(md, doc);
  md << "## Cloud traffic (cloud-sim's counters, whole run)\n\n";
  cloud_table(md, doc);
  if (const auto& fl = doc["log_flood"]; num(fl, "devices") > 0)
    md << "Log flood: " << num(fl, "devices")
       << " devices' engines were asked for "
       << fmt("%.0f", num(fl, "lines_written")) << " lines and wrote "
       << fmt("%.0f", num(fl, "lines_in_engines"))
       << " into running containers (the containers' own lines included; "
          "lines asked for while a service's container was being replaced "
          "went nowhere, as on a device); the agents received "
       << fmt("%.0f", num(fl, "lines_agents_received")) << ", logged "
       << fmt("%.0f", num(fl, "system_lines")) << " system lines and sent "
       << fmt("%.0f", num(fl, "lines_sent")) << "; cloud-sim recorded "
       << fmt("%.0f", num(fl, "lines_received"))
       << " lines from those devices, counted "
       << fmt("%.1f", num(fl, "drain_s"))
       << " s after the scenario's end (when every line the agents got had "
          "reached cloud-sim, or after 60 s).\n\n";
  const auto& rss = doc["rss"];
  double wall_h = num(doc, "wall_s") / 3600;
  md << "## Cost\n\n"
     << "| | |\n|---|---|\n"
     << "| RSS before the agents → at the end | "
     << mb(num(rss, "before_agents")) << " → " << mb(num(rss, "end"))
     << " |\n| RSS per agent ((end − before) / N) | "
     << kb(num(rss, "per_agent")) << " |\n"
     << "| marginal RSS per agent (the last start stage) | "
     << (rss["marginal_per_agent"].IsNull()
           ? std::string("— (one start stage only)")
           : kb(num(rss, "marginal_per_agent"))
               + fmt(", %.1f MB per 1,000 agents",
                     num(rss, "marginal_per_agent") * 1000 / 1e6))
     << " |\n| CPU (user + system), whole process | "
     << fmt("%.1f s", num(doc, "cpu_s"))
     << fmt(" (%.2f cores on average)",
            num(doc, "cpu_s") / std::max(num(doc, "wall_s"), 1e-9))
     << " |\n| CPU per agent-hour (wall) | "
     << fmt("%.2f s", num(doc, "cpu_s_per_agent_hour"))
     << " |\n| CPU per agent-hour of fleet time (wall × scale) | "
     << fmt("%.3f s", num(doc, "cpu_s_per_agent_fleet_hour")) << " |\n";
  if (num(doc["cloud_sim"], "cpu_s") >= 0)
    md << "| cloud-sim CPU, RSS at the end | "
       << fmt("%.1f s", num(doc["cloud_sim"], "cpu_s")) << ", "
       << mb(num(doc["cloud_sim"], "rss")) << " |\n";
  md << "| open files (peak) | " << num(doc, "fds_peak")
     << fmt(" (%.1f per agent)", num(doc, "fds_peak") / std::max(n, 1.0))
     << " |\n";
  md << "\n(" << fmt("%.3f", n * wall_h) << " agent-hours of wall time.)\n\n";
  memory_table(md, doc);
  if (const auto& act = doc["activity"]; num(act, "seconds") > 0) {
    double secs = num(act, "seconds");
    md << "Idle activity at the end (" << fmt("%.0f s", secs)
       << " wall): the process used " << fmt("%.2f CPU-s", num(act, "cpu_s"))
       << ", "
       << fmt("%.3f s per agent-hour",
              num(act, "cpu_s") * 3600 / (secs * std::max(n, 1.0)))
       << "; messages handled per agent and second, by actor kind:";
    for (auto& m : act["messages_per_agent_s"].GetObject())
      md << " " << m.name.GetString() << " "
         << fmt("%.2f", m.value.GetDouble());
    md << ".\n\n";
  }
  md << "## Errors\n\n";
  const auto& errs = arr(doc, "errors");
  if (errs.Empty())
    md << "fleet-sim: none.\n";
  for (const auto& e : errs.GetArray())
    md << "- " << e.GetString() << "\n";
  const auto& log = doc["agent_log"];
  md << "\nAgents' log: " << num(log, "warn") << " warnings, "
     << num(log, "error")
     << " errors (agents.log). Most frequent (ids and "
        "numbers masked):\n\n";
  for (const auto& t : arr(log, "top").GetArray())
    md << "- " << t[0].GetUint64() << " × `" << t[1].GetString() << "`\n";
  md << "\n## Timeline\n\n";
  for (const auto& e : arr(doc, "events").GetArray())
    md << "- " << fmt("%.1f s", e[0].GetDouble()) << ": " << e[1].GetString()
       << "\n";
  md << "\n## Plots\n\n";
  if (!plots) {
    md << "Plots not asked for (--no-plots).\n";
    return true;
  }
  write_rates(arr(doc, "samples"), dir + "/rates.dat");
  write_resources(arr(doc, "samples"), dir + "/resources.dat");
  std::ofstream(dir + "/plots.gp") << plot_script(doc, dir);
  if (!have_gnuplot()) {
    md << "No plots: gnuplot is not installed (Debian: `apt-get install "
          "gnuplot-nox`, then `gnuplot "
       << dir << "/plots.gp`).\n";
    std::cerr << "fleet-sim: gnuplot not found, plots skipped (apt-get "
                 "install gnuplot-nox)\n";
    return true;
  }
  if (std::system(("gnuplot '" + dir + "/plots.gp'").c_str()) != 0)
    md << "gnuplot failed on plots.gp; see its output.\n";
  for (auto* p : {"convergence", "requests", "bytes", "resources"})
    md << "![" << p << "](" << p << ".svg)\n\n";
  return true;
}

} // namespace bosun::fleet
