#pragma once

// The report of a fleet-sim run, made from its result.json: OUT/report.md
// (stages with p50/p90/p99/max, cloud requests and bytes per second by
// route, RSS and CPU per agent, errors) and, when gnuplot is installed,
// SVG plots beside it (convergence curves, requests/s and bytes/s by
// route, RSS and CPU over time) from the .dat files and plots.gp it writes.
// Without gnuplot the report says so and names the package.
#include <string>

namespace bosun::fleet {

// false when result.json cannot be read (the reason on stderr).
bool write_report(const std::string& result_json, const std::string& out_dir,
                  bool plots = true);

} // namespace bosun::fleet
