// RouteTable: the HTTP API's routes as path templates ("/api/v1/packages/{id}/runs/{run}"),
// matched segment by segment. A match names the template, which is the route label of the
// request metrics, and the values of its {placeholders}. Because the table knows every method
// registered for a path, it tells "no such path" (404) from "not this method" (405 + Allow).
//
// Matching rules:
//   1. A literal segment matches itself exactly; "{name}" matches any one non-empty segment.
//   2. Routes are tried in the order they were added; the first whose segments match wins, so a
//      literal route added before a placeholder route of the same shape takes precedence.
//   3. HEAD is answered by the GET route of a path.
//   4. A trailing or doubled "/" is an empty segment and matches nothing.
//
// Thread-safety: Add() is for setup, before any Find(); Find() is const and may run on any
// number of threads at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ahub::hub {

class RouteTable {
 public:
  struct Match {
    int route = -1;                              // the id Add() returned; -1 when nothing matched
    const std::string* path_template = nullptr;  // set whenever the path matched some route
    std::vector<std::string> params;             // placeholder values, in template order
    const std::string* allow = nullptr;  // methods of the matched path, e.g. "GET, HEAD, POST"
  };

  // Registers `method` (upper case) on `path_template` and returns its route id (0, 1, ...).
  int Add(std::string_view method, std::string_view path_template);

  // The route for `method` and `path` (already percent-decoded). When the path matches a
  // template but the method is not registered there, route is -1 and path_template/allow are set.
  // The pointers stay valid for the table's lifetime.
  Match Find(std::string_view method, std::string_view path) const;

 private:
  struct Template {
    std::string text;
    std::vector<std::string> segments;                 // "{...}" marks a placeholder
    std::vector<std::pair<std::string, int>> methods;  // method -> route id, in Add order
    std::string allow;  // the Allow header for this path, kept up to date by Add()
  };
  std::vector<Template> templates_;
  int next_id_ = 0;
};

}  // namespace ahub::hub
