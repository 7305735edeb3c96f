#include "api/logs/log_json.hpp"

#include "api/json_writer.hpp"

#include <rapidjson/document.h>

namespace bosun::log_json {

namespace {

// Appends straight into the caller's string: no intermediate buffer.
struct string_out {
  using Ch = char;
  std::string& s;
  void Put(char c) {
    s.push_back(c);
  }
  void Flush() {}
};

using writer = rapidjson::Writer<string_out>;
using json_out::str;

} // namespace

void append_cloud_line(const log_entry& e, std::string& out) {
  string_out o{out};
  writer w(o);
  w.StartObject();
  w.Key("message");
  str(w, e.message);
  w.Key("timestamp");
  w.Int64(e.timestamp_ms);
  if (e.is_system) {
    w.Key("isSystem");
    w.Bool(true);
    if (e.is_stderr) {
      w.Key("isStdErr");
      w.Bool(true);
    }
  } else {
    w.Key("isStdErr");
    w.Bool(e.is_stderr);
    if (e.service_id) {
      w.Key("serviceId");
      w.Int64(*e.service_id);
    }
  }
  w.EndObject();
  out.push_back('\n');
}

void append_local_line(const log_entry& e, std::string& out) {
  string_out o{out};
  writer w(o);
  w.StartObject();
  if (!e.is_system) {
    w.Key("serviceName");
    str(w, e.service_name);
  }
  w.Key("message");
  str(w, e.message);
  if (e.is_system) {
    w.Key("isSystem");
    w.Bool(true);
  }
  w.Key("isStdErr");
  w.Bool(e.is_stderr);
  w.Key("timestamp");
  w.Int64(e.timestamp_ms);
  if (!e.is_system && e.service_id) {
    w.Key("serviceId");
    w.Int64(*e.service_id);
  }
  w.EndObject();
  out.push_back('\n');
}

bool local_line_matches(std::string_view line, const log_history_query& q) {
  rapidjson::Document d;
  d.Parse(line.data(), line.size());
  if (d.HasParseError() || !d.IsObject())
    return false;
  if (q.since || q.until) {
    auto t = d.FindMember("timestamp");
    if (t == d.MemberEnd() || !t->value.IsInt64())
      return false;
    auto ts = t->value.GetInt64();
    if ((q.since && ts < *q.since) || (q.until && ts > *q.until))
      return false;
  }
  if (q.service) {
    auto s = d.FindMember("serviceName");
    if (s == d.MemberEnd() || !s->value.IsString()
        || std::string_view(s->value.GetString(), s->value.GetStringLength())
             != *q.service)
      return false;
  }
  return true;
}

std::string streaming_banner() {
  return "{\"message\":\"Streaming logs\",\"isSystem\":true}\n";
}

} // namespace bosun::log_json
