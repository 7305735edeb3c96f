#include "actors/host/backends/text.hpp"

#include <cctype>

namespace bosun::boot_config::text {

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto at = s.find(sep, start);
    if (at == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, at - start));
    start = at + sep.size();
  }
}

std::vector<std::string> lines(std::string_view s) {
  auto out = split(s, "\n");
  for (auto& l : out)
    if (!l.empty() && l.back() == '\r')
      l.pop_back();
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
         || c == '\f';
}

std::vector<std::string> lines_eating_comments(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  size_t i = 0;
  while (i < s.size()) {
    bool crlf = s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n';
    if (s[i] == '\n' || crlf) {
      // One separator: (\r?\n[\s#]*)+
      while (i < s.size()) {
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')
          i += 2;
        else if (s[i] == '\n')
          ++i;
        else
          break;
        while (i < s.size() && (is_space(s[i]) || s[i] == '#') && s[i] != '\n'
               && !(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n'))
          ++i;
      }
      out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur += s[i++];
  }
  out.push_back(std::move(cur));
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size()
         && s.substr(s.size() - suffix.size()) == suffix;
}

std::string trim_start(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i]))
    ++i;
  return std::string(s.substr(i));
}

std::string trim(std::string_view s) {
  auto t = trim_start(s);
  while (!t.empty() && is_space(t.back()))
    t.pop_back();
  return t;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0)
      out += sep;
    out += parts[i];
  }
  return out;
}

bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

} // namespace bosun::boot_config::text
