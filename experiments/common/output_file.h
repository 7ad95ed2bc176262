// WriteFileAtomically: readers of `path` see either its old content or all of the new one.
//
// The document goes to a temporary file in the same directory (so rename(2) stays within one
// file system and is atomic), is written, fsynced and closed, and only then renamed over `path`.
// On any failure the temporary file is removed and `path` is left untouched.
// Thread-safety: safe for distinct paths; the temporary name includes the process id.
#pragma once

#include <string>
#include <string_view>

namespace expcommon {

// Returns "" on success, else a message that names `path` and the failing step.
std::string WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace expcommon
