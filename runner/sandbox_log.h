// BoundedLog: keeps what a sandboxed command wrote to one stream (stdout or stderr) within a byte
// budget. A command may write without end; the runner must keep reading (so the command never
// blocks on a full pipe) but must not keep everything. What matters in a log is usually its start
// (what ran) and its end (how it ended), so the first half of the budget keeps the head and the
// second half the most recent tail; the bytes in between are replaced by one marker line.
//
// Invariants:
//   1. Text() is the stream unchanged while total_bytes() <= limit.
//   2. Otherwise Text() is head + "\n[... truncated N bytes ...]\n" + tail, where head and tail
//      together are exactly `limit` bytes and N = total_bytes() - limit.
//   3. Memory held stays below 3 * limit bytes whatever is appended.
//
// Thread-safety: none; one reader thread owns a BoundedLog.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ahub {

class BoundedLog {
 public:
  explicit BoundedLog(int64_t limit);

  void Append(std::string_view data);
  int64_t total_bytes() const { return total_; }
  bool truncated() const { return total_ > static_cast<int64_t>(head_limit_ + tail_limit_); }
  std::string Text() const;

 private:
  size_t head_limit_;
  size_t tail_limit_;
  std::string head_;
  std::string tail_;  // the newest bytes; trimmed to tail_limit_ lazily, at 2 * tail_limit_
  int64_t total_ = 0;
};

// The marker that replaces `dropped` bytes in a truncated log, with its surrounding newlines.
std::string TruncationMarker(int64_t dropped);

}  // namespace ahub
