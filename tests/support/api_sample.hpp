#pragma once

// What the device API says of one service's update at one moment, for the
// e2e tests that watch a pull while something fails under it (the engine
// restarted, the registry cut) and then check every sample was honest.
#include "tests/support/bosun.hpp"

#include <optional>
#include <rapidjson/document.h>
#include <string>

namespace bosun::test {

struct api_sample {
  // GET /v2/state/status
  std::string app_state;             // appState
  std::optional<double> overall;     // overallDownloadProgress
  std::string image_status;          // images[serviceName].status
  std::optional<int> image_progress; // images[serviceName].downloadProgress
  // GET /v2/applications/state
  std::string update_status;   // the app's updateStatus ("done" at the end)
  std::string status;          // the service's status
  std::optional<int> progress; // the service's downloadProgress
};

inline api_sample sample_api(running_bosun& b, const std::string& service) {
  api_sample s;
  auto str = [](const rapidjson::Value& o, const char* k, std::string& out) {
    if (o.HasMember(k) && o[k].IsString())
      out = o[k].GetString();
  };
  auto num
    = [](const rapidjson::Value& o, const char* k, std::optional<int>& out) {
        if (o.HasMember(k) && o[k].IsInt())
          out = o[k].GetInt();
      };
  rapidjson::Document d;
  d.Parse(b.get("/v2/state/status").body.c_str());
  if (d.IsObject()) {
    str(d, "appState", s.app_state);
    if (d.HasMember("overallDownloadProgress")
        && d["overallDownloadProgress"].IsNumber())
      s.overall = d["overallDownloadProgress"].GetDouble();
    if (d.HasMember("images") && d["images"].IsArray())
      for (auto& i : d["images"].GetArray())
        if (i.IsObject() && i.HasMember("serviceName")
            && i["serviceName"].IsString()
            && i["serviceName"].GetString() == service) {
          str(i, "status", s.image_status);
          num(i, "downloadProgress", s.image_progress);
        }
  }
  rapidjson::Document a;
  a.Parse(b.get("/v2/applications/state").body.c_str());
  if (a.IsObject())
    for (auto& m : a.GetObject()) {
      auto& app = m.value;
      if (!app.IsObject() || !app.HasMember("services")
          || !app["services"].IsObject()
          || !app["services"].HasMember(service.c_str()))
        continue;
      str(app, "updateStatus", s.update_status);
      auto& svc = app["services"][service.c_str()];
      if (!svc.IsObject())
        continue;
      str(svc, "status", s.status);
      num(svc, "downloadProgress", s.progress);
    }
  return s;
}

inline std::string describe(const api_sample& s) {
  auto opt = [](auto& o) { return o ? std::to_string(*o) : "null"; };
  return "appState " + s.app_state + ", overall " + opt(s.overall) + ", image "
         + s.image_status + " " + opt(s.image_progress) + ", updateStatus "
         + s.update_status + ", service " + s.status + " " + opt(s.progress);
}

} // namespace bosun::test
