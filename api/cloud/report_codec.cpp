#include "api/cloud/report_codec.hpp"

#include "api/json_writer.hpp"

namespace bosun::cloud {

namespace {

using json_out::key;
using json_out::str;
using json_out::writer;

struct value_writer {
  writer& w;
  void operator()(std::monostate) const {
    w.Null();
  }
  void operator()(bool b) const {
    w.Bool(b);
  }
  void operator()(int64_t n) const {
    w.Int64(n);
  }
  void operator()(const std::string& s) const {
    str(w, s);
  }
};

void write_apps(writer& w, const report_apps& apps) {
  w.StartObject();
  for (const auto& [uuid, app] : apps) {
    key(w, uuid);
    w.StartObject();
    if (app.release_uuid) {
      w.Key("release_uuid");
      str(w, *app.release_uuid);
    }
    w.Key("releases");
    w.StartObject();
    for (const auto& [commit, rel] : app.releases) {
      key(w, commit);
      w.StartObject();
      w.Key("update_status");
      str(w, rel.update_status);
      w.Key("services");
      w.StartObject();
      for (const auto& [name, svc] : rel.services) {
        key(w, name);
        w.StartObject();
        w.Key("image");
        str(w, svc.image);
        w.Key("status");
        str(w, svc.status);
        if (svc.download_progress) {
          w.Key("download_progress");
          w.Int64(*svc.download_progress);
        }
        w.EndObject();
      }
      w.EndObject();
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
}

} // namespace

std::string encode_state_report(const std::string& uuid,
                                const device_report& patch) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  key(w, uuid);
  w.StartObject();
  for (const auto& [k, v] : patch.device) {
    key(w, k);
    std::visit(value_writer{w}, v);
  }
  if (patch.apps) {
    w.Key("apps");
    write_apps(w, *patch.apps);
  }
  w.EndObject();
  w.EndObject();
  return json_out::text(sb);
}

} // namespace bosun::cloud
