#include "experiments/common/output_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace expcommon {

std::string WriteFileAtomically(const std::string& path, std::string_view contents) {
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (file == nullptr) {
    return path + ": cannot create output file " + temp + ": " + std::strerror(errno);
  }
  const bool written = std::fwrite(contents.data(), 1, contents.size(), file) == contents.size();
  const int write_errno = errno;
  // fsync before rename so a crash cannot leave an empty file under the final name.
  const bool flushed = std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  const bool closed = std::fclose(file) == 0;
  if (!written || !flushed || !closed) {
    const int err = !written ? write_errno : errno;
    std::remove(temp.c_str());
    return path + ": cannot write output file: " + std::strerror(err);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(temp.c_str());
    return path + ": cannot rename " + temp + " into place: " + std::strerror(err);
  }
  return "";
}

}  // namespace expcommon
