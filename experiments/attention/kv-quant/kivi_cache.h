// One head's KIVI cache: a 2-bit quantized prefix and an fp16 residual window of the newest
// tokens, grown one token at a time as a decoder appends its keys and values.
//
// Keys are quantized per channel (KIVI's choice; per token as the contrast it argues against),
// values per token. Per-channel key groups run along the token axis, so keys can only be
// quantized G tokens at a time; values, grouped within a token, could go one by one, but both
// leave the window together so that one boundary separates the quantized prefix from the fp16
// window and the decode kernel needs a single split point. The price is at most G - 1 extra
// fp16 value rows, which the reported byte counts include.
//
// Invariants, after every Append (n = tokens(), R = residual window, G = group size):
//  1. quantized_tokens() == G * floor(max(0, n - R) / G): the R newest tokens are always fp16,
//     and a full group of G leaves the window as soon as R + G tokens are waiting.
//  2. residual_tokens() == n - quantized_tokens() < R + G (and >= min(n, R)).
//  3. The packed arrays hold exactly quantized_tokens() rows in the layout of layout.h; the
//     residual arrays hold residual_tokens() rows, oldest first.
// Thread-safety: none; one writer, readers after it is done.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "experiments/attention/kv-quant/quantizer.h"
#include "experiments/attention/kv-quant/workload.h"

namespace attn::kvquant {

enum class KeyAxis { kPerChannel, kPerToken };

struct KiviConfig {
  int head_dim = 128;
  int group_size = 32;  // G: tokens per key group (per channel), channels per value group
  int residual = 128;   // R: newest tokens kept in fp16
  KeyAxis key_axis = KeyAxis::kPerChannel;
};

// "" if the configuration can be built, else what is wrong and what is accepted: head_dim a
// positive multiple of 16 (whole code words), group_size >= 1 dividing head_dim (value groups
// are within a token), residual >= 0.
std::string ValidateConfig(const KiviConfig& config);

class KiviCache {
 public:
  // `config` must validate (std::invalid_argument otherwise).
  explicit KiviCache(const KiviConfig& config);

  // Appends one token's key and value rows (head_dim fp16 values each) and flushes the oldest
  // group of the window into the quantized prefix when it is full.
  void Append(std::span<const uint16_t> key, std::span<const uint16_t> value);

  const KiviConfig& config() const { return config_; }
  int64_t tokens() const { return quantized_ + residual_tokens(); }
  int64_t quantized_tokens() const { return quantized_; }
  int64_t residual_tokens() const {
    return static_cast<int64_t>(key_residual_.size()) / config_.head_dim;
  }

  // The packed arrays (layout.h). Key parameters are [quantized / G][head_dim][scale, zero] per
  // channel, or [quantized][head_dim / G][scale, zero] per token like the values.
  const std::vector<uint32_t>& key_codes() const { return key_codes_; }
  const std::vector<uint16_t>& key_params() const { return key_params_; }
  const std::vector<uint32_t>& value_codes() const { return value_codes_; }
  const std::vector<uint16_t>& value_params() const { return value_params_; }
  const std::vector<uint16_t>& key_residual() const { return key_residual_; }
  const std::vector<uint16_t>& value_residual() const { return value_residual_; }

  // The cache as a decoder reads it: every token's key and value, oldest first, dequantized
  // (fma(code, scale, zero)) or taken from the window. [tokens()][head_dim] floats each.
  void Dequantize(std::vector<float>* keys, std::vector<float>* values) const;

  // Bytes of everything above: codes, fp16 scales and zeros, the fp16 window.
  int64_t PayloadBytes() const;

 private:
  void FlushOldestGroup();
  // Quantizes `rows` rows of `src` (fp16, [rows][head_dim]) one token at a time, groups of G
  // channels, appending codes and parameters.
  void QuantizePerToken(const uint16_t* src, int rows, std::vector<uint32_t>* codes,
                        std::vector<uint16_t>* params) const;

  KiviConfig config_;
  int64_t quantized_ = 0;
  std::vector<uint32_t> key_codes_;
  std::vector<uint16_t> key_params_;
  std::vector<uint32_t> value_codes_;
  std::vector<uint16_t> value_params_;
  std::vector<uint16_t> key_residual_;
  std::vector<uint16_t> value_residual_;
};

// A cache holding every token of `kv`, appended in order.
KiviCache BuildKiviCache(const HeadKv& kv, const KiviConfig& config);

// Bytes per token per head of the quantized part (K + V codes, scales and zeros), the figure a
// long context approaches: head_dim / 2 for the codes + 8 x head_dim / G for the parameters.
double KiviBytesPerToken(int head_dim, int group_size);
// The fp16 cache's bytes per token per head: K and V, head_dim fp16 values each.
inline double Fp16BytesPerToken(int head_dim) { return 4.0 * head_dim; }

// Tokens the quantized prefix holds after `tokens` appends (invariant 1).
int64_t QuantizedTokensAfter(int64_t tokens, const KiviConfig& config);

}  // namespace attn::kvquant
