#include "python_random.h"

#include <cstdlib>

namespace cachesim {
namespace {

// A seed sequence (in the sense of [rand.req.seedseq], as far as std::mt19937::seed uses it)
// whose generate() writes the state that CPython's init_by_array() leaves in mt[0..623].
class InitByArraySequence {
 public:
  using result_type = uint32_t;

  explicit InitByArraySequence(std::span<const uint32_t> key) : key_(key) {}

  template <class It>
  void generate(It first, It last) const {  // NOLINT(readability-identifier-naming): std API
    constexpr uint32_t kN = 624;
    uint32_t mt[kN];
    // init_genrand(19650218)
    mt[0] = 19650218u;
    for (uint32_t i = 1; i < kN; ++i) {
      mt[i] = 1812433253u * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i;
    }
    const uint32_t key_length = static_cast<uint32_t>(key_.size());
    uint32_t i = 1;
    uint32_t j = 0;
    for (uint32_t k = kN > key_length ? kN : key_length; k > 0; --k) {
      mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key_[j] + j;
      ++i;
      ++j;
      if (i >= kN) {
        mt[0] = mt[kN - 1];
        i = 1;
      }
      if (j >= key_length) j = 0;
    }
    for (uint32_t k = kN - 1; k > 0; --k) {
      mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - i;
      ++i;
      if (i >= kN) {
        mt[0] = mt[kN - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000u;  // MSB is 1, assuring a non-zero initial array
    // std::mt19937 asks for exactly n * ceil(32 / 32) = 624 words.
    for (uint32_t w = 0; first != last && w < kN; ++first, ++w) *first = mt[w];
  }

 private:
  std::span<const uint32_t> key_;
};

std::vector<uint32_t> KeyOf(uint64_t magnitude) {
  std::vector<uint32_t> key{static_cast<uint32_t>(magnitude)};
  if (magnitude >> 32) key.push_back(static_cast<uint32_t>(magnitude >> 32));
  return key;
}

}  // namespace

PythonRandom::PythonRandom(std::span<const uint32_t> key) {
  InitByArraySequence sequence(key);
  engine_.seed(sequence);
}

PythonRandom PythonRandom::FromUnsignedSeed(uint64_t seed) {
  const std::vector<uint32_t> key = KeyOf(seed);
  return PythonRandom(key);
}

PythonRandom PythonRandom::FromSeed(int64_t seed) {
  // Negating in unsigned arithmetic keeps INT64_MIN's magnitude (2^63) exact.
  const uint64_t magnitude =
      seed < 0 ? 0 - static_cast<uint64_t>(seed) : static_cast<uint64_t>(seed);
  return FromUnsignedSeed(magnitude);
}

std::optional<std::vector<uint32_t>> SeedKeyFromDecimal(std::string_view text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  // Schoolbook base-10 to base-2^32 conversion: key = key * 10 + digit.
  std::vector<uint32_t> key{0};
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t carry = static_cast<uint64_t>(c - '0');
    for (uint32_t& word : key) {
      const uint64_t v = static_cast<uint64_t>(word) * 10 + carry;
      word = static_cast<uint32_t>(v);
      carry = v >> 32;
    }
    if (carry != 0) key.push_back(static_cast<uint32_t>(carry));
  }
  return key;
}

}  // namespace cachesim
