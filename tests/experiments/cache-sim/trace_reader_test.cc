// Trace readers: text and oracleGeneral round trips, and one test per kind of bad input.
#include "trace_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "test_support.h"
#include "zipf_stream.h"

namespace cachesim {
namespace {

using testing::TempDir;
using testing::WriteFile;

struct OracleRecord {
  uint32_t clock_time;
  uint64_t obj_id;
  uint32_t obj_size;
  int64_t next_access_vtime;
};

// Serialises records exactly as libCacheSim lays them out: packed, little-endian, 24 bytes.
std::string OracleGeneralBytes(const std::vector<OracleRecord>& records) {
  std::string bytes;
  auto put = [&bytes](uint64_t value, int width) {
    for (int i = 0; i < width; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  };
  for (const OracleRecord& r : records) {
    put(r.clock_time, 4);
    put(r.obj_id, 8);
    put(r.obj_size, 4);
    put(static_cast<uint64_t>(r.next_access_vtime), 8);
  }
  return bytes;
}

std::vector<uint32_t> Ids(const Trace& trace) {
  const auto ids = trace.requests.ids();
  return {ids.begin(), ids.end()};
}

TEST(TraceReaderTest, FormatNames) {
  EXPECT_EQ(ParseTraceFormat("text"), TraceFormat::kText);
  EXPECT_EQ(ParseTraceFormat("oracle-general"), TraceFormat::kOracleGeneral);
  EXPECT_EQ(ParseTraceFormat("oracleGeneral"), TraceFormat::kOracleGeneral);
  EXPECT_FALSE(ParseTraceFormat("csv").has_value());
  EXPECT_EQ(TraceFormatName(TraceFormat::kOracleGeneral), "oracle-general");
}

TEST(TraceReaderTest, TextRoundTripRemapsKeysInFirstAppearanceOrder) {
  const TempDir dir;
  const std::string path = dir.File("t.txt");
  WriteFile(path,
            "# a comment\n5\n\n  1099511627776\t\n5\r\n   # indented comment\n"
            "18446744073709551615\n7\n1099511627776");  // no final newline
  auto trace = ReadTrace(path, TraceFormat::kText);
  ASSERT_TRUE(trace.ok()) << trace.error().message();
  EXPECT_EQ(Ids(trace.value()), (std::vector<uint32_t>{0, 1, 0, 2, 3, 1}));
  EXPECT_EQ(trace.value().object_keys,
            (std::vector<uint64_t>{5, 1099511627776ULL, 18446744073709551615ULL, 7}));
  EXPECT_EQ(trace.value().requests.distinct_objects(), 4u);
  EXPECT_EQ(trace.value().requests.num_objects(), 4u);
  EXPECT_EQ(trace.value().requests.max_frequency(), 2u);
}

TEST(TraceReaderTest, TextRejectsNonNumericLinesNamingFileAndLine) {
  const TempDir dir;
  for (const std::string bad : {"abc", "-5", "12abc", "18446744073709551616", "1 2", "0x10"}) {
    SCOPED_TRACE(bad);
    const std::string path = dir.File("bad.txt");
    WriteFile(path, "1\n# fine\n" + bad + "\n3\n");
    auto trace = ReadTrace(path, TraceFormat::kText);
    ASSERT_FALSE(trace.ok());
    const std::string& message = trace.error().message();
    EXPECT_NE(message.find(path + ":3:"), std::string::npos) << message;
    EXPECT_NE(message.find("'" + bad + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("unsigned 64-bit"), std::string::npos) << message;
  }
}

TEST(TraceReaderTest, TextWithoutRequestsIsAnError) {
  const TempDir dir;
  for (const std::string contents : {"", "\n\n", "# only\n# comments\n"}) {
    const std::string path = dir.File("empty.txt");
    WriteFile(path, contents);
    auto trace = ReadTrace(path, TraceFormat::kText);
    ASSERT_FALSE(trace.ok());
    EXPECT_NE(trace.error().message().find(path + ": trace holds no requests"), std::string::npos)
        << trace.error().message();
  }
}

TEST(TraceReaderTest, MissingFileIsAnErrorNamingIt) {
  const TempDir dir;
  for (const TraceFormat format : {TraceFormat::kText, TraceFormat::kOracleGeneral}) {
    const std::string path = dir.File("does-not-exist");
    auto trace = ReadTrace(path, format);
    ASSERT_FALSE(trace.ok());
    EXPECT_NE(trace.error().message().find(path + ": cannot open trace: No such file"),
              std::string::npos)
        << trace.error().message();
  }
  auto directory = ReadTrace(dir.path().string(), TraceFormat::kText);
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message().find(dir.path().string()), std::string::npos);
}

TEST(TraceReaderTest, OracleGeneralRoundTrip) {
  const std::vector<OracleRecord> records = {
      {1, 42, 4096, 2},
      {2, 0xfedcba9876543210ULL, 0, -1},  // size 0 and "never again" are kept
      {3, 42, 4096, INT64_MAX},
      {0xffffffffu, 7, 1, 5},
  };
  const TempDir dir;
  const std::string path = dir.File("t.oracleGeneral");
  const std::string bytes = OracleGeneralBytes(records);
  ASSERT_EQ(bytes.size(), records.size() * kOracleGeneralRecordBytes);
  WriteFile(path, bytes);
  auto trace = ReadTrace(path, TraceFormat::kOracleGeneral);
  ASSERT_TRUE(trace.ok()) << trace.error().message();
  EXPECT_EQ(Ids(trace.value()), (std::vector<uint32_t>{0, 1, 0, 2}));
  EXPECT_EQ(trace.value().object_keys, (std::vector<uint64_t>{42, 0xfedcba9876543210ULL, 7}));
}

TEST(TraceReaderTest, ReadsTheOracleGeneralFileThatPythonWrites) {
  // reference.py packs records with struct "<IQIq", independently of OracleGeneralBytes above.
  const TempDir dir;
  const std::string path = dir.File("zipf.oracleGeneral");
  testing::RunReference({"requests", "--zipf-s", "0.9", "--catalog", "500", "--requests", "3000",
                         "--seed", "77", "--oracle-general", path});
  auto trace = ReadTrace(path, TraceFormat::kOracleGeneral);
  ASSERT_TRUE(trace.ok()) << trace.error().message();
  const std::vector<uint32_t> expected =
      GenerateZipfRequests({0.9, 500, 3000}, std::vector<uint32_t>{77});
  const auto ids = trace.value().requests.ids();
  ASSERT_EQ(ids.size(), expected.size());
  for (size_t t = 0; t < ids.size(); ++t) {
    ASSERT_EQ(trace.value().object_keys[ids[t]], expected[t]) << "request " << t;
  }
}

TEST(TraceReaderTest, OracleGeneralTruncatedRecordNamesItsNumber) {
  const TempDir dir;
  const std::string path = dir.File("cut.oracleGeneral");
  std::string bytes = OracleGeneralBytes({{1, 1, 1, -1}, {2, 2, 1, -1}, {3, 3, 1, -1}});
  bytes.resize(bytes.size() - 14);  // record 3 keeps 10 of its 24 bytes
  WriteFile(path, bytes);
  auto trace = ReadTrace(path, TraceFormat::kOracleGeneral);
  ASSERT_FALSE(trace.ok());
  EXPECT_NE(trace.error().message().find(path + ": record 3 is truncated: 10 of 24 bytes"),
            std::string::npos)
      << trace.error().message();
}

TEST(TraceReaderTest, OracleGeneralEmptyFileIsAnError) {
  const TempDir dir;
  const std::string path = dir.File("empty.oracleGeneral");
  WriteFile(path, "");
  auto trace = ReadTrace(path, TraceFormat::kOracleGeneral);
  ASSERT_FALSE(trace.ok());
  EXPECT_NE(trace.error().message().find(path + ": trace holds no requests"), std::string::npos);
}

TEST(TraceReaderTest, ManyDistinctKeysSurviveTheIdMapGrowing) {
  // 200k distinct keys with a stride that collides in the low bits, each requested twice.
  const TempDir dir;
  const std::string path = dir.File("big.txt");
  std::string text;
  constexpr uint64_t kKeys = 200000;
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t k = 0; k < kKeys; ++k) text += std::to_string(k << 20) + "\n";
  }
  WriteFile(path, text);
  auto trace = ReadTrace(path, TraceFormat::kText);
  ASSERT_TRUE(trace.ok()) << trace.error().message();
  const auto ids = trace.value().requests.ids();
  ASSERT_EQ(ids.size(), 2 * kKeys);
  for (uint64_t k = 0; k < kKeys; ++k) {
    ASSERT_EQ(ids[k], k);
    ASSERT_EQ(ids[kKeys + k], k);
    ASSERT_EQ(trace.value().object_keys[k], k << 20);
  }
}

}  // namespace
}  // namespace cachesim
