// Zipf request streams against the seed package's Python generator (run live through
// bench/cache-sim/reference.py), and the guided sampler against a plain lower_bound.
#include "zipf_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <utility>

#include "python_random.h"
#include "test_support.h"

namespace cachesim {
namespace {

struct ZipfCase {
  double s;
  uint32_t catalog;
  uint64_t requests;
  std::string seed;
};

std::string Describe(const ZipfCase& c) {
  std::ostringstream out;
  out << "s=" << c.s << " catalog=" << c.catalog << " requests=" << c.requests
      << " seed=" << c.seed;
  return out.str();
}

std::vector<uint32_t> PythonStream(const ZipfCase& c) {
  std::ostringstream s;
  s.precision(17);
  s << c.s;
  const std::string out = testing::RunReference({"requests", "--zipf-s", s.str(), "--catalog",
                                                 std::to_string(c.catalog), "--requests",
                                                 std::to_string(c.requests), "--seed", c.seed});
  std::vector<uint32_t> ids;
  std::istringstream in(out);
  for (uint32_t id; in >> id;) ids.push_back(id);
  return ids;
}

TEST(ZipfStreamTest, EqualsPythonRequestStream) {
  const std::vector<ZipfCase> cases = {
      {1.1, 10000, 200000, "42"},  // the seed package's full stream
      {0.8, 1000, 20000, "1099511627783"},
      {1.5, 50000, 20000, "0"},
      {0.0, 7, 5000, "3"},  // uniform
      {2.5, 100, 5000, "-9"},
      {1.1, 1, 100, "5"},  // a one-object catalog
      {0.99, 300000, 20000, "18446744073709551619"},
  };
  for (const ZipfCase& c : cases) {
    SCOPED_TRACE(Describe(c));
    const auto key = SeedKeyFromDecimal(c.seed);
    ASSERT_TRUE(key.has_value());
    const std::vector<uint32_t> ours = GenerateZipfRequests({c.s, c.catalog, c.requests}, *key);
    const std::vector<uint32_t> python = PythonStream(c);
    ASSERT_EQ(ours.size(), python.size());
    const auto mismatch = std::mismatch(ours.begin(), ours.end(), python.begin());
    EXPECT_TRUE(mismatch.first == ours.end())
        << "first difference at request " << (mismatch.first - ours.begin()) << ": ours "
        << *mismatch.first << ", python " << *mismatch.second;
  }
}

TEST(ZipfStreamTest, CumulativeIsPythonArithmeticBitForBit) {
  // Every cum[i], not only the stream: an operation done differently (acc * (1/t) instead of
  // acc / t, say) moves thousands of values by one ulp yet rarely changes a request, so the
  // stream comparison alone would miss it.
  for (const auto& [s, catalog] : std::vector<std::pair<std::string, uint32_t>>{
           {"1.1", 10000}, {"0.99", 300000}, {"1.5", 777}}) {
    SCOPED_TRACE("s=" + s + " catalog=" + std::to_string(catalog));
    const auto result =
        testing::RunCommand({testing::kPython, "-c",
                             "import sys\n"
                             "s=float(sys.argv[1]);n=int(sys.argv[2])\n"
                             "w=[1/(i**s) for i in range(1,n+1)];t=sum(w);acc=0;cum=[]\n"
                             "for x in w: acc+=x; cum.append(acc/t)\n"
                             "print('\\n'.join(c.hex() for c in cum))",
                             s, std::to_string(catalog)});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const ZipfSampler sampler(std::stod(s), catalog);
    const auto cum = sampler.cumulative();
    std::istringstream in(result.out);
    size_t i = 0;
    size_t differing = 0;
    for (std::string hex; in >> hex; ++i) {
      ASSERT_LT(i, cum.size());
      if (cum[i] != std::strtod(hex.c_str(), nullptr)) {
        if (differing++ == 0)
          ADD_FAILURE() << "cum[" << i << "] = " << cum[i] << ", python " << hex;
      }
    }
    EXPECT_EQ(i, cum.size());
    EXPECT_EQ(differing, 0u);
    EXPECT_EQ(cum.back(), 1.0);
  }
}

TEST(ZipfStreamTest, GuidedSampleEqualsPlainLowerBound) {
  for (const uint32_t catalog : {1u, 2u, 1000u, 5000u, 3000000u}) {
    const ZipfSampler sampler(1.05, catalog);
    const auto cum = sampler.cumulative();
    auto plain = [&](double u) {
      return static_cast<uint32_t>(std::lower_bound(cum.begin(), cum.end(), u) - cum.begin());
    };
    // The hardest inputs sit exactly on, just below and just above the cumulative values.
    for (size_t i = 0; i < cum.size(); i += 1 + cum.size() / 2000) {
      for (const double u : {cum[i], std::nextafter(cum[i], 0.0), std::nextafter(cum[i], 2.0)}) {
        if (u >= 1.0) continue;
        ASSERT_EQ(sampler.Sample(u), plain(u)) << "catalog " << catalog << " u " << u;
      }
    }
    std::mt19937_64 gen(catalog);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (int k = 0; k < 100000; ++k) {
      const double u = uniform(gen);
      ASSERT_EQ(sampler.Sample(u), plain(u)) << "catalog " << catalog << " u " << u;
    }
    EXPECT_EQ(sampler.Sample(0.0), 0u);
    EXPECT_EQ(sampler.Sample(std::nextafter(1.0, 0.0)), plain(std::nextafter(1.0, 0.0)));
  }
}

}  // namespace
}  // namespace cachesim
