#include "actors/host/redsocks.hpp"

#include <cctype>

namespace bosun::redsocks {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return std::string(s);
}

std::string unquote(std::string v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
    return v.substr(1, v.size() - 2);
  return v;
}

// The inside of `<label> {…}`, the closing brace followed by whitespace or
// the end (balena's lazy match).
std::optional<std::string_view> block(std::string_view text,
                                      std::string_view label) {
  std::size_t from = 0;
  while (true) {
    auto at = text.find(label, from);
    if (at == std::string_view::npos)
      return std::nullopt;
    auto p = at + label.size();
    while (p < text.size() && std::isspace(static_cast<unsigned char>(text[p])))
      ++p;
    if (p >= text.size() || text[p] != '{') {
      from = at + 1;
      continue;
    }
    auto start = p + 1;
    for (auto close = text.find('}', start); close != std::string_view::npos;
         close = text.find('}', close + 1))
      if (close + 1 == text.size()
          || std::isspace(static_cast<unsigned char>(text[close + 1])))
        return text.substr(start, close - start);
    return std::nullopt;
  }
}

// key = value; lines of a block, in order.
std::vector<std::pair<std::string, std::string>>
lines(std::string_view body, std::vector<std::string>* warnings) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    auto nl = body.find('\n', pos);
    auto line = body.substr(
      pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? body.size() + 1 : nl + 1;
    auto t = trim(line);
    if (!t.empty() && t.back() == ';')
      t.pop_back();
    if (trim(t).empty())
      continue;
    auto eq = t.find('=');
    if (eq == std::string::npos) {
      if (warnings)
        warnings->push_back("Ignoring malformed redsocks.conf line " + t);
      continue;
    }
    auto value = t.substr(eq + 1);
    if (auto second = value.find('='); second != std::string::npos)
      value = value.substr(0, second);
    out.emplace_back(trim(t.substr(0, eq)), trim(value));
  }
  return out;
}

bool valid_port(const std::string& v) {
  if (v.empty() || v.size() > 5)
    return false;
  for (char c : v)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}

const std::string* field(const host_proxy& p, const std::string& k) {
  for (const auto& [key, value] : p.fields)
    if (key == k)
      return &value;
  return nullptr;
}

} // namespace

host_proxy parse(std::string_view text, std::vector<std::string>* warnings) {
  host_proxy p;
  auto body = block(text, "redsocks");
  if (!body) {
    p.valid = false;
    return p;
  }
  for (auto& [k, v] : lines(*body, warnings)) {
    if (k == "local_ip" || k == "local_port")
      continue;
    if (k == "login" || k == "password")
      v = unquote(v);
    p.fields.emplace_back(k, v);
  }
  auto* type = field(p, "type");
  auto* ip = field(p, "ip");
  auto* port = field(p, "port");
  static const char* types[]
    = {"socks4", "socks5", "http-connect", "http-relay"};
  bool type_ok = false;
  for (auto* t : types)
    type_ok = type_ok || (type && *type == t);
  if (!type_ok || !ip || !port || !valid_port(*port)) {
    p.fields.clear();
    p.valid = false;
  }
  if (auto dns = block(text, "dnsu2t")) {
    std::string rip, rport;
    for (auto& [k, v] : lines(*dns, nullptr)) {
      if (k == "remote_ip")
        rip = v;
      else if (k == "remote_port")
        rport = v;
    }
    if (!rip.empty() && valid_port(rport))
      p.dns = rip + ":" + rport;
  }
  return p;
}

std::vector<std::string> parse_no_proxy(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = trim(text.substr(
      pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    if (!line.empty())
      out.push_back(line);
    if (nl == std::string_view::npos)
      break;
    pos = nl + 1;
  }
  return out;
}

host_proxy merge(const host_proxy& current,
                 const host_config_patch::proxy_patch& patch) {
  host_proxy out;
  if (patch.fields.empty() && !patch.dns)
    return out;
  out.fields = current.fields;
  out.dns = current.dns;
  for (const auto& [k, v] : patch.fields) {
    bool found = false;
    for (auto& [key, value] : out.fields)
      if (key == k) {
        value = v;
        found = true;
      }
    if (!found)
      out.fields.emplace_back(k, v);
  }
  if (patch.dns) {
    if (*patch.dns == "false")
      out.dns.reset();
    else if (*patch.dns == "true")
      out.dns = "8.8.8.8:53";
    else
      out.dns = *patch.dns;
  }
  return out;
}

bool writable(const host_proxy& p) {
  return !p.fields.empty();
}

std::string write(const host_proxy& p) {
  std::string base = "base {\n"
                     "\tlog_debug = off;\n"
                     "\tlog_info = on;\n"
                     "\tlog = stderr;\n"
                     "\tdaemon = off;\n"
                     "\tredirector = iptables;\n"
                     "}\n";
  std::string rs = "redsocks {\n";
  for (const auto& [k, v] : p.fields) {
    if (k == "local_ip" || k == "local_port")
      continue;
    auto value = v;
    if ((k == "login" || k == "password")
        && !(value.size() >= 2 && value.front() == '"' && value.back() == '"'))
      value = "\"" + value + "\"";
    rs += "\t" + k + " = " + value + ";\n";
  }
  rs += "\tlocal_ip = 127.0.0.1;\n\tlocal_port = 12345;\n}\n";
  std::string out = base + "\n" + rs;
  if (p.dns) {
    auto colon = p.dns->find(':');
    auto ip = p.dns->substr(0, colon);
    auto rest = colon == std::string::npos ? "" : p.dns->substr(colon + 1);
    auto port = rest.substr(0, rest.find(':'));
    out += "\ndnsu2t {\n\tremote_ip = " + ip + ";\n\tremote_port = " + port
           + ";\n\tlocal_ip = 127.0.0.1;\n\tlocal_port = 53;\n}\n";
  }
  return out;
}

} // namespace bosun::redsocks
