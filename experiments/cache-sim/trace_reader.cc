#include "trace_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <span>

namespace cachesim {
namespace {

// Remaps 64-bit keys to dense ids in first-appearance order. Open addressing with linear
// probing over slots that hold the key and its id, so a lookup touches one cache line, which
// Prefetch() requests ahead of time: hashing every request of a multi-million-request trace
// would otherwise wait on one cache miss per request.
class DenseIdMap {
 public:
  explicit DenseIdMap(size_t expected_keys) {
    size_t slots = 16;
    while (slots < expected_keys * 2) slots *= 2;
    slots_.assign(slots, Slot{0, kEmpty});
  }

  void Prefetch(uint64_t key) const { __builtin_prefetch(&slots_[Hash(key) & Mask()]); }

  uint32_t IdOf(uint64_t key) {
    size_t slot = Hash(key) & Mask();
    while (slots_[slot].id != kEmpty) {
      if (slots_[slot].key == key) return slots_[slot].id;
      slot = (slot + 1) & Mask();
    }
    const auto id = static_cast<uint32_t>(keys_.size());
    slots_[slot] = Slot{key, id};
    keys_.push_back(key);
    if (keys_.size() * 2 > slots_.size()) Grow();
    return id;
  }

  // Appends the ids of `keys` to `ids`.
  void Remap(std::span<const uint64_t> keys, std::vector<uint32_t>& ids) {
    constexpr size_t kAhead = 8;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i + kAhead < keys.size()) Prefetch(keys[i + kAhead]);
      ids.push_back(IdOf(keys[i]));
    }
  }

  std::vector<uint64_t> TakeKeys() { return std::move(keys_); }

 private:
  static constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();

  struct Slot {
    uint64_t key;
    uint32_t id;  // kEmpty for a free slot
  };

  // A 64-bit finaliser (splitmix64) spreads sequential keys over the table.
  static uint64_t Hash(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }

  size_t Mask() const { return slots_.size() - 1; }

  void Grow() {
    std::vector<Slot> larger(slots_.size() * 2, Slot{0, kEmpty});
    const size_t mask = larger.size() - 1;
    for (uint32_t id = 0; id < keys_.size(); ++id) {
      size_t slot = Hash(keys_[id]) & mask;
      while (larger[slot].id != kEmpty) slot = (slot + 1) & mask;
      larger[slot] = Slot{keys_[id], id};
    }
    slots_ = std::move(larger);
  }

  std::vector<Slot> slots_;
  std::vector<uint64_t> keys_;  // dense id -> key
};

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

Result<File> OpenTrace(const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) return Error(path + ": cannot open trace: " + std::strerror(errno));
  return file;
}

// The file's size, or an error for what cannot be read as a regular file (a directory, say).
Result<uint64_t> FileSize(const std::string& path, std::FILE* file) {
  struct stat info {};
  if (::fstat(::fileno(file), &info) != 0) {
    return Error(path + ": cannot read trace: " + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) return Error(path + ": cannot read trace: not a regular file");
  return static_cast<uint64_t>(info.st_size);
}

Result<std::string> ReadWholeFile(const std::string& path) {
  auto file = OpenTrace(path);
  if (!file.ok()) return file.error();
  auto size = FileSize(path, file.value().get());
  if (!size.ok()) return size.error();
  std::string bytes(size.value(), '\0');
  const size_t read = std::fread(bytes.data(), 1, bytes.size(), file.value().get());
  if (read != bytes.size() || std::ferror(file.value().get())) {
    return Error(path + ": cannot read trace: " + std::strerror(errno));
  }
  return bytes;
}

Result<Trace> Finish(const std::string& path, std::vector<uint32_t> ids, DenseIdMap& map) {
  auto stream = RequestStream::FromIds(std::move(ids));
  if (!stream.ok()) return Error(path + ": " + stream.error().message());
  return Trace{std::move(stream).value(), map.TakeKeys()};
}

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

Result<Trace> ReadText(const std::string& path) {
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.error();
  const std::string_view text = bytes.value();
  std::vector<uint64_t> keys;
  size_t line_number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    ++line_number;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && IsBlank(line.front())) line.remove_prefix(1);
    while (!line.empty() && IsBlank(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    uint64_t key = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), key);
    if (ec != std::errc() || ptr != line.data() + line.size()) {
      constexpr size_t kShown = 40;
      const std::string shown(line.substr(0, kShown));
      return Error(path + ":" + std::to_string(line_number) +
                   ": expected an object id (unsigned 64-bit decimal integer), got '" + shown +
                   (line.size() > kShown ? "...'" : "'"));
    }
    keys.push_back(key);
  }
  if (keys.empty()) {
    return Error(path + ": trace holds no requests (a text trace needs one id per line)");
  }
  DenseIdMap map(keys.size() / 4);  // a first guess at the distinct keys; the map grows
  std::vector<uint32_t> ids;
  ids.reserve(keys.size());
  map.Remap(keys, ids);
  return Finish(path, std::move(ids), map);
}

