#include "tools/fleet-sim/sim_pull.hpp"

#include "tools/fleet-sim/sim_world.hpp"

#include <algorithm>
#include <cstdio>

namespace bosun::sim {

namespace {

using ms = std::chrono::milliseconds;

std::string repo_and_tag(const std::string& norm, std::string* tag) {
  auto at = norm.find('@');
  auto r = norm.substr(0, at);
  auto slash = r.rfind('/');
  auto colon = r.rfind(':');
  if (colon != std::string::npos
      && (slash == std::string::npos || colon > slash)) {
    *tag = r.substr(colon + 1);
    r.resize(colon);
  } else {
    *tag = at == std::string::npos ? "latest" : norm.substr(at + 1);
  }
  return r;
}

std::string mb(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fMB", static_cast<double>(bytes) / 1e6);
  return buf;
}

// dockerd's "[=====>     ]  1.2MB/3.4MB".
std::string bar(int64_t current, int64_t total) {
  constexpr int width = 50;
  int filled = total > 0 ? static_cast<int>(width * current / total) : 0;
  std::string out = "[";
  for (int i = 0; i < width; ++i)
    out += i < filled ? '=' : (i == filled ? '>' : ' ');
  return out + "]  " + mb(current) + "/" + mb(total);
}

pull_progress line(std::string status, std::string id = {}) {
  pull_progress p;
  p.status = std::move(status);
  p.id = std::move(id);
  return p;
}

pull_progress moving(const std::string& status, const std::string& id,
                     int64_t current, int64_t total) {
  auto p = line(status, id);
  p.current = current;
  p.total = total;
  p.progress = bar(current, total);
  return p;
}

ms transfer(int64_t bytes, double bandwidth) {
  if (bandwidth <= 0)
    return ms{0};
  return ms{
    static_cast<int64_t>(1000.0 * static_cast<double>(bytes) / bandwidth)};
}

} // namespace

pull_plan plan_pull(const std::string& norm, const registry_model& reg,
                    bool fail) {
  pull_plan plan;
  auto sized = reg.sizes.find(norm);
  plan.size = sized != reg.sizes.end() ? sized->second : reg.image_size;
  std::string tag;
  auto repo = repo_and_tag(norm, &tag);
  auto t = reg.latency;
  auto add = [&](pull_progress p) { plan.steps.push_back({t, std::move(p)}); };
  add(line("Pulling from " + repo, tag));
  int n = std::max(reg.layers, 1);
  // Layer sizes: shares of the image from the name's hash, each >= 1 byte.
  std::vector<int64_t> sizes;
  std::vector<std::string> ids;
  uint64_t h = fnv1a(norm);
  int64_t left = plan.size;
  for (int i = 0; i < n; ++i) {
    h = fnv1a(std::to_string(i), h);
    int64_t share
      = i + 1 == n ? left : left * static_cast<int64_t>(20 + h % 60) / 100;
    share = std::min(share, left - (n - i - 1)); // 1 byte for each other
    share = std::max<int64_t>(share, 1);
    sizes.push_back(share);
    left -= share;
    ids.push_back(hex64(h).substr(0, 12));
  }
  for (const auto& id : ids)
    add(line("Pulling fs layer", id));
  for (int i = 0; i < n; ++i) {
    const auto& id = ids[i];
    auto size = sizes[i];
    t += reg.latency;
    auto dl = transfer(size, reg.bandwidth);
    for (int k = 1; k <= 4; ++k) {
      auto cur = size * k / 4;
      auto when = t + dl * k / 4;
      if (k == 4)
        break;
      plan.steps.push_back({when, moving("Downloading", id, cur, size)});
      if (fail && i == 0 && k == 2) {
        plan.done = when;
        return plan;
      }
    }
    t += dl;
    add(line("Verifying Checksum", id));
    add(line("Download complete", id));
    auto ex = transfer(size, reg.bandwidth * 4);
    plan.steps.push_back(
      {t + ex / 2, moving("Extracting", id, size / 2, size)});
    t += ex;
    add(moving("Extracting", id, size, size));
    add(line("Pull complete", id));
  }
  add(line("Digest: sha256:" + hex64(fnv1a("digest " + norm))));
  add(line("Status: Downloaded newer image for " + norm));
  plan.done = t;
  return plan;
}

pull_plan plan_up_to_date(const std::string& norm, const registry_model& reg) {
  pull_plan plan;
  std::string tag;
  auto repo = repo_and_tag(norm, &tag);
  auto t = reg.latency;
  plan.steps.push_back({t, line("Pulling from " + repo, tag)});
  plan.steps.push_back(
    {t, line("Digest: sha256:" + hex64(fnv1a("digest " + norm)))});
  plan.steps.push_back({t, line("Status: Image is up to date for " + norm)});
  plan.done = t;
  return plan;
}

} // namespace bosun::sim
