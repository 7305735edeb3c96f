#include "actors/host/device_config_plan.hpp"

#include "api/cloud/boot_codec.hpp"

#include <set>

namespace bosun::boot_config {

std::vector<std::string> all_files(const backend_list& all) {
  std::set<std::string> out;
  for (const auto& b : all)
    for (auto& f : b->files())
      out.insert(std::move(f));
  return {out.begin(), out.end()};
}

file_map files_for(const file_map& known, const backend& b) {
  file_map out;
  for (const auto& f : b.files()) {
    auto it = known.find(f);
    out[f] = it == known.end() ? std::nullopt : it->second;
  }
  return out;
}

std::vector<const backend*> matching(const backend_list& all,
                                     const device_facts& dev,
                                     const file_map& known) {
  std::vector<const backend*> out;
  for (const auto& b : all)
    if (b->matches(dev, files_for(known, *b)))
      out.push_back(b.get());
  return out;
}

backend_values read_backends(const std::vector<const backend*>& list,
                             const file_map& known) {
  backend_values out;
  for (const auto* b : list) {
    auto r = b->read(files_for(known, *b));
    for (auto& w : r.warnings)
      out.warnings.push_back(std::move(w));
    if (!r.error.empty()) {
      out.error = r.error;
      return out;
    }
    for (auto& [k, v] : to_env(*b, r.options))
      out.vars[k] = v;
  }
  return out;
}

namespace {

void plan_keys(const env_map& applied, const env_map& target,
               const std::string& config_json, apply_plan& p) {
  p.keys = plan_key_changes(applied, target);
  const auto& changes = p.keys.changes;
  if (changes.empty())
    return;
  p.keys_breadcrumb = !p.keys.rebooting.empty();
  // SUPERVISOR_PERSISTENT_LOGGING is kept in config.json
  // (persistentLogging), read at the next start.
  auto it = changes.find("SUPERVISOR_PERSISTENT_LOGGING");
  if (it == changes.end() || config_json.empty())
    return;
  config_json_rewrite w;
  w.path = config_json;
  w.edit.set["persistentLogging"] = truthy(it->second);
  p.config_json_step = p.steps.size();
  p.steps.emplace_back(std::move(w));
}

void plan_backends(const backend_list& all, const device_facts& dev,
                   const file_map& files, const env_map& target,
                   apply_plan& p) {
  auto list = matching(all, dev, files);
  auto current = read_backends(list, files);
  p.read_warnings = std::move(current.warnings);
  if (!current.error.empty()) {
    p.boot_error = current.error;
    return;
  }
  std::vector<backend_change> plans;
  for (const auto* b : list) {
    auto c = plan_backend(*b, current.vars, target, dev.device_type);
    if (!c.error.empty()) {
      p.boot_error = c.error;
      return;
    }
    if (c.change) {
      p.boot_change = true;
      p.boot_reboot = p.boot_reboot || b->reboot_required(c.current, c.target);
      auto before = to_env(*b, c.current);
      for (auto& [k, v] : to_env(*b, c.target))
        if (before[k] != v)
          p.boot_changed[k] = v;
      for (auto& [k, v] : before)
        if (!c.target.count(b->key_of(k)))
          p.boot_changed[k] = "";
    }
    plans.push_back(std::move(c));
  }
  if (!p.boot_change)
    return;
  if (p.boot_reboot)
    p.steps.emplace_back(breadcrumb_touch{});
  for (size_t i = 0; i < list.size(); ++i) {
    backend_step s;
    s.json = cloud::encode_boot_options(plans[i].target);
    auto w = list[i]->write(plans[i].target, files_for(files, *list[i]));
    s.notes = std::move(w.notes);
    s.error = std::move(w.error);
    bool refused = !s.error.empty();
    if (!refused) {
      s.step = p.steps.size();
      p.steps.emplace_back(boot_files_write{std::move(w.files), true});
    }
    p.boot.push_back(std::move(s));
    if (refused)
      break; // the backends after it are not written
  }
}

} // namespace

apply_plan plan_apply(const backend_list& all, const device_facts& dev,
                      const file_map& files, const env_map& applied,
                      const env_map& target, const std::string& config_json) {
  apply_plan p;
  plan_keys(applied, target, config_json, p);
  plan_backends(all, dev, files, target, p);
  return p;
}

} // namespace bosun::boot_config
