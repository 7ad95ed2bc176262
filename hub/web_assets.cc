#include "hub/web_assets.h"

#include <algorithm>
#include <cstddef>

namespace ahub::hub {

// Defined in the generated web_assets_data.cc (hub/web_embed.cmake), sorted by name.
extern const WebFile kEmbeddedWebFiles[];
extern const size_t kEmbeddedWebFileCount;

namespace {

// The pages load their modules, styles and the charting library from /assets/ and read the
// API with fetch(); nothing else is allowed, in particular no inline script or style and no
// other origin. Chart.js draws on canvas and sets element styles through the CSSOM, which
// style-src does not restrict.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";
constexpr const char* kShellName = "index.html";
constexpr size_t kEtagHexDigits = 32;

std::string_view Extension(std::string_view name) {
  const size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
}

std::string ContentType(std::string_view name) {
  static constexpr std::pair<std::string_view, const char*> kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"json", "application/json; charset=utf-8"},
      {"txt", "text/plain; charset=utf-8"},
      {"png", "image/png"},
      {"woff2", "font/woff2"},
  };
  const std::string_view ext = Extension(name);
  for (const auto& [known, type] : kTypes) {
    if (ext == known) return type;
  }
  return "application/octet-stream";
}

const WebFile* Find(std::string_view name) {
  const std::span<const WebFile> files = WebFiles();
  auto it = std::lower_bound(files.begin(), files.end(), name,
                             [](const WebFile& f, std::string_view n) { return f.name < n; });
  return it != files.end() && it->name == name ? &*it : nullptr;
}

// True when the If-None-Match list ("a", W/"b", *) names `etag`; weak and strong compare alike,
// as RFC 9110 asks of GET.
bool Matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const size_t comma = if_none_match.find(',');
    std::string_view tag = if_none_match.substr(0, comma);
    if_none_match =
        comma == std::string_view::npos ? std::string_view() : if_none_match.substr(comma + 1);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

WebResponse Serve(const WebFile& file, std::string_view if_none_match) {
  WebResponse r;
  const std::string etag = "\"" + std::string(file.sha256.substr(0, kEtagHexDigits)) + "\"";
  r.headers = {{"ETag", etag},
               {"Cache-Control", "no-cache"},
               {"Content-Security-Policy", kContentSecurityPolicy},
               {"Referrer-Policy", "no-referrer"}};
  if (Matches(if_none_match, etag)) {
    r.status = 304;
    return r;
  }
  r.content_type = ContentType(file.name);
  r.body = file.bytes;
  return r;
}

}  // namespace

std::span<const WebFile> WebFiles() { return {kEmbeddedWebFiles, kEmbeddedWebFileCount}; }

WebResponse ServeWebPage(std::string_view if_none_match) {
  const WebFile* shell = Find(kShellName);
  // The build embeds web/index.html unconditionally (hub/CMakeLists.txt), so a binary without
  // it cannot be built; answering something readable keeps this total all the same.
  if (shell == nullptr)
    return WebResponse{500, "text/plain; charset=utf-8", "web/index.html was not embedded", {}};
  return Serve(*shell, if_none_match);
}

ApiResult<WebResponse> ServeWebAsset(std::string_view name, std::string_view if_none_match) {
  const std::string path = "assets/" + std::string(name);
  if (const WebFile* file = Find(path)) return Serve(*file, if_none_match);
  return MakeError(404, "not_found",
                   "no asset /" + path +
                       "; the reviewer pages are served at /, /packages/{id}, "
                       "/tensions and /submit");
}

}  // namespace ahub::hub
