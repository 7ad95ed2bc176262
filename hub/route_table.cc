#include "hub/route_table.h"

#include <algorithm>

namespace ahub::hub {
namespace {

bool IsPlaceholder(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// The segments of "/a/b/c" ("a", "b", "c"); "" for the root's single empty segment.
std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      return out;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

int RouteTable::Add(std::string_view method, std::string_view path_template) {
  auto it = std::find_if(templates_.begin(), templates_.end(),
                         [&](const Template& t) { return t.text == path_template; });
  if (it == templates_.end()) {
    Template t;
    t.text = std::string(path_template);
    for (std::string_view s : Split(path_template)) t.segments.emplace_back(s);
    templates_.push_back(std::move(t));
    it = templates_.end() - 1;
  }
  it->methods.emplace_back(std::string(method), next_id_);
  std::vector<std::string> allowed = {"OPTIONS"};  // every path answers OPTIONS with Allow
  for (const auto& [m, id] : it->methods) {
    allowed.push_back(m);
    if (m == "GET") allowed.push_back("HEAD");
  }
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  it->allow.clear();
  for (const std::string& m : allowed) it->allow += (it->allow.empty() ? "" : ", ") + m;
  return next_id_++;
}

RouteTable::Match RouteTable::Find(std::string_view method, std::string_view path) const {
  Match match;
  const std::vector<std::string_view> parts = Split(path);
  if (parts.empty()) return match;
  const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  for (const Template& t : templates_) {
    if (t.segments.size() != parts.size()) continue;
    bool same = true;
    for (size_t i = 0; i < parts.size() && same; ++i) {
      same = IsPlaceholder(t.segments[i]) ? !parts[i].empty() : t.segments[i] == parts[i];
    }
    if (!same) continue;

    match.path_template = &t.text;
    match.allow = &t.allow;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (IsPlaceholder(t.segments[i])) match.params.emplace_back(parts[i]);
    }
    for (const auto& [m, id] : t.methods) {
      if (m == wanted) match.route = id;
    }
    return match;
  }
  return match;
}

}  // namespace ahub::hub
