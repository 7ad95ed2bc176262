// PythonRandom against CPython itself: the state after seeding, the raw 32-bit outputs and
// random() values, for small, 64-bit, negative and multi-word seeds.
#include "python_random.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace cachesim {
namespace {

using testing::kPython;
using testing::RunCommand;

// Seeds as CPython reads them; the 2**64+3 and 40-digit ones take three and five key words.
const std::vector<std::string> kSeeds = {"0",
                                         "1",
                                         "42",
                                         "-42",
                                         "4294967295",
                                         "4294967296",
                                         "1099511627783" /* 2**40+7 */,
                                         "18446744073709551619" /* 2**64+3 */,
                                         "1234567890123456789012345678901234567890"};

constexpr int kValuesPerSeed = 8;

// Runs CPython and returns one line per seed with: the 624 state words and index after
// seeding, then kValuesPerSeed random() values as float.hex, then kValuesPerSeed
// getrandbits(32) values from a freshly seeded generator.
std::vector<std::string> PythonLines() {
  const std::string program =
      "import random, sys\n"
      "n = int(sys.argv[1])\n"
      "for a in sys.argv[2:]:\n"
      "    r = random.Random(int(a))\n"
      "    state = r.getstate()[1]\n"
      "    vals = [r.random().hex() for _ in range(n)]\n"
      "    r = random.Random(int(a))\n"
      "    bits = [r.getrandbits(32) for _ in range(n)]\n"
      "    print(' '.join(map(str, state)), '|', ' '.join(vals), '|', ' '.join(map(str, bits)))\n";
  std::vector<std::string> argv = {kPython, "-c", program, std::to_string(kValuesPerSeed)};
  argv.insert(argv.end(), kSeeds.begin(), kSeeds.end());
  const auto result = RunCommand(argv);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> lines;
  std::istringstream in(result.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

PythonRandom Seeded(const std::string& seed) {
  const auto key = SeedKeyFromDecimal(seed);
  EXPECT_TRUE(key.has_value()) << seed;
  return PythonRandom(*key);
}

TEST(PythonRandomTest, MatchesCPythonStateRandomAndRawOutputs) {
  const std::vector<std::string> lines = PythonLines();
  ASSERT_EQ(lines.size(), kSeeds.size());
  for (size_t i = 0; i < kSeeds.size(); ++i) {
    SCOPED_TRACE("seed " + kSeeds[i]);
    std::istringstream python(lines[i]);

    // State: std::mt19937's operator<< writes the 624 words then the index, exactly the
    // layout of CPython's getstate()[1].
    std::ostringstream ours;
    ours << Seeded(kSeeds[i]).engine();
    std::istringstream ours_in(ours.str());
    for (int w = 0; w < 625; ++w) {
      uint64_t expected = 0;
      uint64_t actual = 0;
      python >> expected;
      ours_in >> actual;
      ASSERT_EQ(actual, expected) << "state word " << w;
    }
    std::string bar;
    python >> bar;
    ASSERT_EQ(bar, "|");

    PythonRandom rng = Seeded(kSeeds[i]);
    for (int v = 0; v < kValuesPerSeed; ++v) {
      std::string hex;
      python >> hex;
      const double expected = std::strtod(hex.c_str(), nullptr);
      EXPECT_EQ(rng.Random(), expected) << "random() #" << v << " python " << hex;
    }
    python >> bar;
    ASSERT_EQ(bar, "|");
    PythonRandom raw = Seeded(kSeeds[i]);
    for (int v = 0; v < kValuesPerSeed; ++v) {
      uint64_t expected = 0;
      python >> expected;
      EXPECT_EQ(raw.NextUint32(), expected) << "getrandbits(32) #" << v;
    }
  }
}

TEST(PythonRandomTest, FirstStateWordIsTheCPythonConstant) {
  // init_by_array ends with mt[0] = 0x80000000; std::mt19937 must keep it.
  std::ostringstream state;
  state << PythonRandom::FromSeed(42).engine();
  uint64_t first = 0;
  std::istringstream(state.str()) >> first;
  EXPECT_EQ(first, 0x80000000u);
}

TEST(PythonRandomTest, SixtyFourBitConstructorsAgreeWithDecimalKeys) {
  PythonRandom a = PythonRandom::FromSeed(-1099511627783);
  PythonRandom b = Seeded("1099511627783");
  PythonRandom c = PythonRandom::FromUnsignedSeed(1099511627783u);
  for (int i = 0; i < 100; ++i) {
    const double x = a.Random();
    EXPECT_EQ(x, b.Random());
    EXPECT_EQ(x, c.Random());
  }
}

TEST(PythonRandomTest, SeedKeyFromDecimal) {
  using Key = std::vector<uint32_t>;
  EXPECT_EQ(SeedKeyFromDecimal("0"), Key{0});
  EXPECT_EQ(SeedKeyFromDecimal("42"), Key{42});
  EXPECT_EQ(SeedKeyFromDecimal("-7"), Key{7});
  EXPECT_EQ(SeedKeyFromDecimal("+7"), Key{7});
  EXPECT_EQ(SeedKeyFromDecimal("4294967295"), Key{0xffffffffu});
  EXPECT_EQ(SeedKeyFromDecimal("4294967296"), (Key{0, 1}));
  EXPECT_EQ(SeedKeyFromDecimal("18446744073709551619"), (Key{3, 0, 1}));
  EXPECT_EQ(SeedKeyFromDecimal("0007"), Key{7});
  EXPECT_FALSE(SeedKeyFromDecimal("").has_value());
  EXPECT_FALSE(SeedKeyFromDecimal("-").has_value());
  EXPECT_FALSE(SeedKeyFromDecimal("12a").has_value());
  EXPECT_FALSE(SeedKeyFromDecimal("1.5").has_value());
}

}  // namespace
}  // namespace cachesim
