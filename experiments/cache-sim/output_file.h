// WriteFileAtomically: readers of `path` see either its old content or all of the new one.
//
// The document goes to a temporary file in the same directory (so rename(2) stays within one
// file system and is atomic), is flushed and closed, and only then renamed over `path`. On any
// failure the temporary file is removed and `path` is left untouched.
// Thread-safety: safe for distinct paths; the temporary name includes the process id.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_OUTPUT_FILE_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_OUTPUT_FILE_H_

#include <string>
#include <string_view>

#include "result.h"

namespace cachesim {

Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace cachesim

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_OUTPUT_FILE_H_
