// Auth: API tokens and the roles they carry.
//
// A token is shown to its owner once ("ahub_" + 43 base64url characters, 256 random bits); the
// store keeps only TokenHash(token) and the token's role. A request names its token in an
// "Authorization: Bearer <token>" header; the handler looks the hash up and asks Allows(role,
// action) before acting.
//
// Thread-safety: every function is pure apart from NewToken(), which reads OpenSSL's CSPRNG
// (itself thread-safe); all may be called from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ahub::hub {

enum class Role { kAuthor, kReviewer, kRunner, kAdmin };

// "author", "reviewer", "runner", "admin": the names used in the store, the API and the CLI.
const char* RoleName(Role role);
// The inverse of RoleName (exact, lower case); nullopt for anything else.
std::optional<Role> ParseRole(std::string_view name);

enum class Action {
  kSubmit,         // submit a package, or a new version of a package the caller owns
  kRequeue,        // re-queue a package's verification
  kReviewTension,  // change a tension's review state
  kAttest,         // post a runner's attestation of a verification
  kAdmin,          // manage tokens and anything else reserved to administrators
};

// Whether `role` may perform `action`. Admin may do everything; author may submit; reviewer may
// re-queue and review tensions; runner may attest. Ownership (an author submitting a new version
// of someone else's package) is checked by the store, not here.
bool Allows(Role role, Action action);

inline constexpr std::string_view kTokenPrefix = "ahub_";

// A fresh token: kTokenPrefix + 43 characters of unpadded base64url of 32 bytes from RAND_bytes.
// The prefix makes leaked tokens recognisable to secret scanners. Throws std::runtime_error when
// the CSPRNG fails, a fault no caller can recover from.
std::string NewToken();

// What the store keeps instead of the token: the lower-case hex SHA-256 of its bytes.
std::string TokenHash(std::string_view token);

// The token in an Authorization header value "Bearer <token>": the scheme is matched without
// regard to case and is followed by one space or more; surrounding spaces and tabs are ignored.
// The token must be non-empty and use only the RFC 6750 b64token characters. nullopt otherwise.
std::optional<std::string> BearerToken(std::string_view header);

}  // namespace ahub::hub
