#include "hub/auth.h"

#include <gtest/gtest.h>

#include <set>

namespace ahub::hub {
namespace {

constexpr Role kRoles[] = {Role::kAuthor, Role::kReviewer, Role::kRunner, Role::kAdmin};
constexpr Action kActions[] = {Action::kSubmit, Action::kRequeue, Action::kReviewTension,
                               Action::kAttest, Action::kAdmin};

TEST(AuthTest, RoleNamesRoundTrip) {
  EXPECT_STREQ(RoleName(Role::kAuthor), "author");
  EXPECT_STREQ(RoleName(Role::kReviewer), "reviewer");
  EXPECT_STREQ(RoleName(Role::kRunner), "runner");
  EXPECT_STREQ(RoleName(Role::kAdmin), "admin");
  for (Role r : kRoles) EXPECT_EQ(ParseRole(RoleName(r)), r);
  EXPECT_EQ(ParseRole("Admin"), std::nullopt);
  EXPECT_EQ(ParseRole("admin "), std::nullopt);
  EXPECT_EQ(ParseRole(""), std::nullopt);
  EXPECT_EQ(ParseRole("root"), std::nullopt);
}

TEST(AuthTest, AdminMayDoEverything) {
  for (Action a : kActions) EXPECT_TRUE(Allows(Role::kAdmin, a));
}

TEST(AuthTest, EachOtherRoleMayDoOnlyItsOwnActions) {
  // The full table, so that granting any role one action too many fails.
  const std::set<std::pair<Role, Action>> allowed = {
      {Role::kAuthor, Action::kSubmit},
      {Role::kReviewer, Action::kRequeue},
      {Role::kReviewer, Action::kReviewTension},
      {Role::kRunner, Action::kAttest},
  };
  for (Role r : {Role::kAuthor, Role::kReviewer, Role::kRunner}) {
    for (Action a : kActions) {
      EXPECT_EQ(Allows(r, a), allowed.count({r, a}) == 1)
          << RoleName(r) << " action " << static_cast<int>(a);
    }
  }
}

TEST(AuthTest, NewTokenIsPrefixedBase64UrlOf32Bytes) {
  const std::string t = NewToken();
  ASSERT_EQ(t.size(), 5u + 43u);
  EXPECT_EQ(t.substr(0, 5), "ahub_");
  for (char c : t.substr(5)) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << t;
  }
  // 43 characters carry 258 bits; the last holds 2 bits of data and 4 zero bits, so it is one of
  // the characters whose index is a multiple of 4.
  EXPECT_NE(std::string("AEIMQUYcgkosw048").find(t.back()), std::string::npos) << t;
}

TEST(AuthTest, NewTokensDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(NewToken());
  EXPECT_EQ(seen.size(), 100u);
}

TEST(AuthTest, NewTokenIsItsOwnBearerToken) {
  const std::string t = NewToken();
  EXPECT_EQ(BearerToken("Bearer " + t), t);
}

TEST(AuthTest, TokenHashIsHexSha256) {
  // sha256("abc") from FIPS 180-2.
  EXPECT_EQ(TokenHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(TokenHash("ahub_a"), TokenHash("ahub_b"));
  EXPECT_EQ(TokenHash("ahub_x"), TokenHash("ahub_x"));
}

TEST(AuthTest, BearerTokenAcceptsAnyCaseAndSpaces) {
  EXPECT_EQ(BearerToken("Bearer ahub_abc"), "ahub_abc");
  EXPECT_EQ(BearerToken("bearer ahub_abc"), "ahub_abc");
  EXPECT_EQ(BearerToken("BEARER ahub_abc"), "ahub_abc");
  EXPECT_EQ(BearerToken("Bearer    ahub_abc"), "ahub_abc");
  EXPECT_EQ(BearerToken("  Bearer ahub_abc \t"), "ahub_abc");
  EXPECT_EQ(BearerToken("Bearer a-b.c_d~e+f/g=="), "a-b.c_d~e+f/g==");
}

TEST(AuthTest, BearerTokenRefusesMalformedHeaders) {
  EXPECT_EQ(BearerToken(""), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearerahub_abc"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer\tahub_abc"), std::nullopt);
  EXPECT_EQ(BearerToken("Basic dXNlcjpwYXNz"), std::nullopt);
  EXPECT_EQ(BearerToken("Token ahub_abc"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer ahub_abc extra"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer ahub_abc,x"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer =abc"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer ab=c"), std::nullopt);
  EXPECT_EQ(BearerToken("ahub_abc"), std::nullopt);
}

}  // namespace
}  // namespace ahub::hub
