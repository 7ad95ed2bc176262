#include "runner/json_pointer.h"

namespace ahub {

bool IsValidJsonPointer(const std::string& pointer) {
  if (pointer.empty()) return true;
  if (pointer[0] != '/') return false;
  for (size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] == '~' && (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))) {
      return false;
    }
  }
  return true;
}

Result<double> NumberAt(const nlohmann::json& doc, const std::string& pointer) {
  if (!IsValidJsonPointer(pointer)) return Status::InvalidArgument(pointer + ": not a JSON pointer");
  const nlohmann::json::json_pointer ptr(pointer);
  // Walk up to the deepest existing prefix so the message names the missing step.
  if (!doc.contains(ptr)) {
    nlohmann::json::json_pointer prefix = ptr;
    while (!prefix.empty() && !doc.contains(prefix)) prefix = prefix.parent_pointer();
    return Status::NotFound(pointer + ": not found in the output (" +
                            (prefix.empty() ? std::string("the document root") : prefix.to_string()) +
                            " exists but has no " + ptr.to_string().substr(prefix.to_string().size()) + ")");
  }
  const nlohmann::json& v = doc.at(ptr);
  if (!v.is_number()) return Status::InvalidArgument(pointer + ": expected a number, found " + v.dump().substr(0, 80));
  return v.get<double>();
}

}  // namespace ahub
