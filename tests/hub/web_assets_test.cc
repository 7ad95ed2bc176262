#include "hub/web_assets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace ahub::hub {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string Header(const WebResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(WebAssetsTest, EveryFileOfWebIsEmbeddedAsItIsInTheRepository) {
  const std::filesystem::path web = std::filesystem::path(AHUB_SOURCE_DIR) / "web";
  size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(web / "assets")) {
    const std::string name = "assets/" + entry.path().filename().string();
    auto it = std::find_if(WebFiles().begin(), WebFiles().end(),
                           [&](const WebFile& f) { return f.name == name; });
    ASSERT_NE(it, WebFiles().end()) << name << " is not embedded; reconfigure the build";
    EXPECT_EQ(it->bytes, ReadFile(entry.path())) << name << " is stale; rebuild";
    ++checked;
  }
  EXPECT_GE(checked, 5u);
  ASSERT_TRUE(std::is_sorted(WebFiles().begin(), WebFiles().end(),
                             [](const WebFile& a, const WebFile& b) { return a.name < b.name; }));
}

TEST(WebAssetsTest, PagesAnswerWithTheShellAndAStrictPolicy) {
  const WebResponse page = ServeWebPage("");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(page.body, ReadFile(std::filesystem::path(AHUB_SOURCE_DIR) / "web/index.html"));
  const std::string csp = Header(page, "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
  EXPECT_EQ(Header(page, "Cache-Control"), "no-cache");
}

TEST(WebAssetsTest, AssetsHaveTheirTypeAndAnEtagThatRevalidates) {
  ApiResult<WebResponse> js = ServeWebAsset("app.js", "");
  ASSERT_TRUE(js.ok());
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  ApiResult<WebResponse> css = ServeWebAsset("style.css", "");
  ASSERT_TRUE(css.ok());
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");

  const std::string etag = Header(js.value(), "ETag");
  ASSERT_EQ(etag.size(), 34u) << etag;
  ApiResult<WebResponse> same = ServeWebAsset("app.js", "\"other\", W/" + etag);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->status, 304);
  EXPECT_TRUE(same->body.empty());
  EXPECT_EQ(Header(same.value(), "ETag"), etag);
  ApiResult<WebResponse> changed = ServeWebAsset("app.js", "\"0123\"");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->status, 200);
  EXPECT_NE(Header(css.value(), "ETag"), etag);
}

TEST(WebAssetsTest, UnknownAssetsAreNotFound) {
  for (const char* name : {"nope.js", "..", "index.html", ""}) {
    ApiResult<WebResponse> r = ServeWebAsset(name, "");
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().http, 404);
    EXPECT_EQ(r.error().code, "not_found");
  }
}

}  // namespace
}  // namespace ahub::hub
