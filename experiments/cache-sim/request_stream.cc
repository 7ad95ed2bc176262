#include "request_stream.h"

#include <algorithm>
#include <string>

namespace cachesim {

Result<RequestStream> RequestStream::FromIds(std::vector<uint32_t> ids) {
  if (ids.size() > kMaxRequests) {
    return Error("request stream has " + std::to_string(ids.size()) + " requests; at most " +
                 std::to_string(kMaxRequests) + " are supported");
  }
  RequestStream stream;
  uint32_t max_id = 0;
  for (const uint32_t id : ids) max_id = std::max(max_id, id);
  // Callers choose the ids (Zipf ranks, remapped trace keys); num_objects = max_id + 1 must
  // not wrap, and kAbsent-style markers in the policies rely on 2^32 - 1 never being an id.
  if (!ids.empty() && max_id == std::numeric_limits<uint32_t>::max()) {
    return Error("object id 4294967295 is reserved");
  }
  stream.num_objects_ = ids.empty() ? 0 : max_id + 1;
  std::vector<uint32_t> frequency(stream.num_objects_, 0);
  for (const uint32_t id : ids) {
    if (frequency[id]++ == 0) ++stream.distinct_objects_;
    stream.max_frequency_ = std::max(stream.max_frequency_, frequency[id]);
  }
  stream.ids_ = std::move(ids);
  return stream;
}

}  // namespace cachesim
