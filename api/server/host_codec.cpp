#include "api/server/host_codec.hpp"

#include "api/server/json.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <regex>

namespace bosun::api {

namespace {

using value = rapidjson::Value;

std::string text_of(const value& v) {
  if (v.IsString())
    return std::string(v.GetString(), v.GetStringLength());
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

std::string expecting(const char* type, const std::string& path,
                      const value& got) {
  return "Expecting " + std::string(type) + " at " + path
         + " but instead got: " + text_of(got);
}

bool valid_dns(const value& v) {
  if (v.IsBool())
    return true;
  if (!v.IsString() || v.GetStringLength() > 255)
    return false;
  static const std::regex re("^.+:[0-9]+$");
  return std::regex_match(v.GetString(), re);
}

bool truthy(const value& v) {
  if (v.IsBool())
    return v.GetBool();
  if (v.IsNumber())
    return v.IsInt64() && v.GetInt64() == 1;
  if (!v.IsString())
    return false;
  std::string s = v.GetString();
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "1" || s == "true" || s == "on";
}

bool is_port(const value& v) {
  if (v.IsInt64())
    return v.GetInt64() >= 0;
  if (!v.IsString() || v.GetStringLength() == 0)
    return false;
  std::string s = v.GetString();
  return s.find_first_not_of("0123456789") == std::string::npos;
}

// The strict parse's errors for a proxy object (none: it is valid).
std::vector<std::string> strict_proxy_errors(const value& p) {
  std::vector<std::string> errs;
  auto check = [&](const char* key, bool ok, const char* type, bool needed) {
    auto it = p.FindMember(key);
    if (it == p.MemberEnd()) {
      if (needed)
        errs.push_back("Expecting " + std::string(type) + " at network.proxy."
                       + key + " but instead got: undefined");
      return;
    }
    if (!ok)
      errs.push_back(
        expecting(type, std::string("network.proxy.") + key, it->value));
  };
  auto get = [&](const char* key) -> const value* {
    auto it = p.FindMember(key);
    return it == p.MemberEnd() ? nullptr : &it->value;
  };
  auto* type = get("type");
  bool type_ok = type && type->IsString()
                 && (std::string(type->GetString()) == "socks4"
                     || std::string(type->GetString()) == "socks5"
                     || std::string(type->GetString()) == "http-connect"
                     || std::string(type->GetString()) == "http-relay");
  check("type", type_ok,
        "(\"socks4\" | \"socks5\" | \"http-connect\" | \"http-relay\")", true);
  check("ip", get("ip") && get("ip")->IsString(), "string", true);
  check("port", get("port") && is_port(*get("port")), "number", true);
  check("login", get("login") && get("login")->IsString(), "string", false);
  check("password", get("password") && get("password")->IsString(), "string",
        false);
  bool np_ok = false;
  if (auto* np = get("noProxy"); np && np->IsArray()) {
    np_ok = true;
    for (const auto& x : np->GetArray())
      np_ok = np_ok && x.IsString();
  }
  check("noProxy", np_ok, "Array<string>", false);
  return errs;
}

} // namespace

std::variant<host_config_decoded, std::string>
decode_host_config(std::string_view body) {
  const std::string head
    = "Could not parse host config input to a valid format:";
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject())
    return head + "\nExpecting object at network but instead got: undefined";
  host_config_decoded out;
  auto net = d.FindMember("network");
  if (net == d.MemberEnd() || !net->value.IsObject())
    return head + "\n"
           + (net == d.MemberEnd()
                ? std::string(
                  "Expecting object at network but instead got: undefined")
                : expecting("object", "network", net->value));
  if (auto f = d.FindMember("force"); f != d.MemberEnd())
    out.patch.force = truthy(f->value);
  const auto& n = net->value;
  std::vector<std::string> hard; // errors of both parses
  if (auto h = n.FindMember("hostname"); h != n.MemberEnd()) {
    if (!h->value.IsString())
      hard.push_back(expecting("string", "network.hostname", h->value));
    else
      out.patch.hostname = h->value.GetString();
  }
  if (auto p = n.FindMember("proxy"); p != n.MemberEnd()) {
    const auto& pv = p->value;
    if (!pv.IsObject()) {
      hard.push_back(expecting("object", "network.proxy", pv));
    } else {
      auto strict = strict_proxy_errors(pv);
      host_config_patch::proxy_patch pp;
      for (const auto& m : pv.GetObject()) {
        std::string key = m.name.GetString();
        if (key == "dns") {
          if (!valid_dns(m.value))
            hard.push_back(
              expecting("(string | boolean)", "network.proxy.dns", m.value));
          else
            pp.dns = m.value.IsBool() ? (m.value.GetBool() ? "true" : "false")
                                      : m.value.GetString();
          continue;
        }
        if (key == "noProxy") {
          pp.no_proxy_given = true;
          if (m.value.IsArray()) {
            std::vector<std::string> list;
            for (const auto& x : m.value.GetArray())
              list.push_back(text_of(x));
            pp.no_proxy = std::move(list);
          }
          continue;
        }
        // Strict: only the known keys are kept; lenient: all of them.
        bool known = key == "type" || key == "ip" || key == "port"
                     || key == "login" || key == "password";
        if (known || !strict.empty())
          pp.fields.emplace_back(key, text_of(m.value));
      }
      if (!strict.empty()) {
        out.warnings.push_back("Malformed host config detected, things may "
                               "not behave as expected:");
        out.warnings.insert(out.warnings.end(), strict.begin(), strict.end());
      }
      out.patch.proxy = std::move(pp);
    }
  }
  if (!hard.empty()) {
    std::string text = head;
    for (const auto& e : hard)
      text += "\n" + e;
    return text;
  }
  return out;
}

std::string encode_host_config(const host_settings& c) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("network");
  w.StartObject();
  w.Key("hostname");
  w.String(c.hostname.c_str(),
           static_cast<rapidjson::SizeType>(c.hostname.size()));
  if (c.proxy) {
    w.Key("proxy");
    w.StartObject();
    for (const auto& [k, v] : c.proxy->fields) {
      w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
      // balena decodes the port to a number.
      if (k == "port" && !v.empty()
          && v.find_first_not_of("0123456789") == std::string::npos
          && v.size() < 10)
        w.Int64(std::stoll(v));
      else
        w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
    }
    if (c.proxy->dns) {
      w.Key("dns");
      w.String(c.proxy->dns->c_str());
    }
    if (!c.proxy->no_proxy.empty()) {
      w.Key("noProxy");
      w.StartArray();
      for (const auto& n : c.proxy->no_proxy)
        w.String(n.c_str(), static_cast<rapidjson::SizeType>(n.size()));
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return sb.GetString();
}

std::string encode_vpn(const vpn_status& v) {
  return std::string(R"({"status":"success","vpn":{"enabled":)")
         + (v.enabled ? "true" : "false") + R"(,"connected":)"
         + (v.connected ? "true" : "false") + "}}";
}

journal_query decode_journal_query(const fields& f) {
  journal_query q;
  q.all = check_truthy(f, "all");
  q.follow = check_truthy(f, "follow");
  if (auto n = check_int(f, "count"); n && *n > 0)
    q.count = n;
  auto text = [&f](const char* name) -> std::optional<std::string> {
    auto it = f.find(name);
    if (it == f.end() || it->second.type == field::kind::null)
      return std::nullopt;
    return it->second.text;
  };
  q.unit = text("unit");
  q.container_id = text("containerId");
  q.since = text("since");
  q.until = text("until");
  if (auto fmt = text("format"))
    q.format = *fmt;
  return q;
}

} // namespace bosun::api
