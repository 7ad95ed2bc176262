// The reviewer pages of `ahub serve`: the files of web/ (and the charting library from
// web/node_modules), embedded into the binary at build time by hub/web_embed.cmake, served
// with their Content-Type, a strong ETag and a Content-Security-Policy.
//
// The pages are one application shell (web/index.html) that routes on the client: every path
// of kWebPageRoutes answers with it, and the shell's modules, styles and libraries are the
// files under /assets/. The shell then reads everything else from the JSON API.
//
// Invariants:
//   1. What is served is exactly what was embedded: the ETag is the file's SHA-256, so a client
//      revalidating (Cache-Control: no-cache) gets 304 until the binary changes.
//   2. Every response carries a Content-Security-Policy that allows scripts, styles, images and
//      connections from the hub's own origin only, with no 'unsafe-inline': package text the
//      pages show can never run as script, even if it reached the DOM as markup.
//
// Thread-safety: pure functions over constant data.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/api_error.h"

namespace ahub::hub {

// One embedded file: its served name ("index.html", "assets/app.js"), bytes and hex SHA-256.
struct WebFile {
  std::string_view name;
  std::string_view bytes;
  std::string_view sha256;
};

// Every embedded file, in name order.
std::span<const WebFile> WebFiles();

// Route templates (RouteTable syntax) answered by the application shell.
inline constexpr const char* kWebPageRoutes[] = {"/", "/packages/{id}", "/tensions", "/submit"};
// The route of the shell's files; {name} is one path segment, the file name under assets/.
inline constexpr const char* kWebAssetRoute = "/assets/{name}";

struct WebResponse {
  int status = 200;  // 200, or 304 when the client's If-None-Match names the current ETag
  std::string content_type;
  std::string_view body;  // empty for 304; points into the embedded data
  std::vector<std::pair<std::string, std::string>> headers;
};

// The application shell. `if_none_match` is the request's If-None-Match header ("" if none).
WebResponse ServeWebPage(std::string_view if_none_match);

// assets/<name>, or a 404 not_found naming the asset when no such file was embedded.
ApiResult<WebResponse> ServeWebAsset(std::string_view name, std::string_view if_none_match);

}  // namespace ahub::hub
