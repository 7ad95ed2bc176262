// PythonRandom: CPython's random.Random(seed).random(), reproduced bit for bit.
//
// CPython's generator is MT19937, the same engine as std::mt19937; only the seeding differs.
// random.seed(n) for an int n calls init_by_array() with the 32-bit words of |n|, least
// significant first (the key {0} for n == 0). std::mt19937::seed(Sseq&) fills its 624 state
// words from any seed sequence's generate(), so the private InitByArraySequence performs
// init_by_array and the engine adopts that state unchanged.
//
// Invariants:
//  1. After construction the engine state equals CPython's after random.seed(n), including
//     mt[0] == 0x80000000: init_by_array sets it, and seed(Sseq&) only rewrites mt[0] when all
//     other words would be zero, which cannot happen with mt[0]'s top bit set.
//  2. Random() consumes exactly two 32-bit outputs, as CPython's random_random() does:
//     (a * 2^26 + b) / 2^53 with a = next >> 5, b = next >> 6.
// Thread-safety: none; use one PythonRandom per thread.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_PYTHON_RANDOM_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_PYTHON_RANDOM_H_

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

namespace cachesim {

class PythonRandom {
 public:
  // `key`: the 32-bit words of |seed|, least significant first; must not be empty.
  explicit PythonRandom(std::span<const uint32_t> key);

  // random.Random(seed) for a seed that fits in 64 bits (the sign is dropped, as in CPython).
  static PythonRandom FromSeed(int64_t seed);
  static PythonRandom FromUnsignedSeed(uint64_t seed);

  // random.random(): a double in [0, 1) with 53 random bits.
  double Random() {
    const uint32_t a = engine_() >> 5;
    const uint32_t b = engine_() >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }

  // One raw MT19937 output (CPython's genrand_uint32).
  uint32_t NextUint32() { return static_cast<uint32_t>(engine_()); }

  // The engine, for tests that inspect its state.
  const std::mt19937& engine() const { return engine_; }

 private:
  std::mt19937 engine_;
};

// CPython's seed key for a decimal integer of any size ("42", "-7", "1099511627783"): the
// 32-bit words of its absolute value, least significant first. nullopt when `text` is not an
// optionally signed run of decimal digits.
std::optional<std::vector<uint32_t>> SeedKeyFromDecimal(std::string_view text);

}  // namespace cachesim

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_PYTHON_RANDOM_H_
