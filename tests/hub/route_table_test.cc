#include "hub/route_table.h"

#include <gtest/gtest.h>

namespace ahub::hub {
namespace {

class RouteTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    list_ = table_.Add("GET", "/api/v1/packages");
    submit_ = table_.Add("POST", "/api/v1/packages");
    package_ = table_.Add("GET", "/api/v1/packages/{id}");
    version_ = table_.Add("GET", "/api/v1/packages/{id}/versions/{n}");
    patch_ = table_.Add("PATCH", "/api/v1/tensions/{id}");
  }
  RouteTable table_;
  int list_, submit_, package_, version_, patch_;
};

TEST_F(RouteTableTest, MatchesLiteralsAndPlaceholders) {
  RouteTable::Match m = table_.Find("GET", "/api/v1/packages/cache-sim/versions/3");
  EXPECT_EQ(m.route, version_);
  ASSERT_NE(m.path_template, nullptr);
  EXPECT_EQ(*m.path_template, "/api/v1/packages/{id}/versions/{n}");
  EXPECT_EQ(m.params, (std::vector<std::string>{"cache-sim", "3"}));

  EXPECT_EQ(table_.Find("GET", "/api/v1/packages").route, list_);
  EXPECT_EQ(table_.Find("POST", "/api/v1/packages").route, submit_);
  EXPECT_EQ(table_.Find("GET", "/api/v1/packages/x").route, package_);
}

TEST_F(RouteTableTest, HeadIsAnsweredByGet) {
  EXPECT_EQ(table_.Find("HEAD", "/api/v1/packages/x").route, package_);
}

TEST_F(RouteTableTest, KnownPathWithOtherMethodGivesAllow) {
  RouteTable::Match m = table_.Find("DELETE", "/api/v1/packages");
  EXPECT_EQ(m.route, -1);
  ASSERT_NE(m.path_template, nullptr);
  EXPECT_EQ(*m.allow, "GET, HEAD, OPTIONS, POST");
  m = table_.Find("GET", "/api/v1/tensions/4");
  EXPECT_EQ(m.route, -1);
  EXPECT_EQ(*m.allow, "OPTIONS, PATCH");
}

TEST_F(RouteTableTest, UnknownPathsMatchNothing) {
  for (const char* path : {"", "/", "/api/v1", "/api/v1/packages/", "/api/v1//x", "api/v1/packages",
                           "/api/v1/packages/x/versions", "/api/v1/packages/x/versions/3/y"}) {
    const RouteTable::Match m = table_.Find("GET", path);
    EXPECT_EQ(m.route, -1) << path;
    EXPECT_EQ(m.path_template, nullptr) << path;
  }
}

}  // namespace
}  // namespace ahub::hub
