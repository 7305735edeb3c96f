#include "actors/images/image_logic.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace bosun::image_logic {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_dangling(const image_summary& img) {
  auto none_tag = [](const std::string& t) { return t == "<none>:<none>"; };
  auto none_digest = [](const std::string& d) { return d == "<none>@<none>"; };
  return std::all_of(img.repo_tags.begin(), img.repo_tags.end(), none_tag)
         && std::all_of(img.repo_digests.begin(), img.repo_digests.end(),
                        none_digest);
}

} // namespace

std::string normalise_name(std::string_view name) {
  if (is_image_id(name))
    return std::string{name};
  std::string digest;
  if (auto at = name.find('@'); at != std::string_view::npos) {
    digest = std::string{name.substr(at)};
    name = name.substr(0, at);
  }
  for (std::string_view prefix :
       {"docker.io/library/", "docker.io/", "index.docker.io/library/",
        "index.docker.io/"}) {
    if (starts_with(name, prefix)) {
      name.remove_prefix(prefix.size());
      break;
    }
  }
  if (starts_with(name, "library/") && name.find('/', 8) == name.npos)
    name.remove_prefix(8);
  // A tag is a ':' after the last '/' (a ':' before it is a registry port).
  auto slash = name.rfind('/');
  auto colon = name.rfind(':');
  bool tagged = colon != std::string_view::npos
                && (slash == std::string_view::npos || colon > slash);
  std::string out{name};
  if (!digest.empty()) {
    if (tagged)
      out.resize(colon);
    return out + digest;
  }
  if (!tagged && !out.empty())
    out += ":latest";
  return out;
}

bool has_registry(std::string_view name) {
  if (is_image_id(name))
    return false;
  auto slash = name.find('/');
  if (slash == std::string_view::npos)
    return false;
  auto first = name.substr(0, slash);
  return first == "localhost" || first.find('.') != std::string_view::npos
         || first.find(':') != std::string_view::npos;
}

bool is_image_id(std::string_view s) {
  if (!starts_with(s, "sha256:") || s.size() == 7)
    return false;
  return std::all_of(s.begin() + 7, s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
}

std::chrono::milliseconds retry_delay(uint32_t failures,
                                      std::chrono::milliseconds initial,
                                      std::chrono::milliseconds max) {
  auto d = initial;
  for (uint32_t i = 1; i < failures && d < max; ++i)
    d *= 2;
  return std::min(d, max);
}

std::string fetch_failure_message(std::string_view image,
                                  std::string_view why) {
  std::string out = "Failed to download image '";
  out += image;
  out += "' due to '";
  out += why;
  out += "'";
  return out;
}

// ---------------------------------------------------------- pull_tracker --

void pull_tracker::add(const pull_progress& line) {
  if (line.id.empty())
    return;
  const auto& s = line.status;
  // Only layer lines: "Pulling from x" and friends carry the tag as id.
  bool layer_line = s == "Pulling fs layer" || s == "Waiting"
                    || s == "Downloading" || s == "Verifying Checksum"
                    || s == "Download complete" || s == "Extracting"
                    || s == "Pull complete" || s == "Already exists"
                    || starts_with(s, "Retrying in");
  if (!layer_line)
    return;
  auto& l = layers_[line.id];
  if (line.total && *line.total > 0)
    l.total = *line.total;
  if (s == "Downloading") {
    if (line.current)
      l.downloaded = std::max(l.downloaded, *line.current);
  } else if (s == "Verifying Checksum" || s == "Download complete") {
    l.download_done = true;
  } else if (s == "Extracting") {
    l.download_done = true;
    if (line.current)
      l.extracted = std::max(l.extracted, *line.current);
  } else if (s == "Pull complete") {
    l.download_done = true;
    l.done = true;
  } else if (s == "Already exists") {
    l.present = true;
  }
  high_ = std::max(high_, compute());
}

void pull_tracker::finish() {
  high_ = 100;
}

int pull_tracker::compute() const {
  double known = 0;
  int n_known = 0;
  for (auto& [id, l] : layers_)
    if (l.total && !l.present) {
      known += static_cast<double>(*l.total);
      ++n_known;
    }
  double fallback = n_known > 0 ? known / n_known : 1.0;
  double sizes = 0;
  double done = 0;
  for (auto& [id, l] : layers_) {
    if (l.present)
      continue; // on the engine already: no part of the download
    double size = l.total ? static_cast<double>(*l.total) : fallback;
    sizes += size;
    if (l.done) {
      done += size;
      continue;
    }
    if (!l.total)
      continue; // nothing measurable yet
    double t = static_cast<double>(*l.total);
    double dl = l.download_done ? 1.0 : std::min(1.0, l.downloaded / t);
    double ex = std::min(1.0, l.extracted / t);
    done += size * (dl + ex) / 2;
  }
  // 100 only once the pull ended (finish()): more layers may be told yet.
  int pct = sizes > 0 ? static_cast<int>(100 * done / sizes) : 0;
  return std::clamp(pct, 0, 99);
}

// ----------------------------------------------------- progress_throttle --

progress_throttle::decision
progress_throttle::decide(int percent, clock::time_point now) const {
  if (percent == last_)
    return {};
  if (percent >= 100 || last_ < 0)
    return {true, {}};
  auto since = now - last_time_;
  if (since >= interval_)
    return {true, {}};
  auto wait
    = std::chrono::duration_cast<std::chrono::milliseconds>(interval_ - since);
  if (wait.count() <= 0)
    wait = std::chrono::milliseconds(1);
  return {false, wait};
}

// ------------------------------------------------------------- cleanup --

cleanup_plan plan_cleanup(const image_list& images, const string_list& keep,
                          const string_list& fetched) {
  std::set<std::string> keep_names;
  for (auto& k : keep)
    keep_names.insert(normalise_name(k));
  auto named_by = [](const image_summary& img, const std::string& n) {
    for (auto& t : img.repo_tags)
      if (normalise_name(t) == n)
        return true;
    for (auto& d : img.repo_digests)
      if (normalise_name(d) == n)
        return true;
    return false;
  };
  std::set<std::string> kept_ids;
  for (auto& img : images) {
    bool kept = keep_names.count(img.id) > 0;
    for (auto& t : img.repo_tags)
      kept = kept || keep_names.count(normalise_name(t)) > 0;
    for (auto& d : img.repo_digests)
      kept = kept || keep_names.count(normalise_name(d)) > 0;
    if (kept)
      kept_ids.insert(img.id);
  }
  cleanup_plan plan;
  std::set<std::string> seen;
  for (auto& f : fetched) {
    auto n = normalise_name(f);
    if (n.empty() || !seen.insert(n).second || keep_names.count(n) > 0)
      continue;
    const image_summary* found = nullptr;
    for (auto& img : images)
      if (named_by(img, n)) {
        found = &img;
        break;
      }
    if (found == nullptr) {
      plan.forget.push_back(n);
      continue;
    }
    // A kept image may lose this name only while a kept tag stays on it:
    // then the engine just untags. Removing its last tag could delete it.
    bool kept_tag_stays = false;
    for (auto& t : found->repo_tags) {
      auto tn = normalise_name(t);
      kept_tag_stays = kept_tag_stays || (tn != n && keep_names.count(tn) > 0);
    }
    if (kept_ids.count(found->id) == 0 || kept_tag_stays)
      plan.remove_names.push_back(n);
  }
  for (auto& img : images)
    if (is_dangling(img) && kept_ids.count(img.id) == 0)
      plan.remove_ids.push_back(img.id);
  return plan;
}

} // namespace bosun::image_logic
