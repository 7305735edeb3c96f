#pragma once

// The apps' bookkeeping as the db stores it: key/value pairs in its config
// table. Pure: which keys hold what, both ways.
//   apps.commit.<app uuid>  = the release the app runs
//   apps.stopped.<app uuid> = the services stopped through the device API,
//                             comma-separated
#include "actors/apps/current_state.hpp"

#include <map>
#include <set>
#include <string>
#include <utility>

namespace bosun::apps {

using kv_record = std::pair<std::string, std::string>;

// The commits and stopped services found among the stored keys (other keys
// are not the apps'); merged into `books`.
void read_bookkeeping(const std::map<std::string, std::string>& kv,
                      apps_bookkeeping& books);

kv_record commit_record(const std::string& app_uuid, const std::string& commit);
kv_record stopped_record(const std::string& app_uuid,
                         const std::set<std::string>& services);

} // namespace bosun::apps
