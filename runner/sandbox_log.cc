#include "runner/sandbox_log.h"

#include <algorithm>

namespace ahub {

BoundedLog::BoundedLog(int64_t limit) {
  const size_t total = static_cast<size_t>(std::max<int64_t>(limit, 0));
  head_limit_ = total / 2;
  tail_limit_ = total - head_limit_;
}

void BoundedLog::Append(std::string_view data) {
  total_ += static_cast<int64_t>(data.size());
  if (head_.size() < head_limit_) {
    const size_t take = std::min(head_limit_ - head_.size(), data.size());
    head_.append(data.substr(0, take));
    data.remove_prefix(take);
  }
  if (data.empty() || tail_limit_ == 0) return;
  if (data.size() >= tail_limit_) {
    tail_.assign(data.substr(data.size() - tail_limit_));
    return;
  }
  tail_.append(data);
  // Trimming only when twice the limit is held keeps Append amortised O(size of data).
  if (tail_.size() >= 2 * tail_limit_) tail_.erase(0, tail_.size() - tail_limit_);
}

std::string BoundedLog::Text() const {
  const size_t keep_tail = std::min(tail_.size(), tail_limit_);
  std::string_view tail(tail_);
  tail.remove_prefix(tail_.size() - keep_tail);
  std::string text = head_;
  if (truncated())
    text += TruncationMarker(total_ - static_cast<int64_t>(head_limit_ + tail_limit_));
  text.append(tail);
  return text;
}

std::string TruncationMarker(int64_t dropped) {
  return "\n[... truncated " + std::to_string(dropped) + " bytes ...]\n";
}

}  // namespace ahub
