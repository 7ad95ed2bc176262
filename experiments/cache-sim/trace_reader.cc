#include "trace_reader.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

namespace cachesim {
namespace {

// Remaps 64-bit keys to dense ids in first-appearance order. Open addressing with linear
// probing keeps loading a multi-million-request trace to one pass over flat memory.
class DenseIdMap {
 public:
  explicit DenseIdMap(size_t expected_keys) {
    size_t slots = 16;
    while (slots < expected_keys * 2) slots *= 2;
    slot_ids_.assign(slots, kEmpty);
  }

  uint32_t IdOf(uint64_t key) {
    size_t slot = Hash(key) & (slot_ids_.size() - 1);
    while (slot_ids_[slot] != kEmpty) {
      if (keys_[slot_ids_[slot]] == key) return slot_ids_[slot];
      slot = (slot + 1) & (slot_ids_.size() - 1);
    }
    const auto id = static_cast<uint32_t>(keys_.size());
    slot_ids_[slot] = id;
    keys_.push_back(key);
    if (keys_.size() * 2 > slot_ids_.size()) Grow();
    return id;
  }

  std::vector<uint64_t> TakeKeys() { return std::move(keys_); }

 private:
  static constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();

  // A 64-bit finaliser (splitmix64) spreads sequential keys over the table.
  static uint64_t Hash(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }

  void Grow() {
    std::vector<uint32_t> larger(slot_ids_.size() * 2, kEmpty);
    for (uint32_t id = 0; id < keys_.size(); ++id) {
      size_t slot = Hash(keys_[id]) & (larger.size() - 1);
      while (larger[slot] != kEmpty) slot = (slot + 1) & (larger.size() - 1);
      larger[slot] = id;
    }
    slot_ids_ = std::move(larger);
  }

  std::vector<uint32_t> slot_ids_;  // slot -> dense id, or kEmpty
  std::vector<uint64_t> keys_;      // dense id -> key
};

Result<std::string> ReadWholeFile(const std::string& path) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (file == nullptr) return Error(path + ": cannot open trace: " + std::strerror(errno));
  std::string bytes;
  std::vector<char> chunk(size_t{1} << 20);
  size_t n = 0;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), file.get())) > 0)
    bytes.append(chunk.data(), n);
  if (std::ferror(file.get())) return Error(path + ": cannot read trace: " + std::strerror(errno));
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
  DenseIdMap map(text.size() / 16);  // a first guess at the key count; the map grows
  std::vector<uint32_t> ids;
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
    ids.push_back(map.IdOf(key));
  }
  if (ids.empty()) {
    return Error(path + ": trace holds no requests (a text trace needs one id per line)");
  }
  return Finish(path, std::move(ids), map);
}

uint64_t LoadLittleEndian(const unsigned char* bytes, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

Result<Trace> ReadOracleGeneral(const std::string& path) {
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.error();
  const std::string& data = bytes.value();
  if (data.empty()) {
    return Error(path + ": trace holds no requests (oracleGeneral records are 24 bytes each)");
  }
  const size_t records = data.size() / kOracleGeneralRecordBytes;
  if (data.size() % kOracleGeneralRecordBytes != 0) {
    return Error(path + ": record " + std::to_string(records + 1) +
                 " is truncated: " + std::to_string(data.size() % kOracleGeneralRecordBytes) +
                 " of " + std::to_string(kOracleGeneralRecordBytes) + " bytes (file size " +
                 std::to_string(data.size()) + " is not a multiple of 24)");
  }
  constexpr size_t kObjIdOffset = 4;  // after uint32 clock_time
  DenseIdMap map(records);
  std::vector<uint32_t> ids(records);
  const auto* base = reinterpret_cast<const unsigned char*>(data.data());
  for (size_t r = 0; r < records; ++r) {
    ids[r] = map.IdOf(LoadLittleEndian(base + r * kOracleGeneralRecordBytes + kObjIdOffset, 8));
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