uint64_t LoadLittleEndian(const unsigned char* bytes, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

Result<Trace> ReadOracleGeneral(const std::string& path) {
  auto file = OpenTrace(path);
  if (!file.ok()) return file.error();
  auto size = FileSize(path, file.value().get());
  if (!size.ok()) return size.error();
  const uint64_t bytes = size.value();
  if (bytes == 0) {
    return Error(path + ": trace holds no requests (oracleGeneral records are 24 bytes each)");
  }
  const uint64_t records = bytes / kOracleGeneralRecordBytes;
  if (bytes % kOracleGeneralRecordBytes != 0) {
    return Error(path + ": record " + std::to_string(records + 1) +
                 " is truncated: " + std::to_string(bytes % kOracleGeneralRecordBytes) + " of " +
                 std::to_string(kOracleGeneralRecordBytes) + " bytes (file size " +
                 std::to_string(bytes) + " is not a multiple of 24)");
  }
  if (records > kMaxRequests) {
    return Error(path + ": " + std::to_string(records) + " records; at most " +
                 std::to_string(kMaxRequests) + " are supported");
  }
  // Streamed in chunks: a trace can be far larger than the ids it becomes (24 vs 4 bytes).
  constexpr size_t kChunkRecords = size_t{1} << 16;
  constexpr size_t kObjIdOffset = 4;  // after uint32 clock_time
  DenseIdMap map(records / 4);
  std::vector<uint32_t> ids;
  ids.reserve(records);
  std::vector<unsigned char> chunk(kChunkRecords * kOracleGeneralRecordBytes);
  std::vector<uint64_t> keys(kChunkRecords);
  for (uint64_t done = 0; done < records;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkRecords, records - done));
    if (std::fread(chunk.data(), kOracleGeneralRecordBytes, n, file.value().get()) != n) {
      return Error(path + ": cannot read record " + std::to_string(done + 1) + ": " +
                   (std::ferror(file.value().get()) ? std::strerror(errno) : "file shrank"));
    }
    for (size_t r = 0; r < n; ++r) {
      keys[r] = LoadLittleEndian(&chunk[r * kOracleGeneralRecordBytes + kObjIdOffset], 8);
    }
    map.Remap(std::span<const uint64_t>(keys.data(), n), ids);
    done += n;
  }
  return Finish(path, std::move(ids), map);
}

}  // namespace

std::optional<TraceFormat> ParseTraceFormat(std::string_view name) {
  if (name == "text") return TraceFormat::kText;
  if (name == "oracle-general" || name == "oracleGeneral") return TraceFormat::kOracleGeneral;
  return std::nullopt;
}

std::string_view TraceFormatName(TraceFormat format) {
  switch (format) {
    case TraceFormat::kText:
      return "text";
    case TraceFormat::kOracleGeneral:
      return "oracle-general";
  }
  return "";
}

Result<Trace> ReadTrace(const std::string& path, TraceFormat format) {
  switch (format) {
    case TraceFormat::kText:
      return ReadText(path);
    case TraceFormat::kOracleGeneral:
      return ReadOracleGeneral(path);
  }
  return Error("unknown trace format");
}

}  // namespace cachesim
