#pragma once

// A strict reader of the Prometheus text exposition format (0.0.4), for
// tests: every line is a "# HELP", a "# TYPE" or a sample
// `name{label="value",...} number`; HELP and TYPE come at most once per
// family and before its samples; a family's samples are contiguous; no
// series repeats; counters end in _total. Errors name the line.
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace bosun::test {

struct prom_sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct prom_text {
  std::vector<prom_sample> samples;
  std::map<std::string, std::string> types; // family → counter, gauge, ...
  std::map<std::string, std::string> help;
  std::vector<std::string> errors; // empty when the text is valid

  // The value of `name` with exactly `labels` (all given must match and no
  // other may be present); nullptr when absent.
  const prom_sample* find(const std::string& name,
                          const std::map<std::string, std::string>& labels
                          = {}) const {
    for (auto& s : samples)
      if (s.name == name && s.labels == labels)
        return &s;
    return nullptr;
  }

  // Samples of `name` whose labels include `some`.
  std::vector<prom_sample> all(const std::string& name,
                               const std::map<std::string, std::string>& some
                               = {}) const {
    std::vector<prom_sample> out;
    for (auto& s : samples) {
      if (s.name != name)
        continue;
      bool ok = true;
      for (auto& [k, v] : some) {
        auto it = s.labels.find(k);
        ok = ok && it != s.labels.end() && it->second == v;
      }
      if (ok)
        out.push_back(s);
    }
    return out;
  }
};

namespace prom_detail {

inline bool name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'
         || c == ':';
}
inline bool name_char(char c) {
  return name_start(c) || std::isdigit(static_cast<unsigned char>(c)) != 0;
}

// Reads a metric or label name at `i`; empty when there is none.
inline std::string read_name(const std::string& l, size_t& i, bool label) {
  size_t start = i;
  if (i >= l.size() || !name_start(l[i]) || (label && l[i] == ':'))
    return {};
  while (i < l.size() && name_char(l[i]) && !(label && l[i] == ':'))
    ++i;
  return l.substr(start, i - start);
}

inline bool read_value(const std::string& text, double& out) {
  if (text == "NaN" || text == "+Inf" || text == "-Inf") {
    out = 0;
    return true;
  }
  if (text.empty())
    return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// The family a sample belongs to (histogram/summary suffixes aside, which
// bosun does not emit).
inline std::string family_of(const std::string& name) {
  return name;
}

} // namespace prom_detail

inline prom_text parse_prometheus(const std::string& text) {
  using namespace prom_detail;
  prom_text out;
  std::set<std::string> closed; // families whose samples ended
  std::set<std::string> series;
  std::string current;
  std::istringstream in(text);
  std::string l;
  int n = 0;
  auto err = [&](const std::string& why) {
    out.errors.push_back("line " + std::to_string(n) + ": " + why + ": " + l);
  };
  if (!text.empty() && text.back() != '\n')
    out.errors.push_back("the text does not end with a newline");
  while (std::getline(in, l)) {
    ++n;
    if (l.empty()) {
      err("empty line");
      continue;
    }
    if (l[0] == '#') {
      std::istringstream c(l);
      std::string hash, kind, name;
      c >> hash >> kind >> name;
      if (hash != "#" || (kind != "HELP" && kind != "TYPE")) {
        err("a comment that is neither HELP nor TYPE");
        continue;
      }
      size_t i = 0;
      if (read_name(name, i, false) != name || name.empty()) {
        err("bad metric name");
        continue;
      }
      if (closed.count(name) != 0 || (current == name && kind == "TYPE")) {
        err(kind + " after the family's samples");
        continue;
      }
      std::string rest;
      std::getline(c, rest);
      if (!rest.empty() && rest[0] == ' ')
        rest.erase(0, 1);
      auto& slot = kind == "HELP" ? out.help : out.types;
      if (slot.count(name) != 0) {
        err(kind + " repeated");
        continue;
      }
      if (kind == "TYPE" && rest != "counter" && rest != "gauge"
          && rest != "histogram" && rest != "summary" && rest != "untyped") {
        err("unknown type");
        continue;
      }
      if (kind == "TYPE" && rest == "counter"
          && (name.size() < 6 || name.substr(name.size() - 6) != "_total")) {
        err("a counter not named *_total");
        continue;
      }
      slot[name] = rest;
      continue;
    }
    prom_sample s;
    size_t i = 0;
    s.name = read_name(l, i, false);
    if (s.name.empty()) {
      err("no metric name");
      continue;
    }
    bool ok = true;
    if (i < l.size() && l[i] == '{') {
      ++i;
      while (ok && i < l.size() && l[i] != '}') {
        auto k = read_name(l, i, true);
        if (k.empty() || i + 1 >= l.size() || l[i] != '=' || l[i + 1] != '"') {
          ok = false;
          break;
        }
        i += 2;
        std::string v;
        while (i < l.size() && l[i] != '"') {
          if (l[i] == '\\') {
            if (i + 1 >= l.size()) {
              ok = false;
              break;
            }
            char e = l[i + 1];
            if (e == 'n')
              v += '\n';
            else if (e == '\\' || e == '"')
              v += e;
            else
              ok = false;
            i += 2;
          } else {
            v += l[i++];
          }
        }
        if (!ok || i >= l.size()) {
          ok = false;
          break;
        }
        ++i; // closing quote
        if (s.labels.count(k) != 0)
          ok = false;
        s.labels[k] = v;
        if (i < l.size() && l[i] == ',')
          ++i;
      }
      if (!ok || i >= l.size() || l[i] != '}') {
        err("bad labels");
        continue;
      }
      ++i;
    }
    if (i >= l.size() || l[i] != ' ') {
      err("no space before the value");
      continue;
    }
    auto rest = l.substr(i + 1);
    auto sp = rest.find(' ');
    auto value = rest.substr(0, sp);
    if (!read_value(value, s.value)) {
      err("bad value");
      continue;
    }
    if (sp != std::string::npos) {
      double ts = 0;
      if (!read_value(rest.substr(sp + 1), ts)) {
        err("bad timestamp");
        continue;
      }
    }
    auto fam = family_of(s.name);
    if (fam != current) {
      if (!current.empty())
        closed.insert(current);
      if (closed.count(fam) != 0) {
        err("samples of a family not together");
        continue;
      }
      current = fam;
    }
    if (out.types.count(fam) == 0)
      err("a sample without a TYPE");
    std::string id = s.name;
    for (auto& [k, v] : s.labels)
      id += "|" + k + "=" + v;
    if (!series.insert(id).second)
      err("a series repeated");
    out.samples.push_back(std::move(s));
  }
  return out;
}

} // namespace bosun::test
