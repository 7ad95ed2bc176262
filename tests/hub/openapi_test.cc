#include "hub/openapi.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace ahub::hub {
namespace {

TEST(OpenApiTest, EmbeddedTextIsTheFileInTheRepository) {
  std::ifstream in(std::string(AHUB_SOURCE_DIR) + "/schemas/openapi.yaml", std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(file.empty());
  EXPECT_EQ(OpenApiYaml(), file) << "rebuild: the embedded contract is stale";
}

TEST(OpenApiTest, EmbeddedContractConverts) {
  Result<nlohmann::json> doc = YamlToJson(OpenApiYaml());
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc.value()["openapi"], "3.1.0");
  EXPECT_TRUE(doc.value()["paths"].contains("/api/v1/packages/{id}"));
}

TEST(OpenApiTest, PlainScalarsAreTypedQuotedOnesStayStrings) {
  Result<nlohmann::json> doc = YamlToJson(
      "a: 12\nb: -3.5e2\nc: true\nd: ~\ne: '12'\nf: \"true\"\ng: 3.1.0\nh: [1, x, null]\n"
      "i: |\n  block\nj: 0x1F\nk:\n");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const nlohmann::json& j = doc.value();
  EXPECT_EQ(j["a"], 12);
  EXPECT_TRUE(j["a"].is_number_integer());
  EXPECT_DOUBLE_EQ(j["b"].get<double>(), -350.0);
  EXPECT_EQ(j["c"], true);
  EXPECT_TRUE(j["d"].is_null());
  EXPECT_EQ(j["e"], "12");
  EXPECT_EQ(j["f"], "true");
  EXPECT_EQ(j["g"], "3.1.0");
  EXPECT_EQ(j["h"], nlohmann::json::parse(R"([1, "x", null])"));
  EXPECT_EQ(j["i"], "block\n");
  EXPECT_EQ(j["j"], "0x1F");
  EXPECT_TRUE(j["k"].is_null());
}

TEST(OpenApiTest, SyntaxErrorsNameLineAndColumn) {
  Result<nlohmann::json> doc = YamlToJson("a: 1\nb: {x: [1, 2}\n");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("line 2"), std::string::npos) << doc.status().message();
}

}  // namespace
}  // namespace ahub::hub
