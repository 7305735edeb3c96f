#include "actors/apps/bookkeeping.hpp"

namespace bosun::apps {

namespace {

const std::string commit_prefix = "apps.commit.";
const std::string stopped_prefix = "apps.stopped.";

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

} // namespace

void read_bookkeeping(const std::map<std::string, std::string>& kv,
                      apps_bookkeeping& books) {
  for (auto& [k, v] : kv) {
    if (starts_with(k, commit_prefix))
      books.commits[k.substr(commit_prefix.size())] = v;
    if (!starts_with(k, stopped_prefix))
      continue;
    auto& names = books.user_stopped[k.substr(stopped_prefix.size())];
    size_t pos = 0;
    while (pos <= v.size()) {
      auto comma = v.find(',', pos);
      auto name = v.substr(pos, comma - pos);
      if (!name.empty())
        names.insert(name);
      if (comma == std::string::npos)
        break;
      pos = comma + 1;
    }
  }
}

kv_record commit_record(const std::string& app_uuid,
                        const std::string& commit) {
  return {commit_prefix + app_uuid, commit};
}

kv_record stopped_record(const std::string& app_uuid,
                         const std::set<std::string>& services) {
  std::string list;
  for (auto& n : services)
    list += (list.empty() ? "" : ",") + n;
  return {stopped_prefix + app_uuid, list};
}

} // namespace bosun::apps
