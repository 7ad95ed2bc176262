#include "hub/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "runner/sha256.h"

namespace ahub::hub {
namespace {

constexpr std::string_view kBearer = "bearer";
constexpr int kTokenRandomBytes = 32;  // 256 bits: guessing is hopeless, see TokenHash()

// Unpadded base64url (RFC 4648 section 5): OpenSSL's standard base64 with the two URL-unsafe
// characters swapped and the padding dropped. 32 bytes give 43 characters.
std::string Base64Url(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

bool IsOptionalWhitespace(char c) { return c == ' ' || c == '\t'; }

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool IsB64Token(std::string_view s) {
  size_t i = 0;
  auto is_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  };
  while (i < s.size() && is_char(s[i])) ++i;
  if (i == 0) return false;
  while (i < s.size() && s[i] == '=') ++i;
  return i == s.size();
}

bool EqualsIgnoringCase(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kAuthor:
      return "author";
    case Role::kReviewer:
      return "reviewer";
    case Role::kRunner:
      return "runner";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kAuthor, Role::kReviewer, Role::kRunner, Role::kAdmin}) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

bool Allows(Role role, Action action) {
  switch (role) {
    case Role::kAdmin:
      return true;
    case Role::kAuthor:
      return action == Action::kSubmit;
    case Role::kReviewer:
      return action == Action::kRequeue || action == Action::kReviewTension;
    case Role::kRunner:
      return action == Action::kAttest;
  }
  return false;
}

std::string NewToken() {
  std::array<unsigned char, kTokenRandomBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("NewToken: RAND_bytes failed; the CSPRNG is not available");
  }
  return std::string(kTokenPrefix) + Base64Url(bytes.data(), bytes.size());
}

// A bare SHA-256, with no salt and no slow KDF, is enough here: salts and key stretching defend
// low-entropy secrets (passwords) against dictionary attacks, and a 256-bit random token has no
// dictionary. A fast hash also lets every request look its token up by equality in an index.
std::string TokenHash(std::string_view token) { return Sha256Hex(token); }

std::optional<std::string> BearerToken(std::string_view header) {
  while (!header.empty() && IsOptionalWhitespace(header.front())) header.remove_prefix(1);
  while (!header.empty() && IsOptionalWhitespace(header.back())) header.remove_suffix(1);
  if (header.size() <= kBearer.size() ||
      !EqualsIgnoringCase(header.substr(0, kBearer.size()), kBearer)) {
    return std::nullopt;
  }
  std::string_view rest = header.substr(kBearer.size());
  if (rest.front() != ' ') return std::nullopt;  // "Bearerx..." is another scheme
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (!IsB64Token(rest)) return std::nullopt;
  return std::string(rest);
}

}  // namespace ahub::hub
