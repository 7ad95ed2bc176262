// SHA-256 helpers over OpenSSL's EVP interface: of a string, of a file, and of a package's whole
// content (the identity of what was verified, used in reports and attestations).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "runner/status.h"

namespace ahub {

std::string Sha256Hex(std::string_view data);
Result<std::string> Sha256File(const std::filesystem::path& file);

// Hash of every regular file under `dir` (sorted by relative path; each contributes its path, its
// executable bit and its bytes), skipping VCS metadata (.git). Links and special files are refused.
Result<std::string> PackageContentSha256(const std::filesystem::path& dir);

}  // namespace ahub
