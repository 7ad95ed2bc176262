#include "experiments/attention/kv-quant/kivi_cache.h"

#include <algorithm>
#include <stdexcept>

#include "experiments/attention/common/half.h"

namespace attn::kvquant {

std::string ValidateConfig(const KiviConfig& c) {
  if (c.head_dim <= 0 || c.head_dim % kCodesPerWord != 0) {
    return "head_dim " + std::to_string(c.head_dim) +
           " is not accepted; accepted: a positive multiple of 16";
  }
  if (c.group_size <= 0 || c.head_dim % c.group_size != 0) {
    return "group size " + std::to_string(c.group_size) +
           " is not accepted; accepted: a divisor of head_dim " + std::to_string(c.head_dim) +
           " (value groups lie within a token)";
  }
  if (c.residual < 0)
    return "residual " + std::to_string(c.residual) + " is not accepted; accepted: >= 0";
  return "";
}

KiviCache::KiviCache(const KiviConfig& config) : config_(config) {
  if (const std::string e = ValidateConfig(config); !e.empty())
    throw std::invalid_argument("KiviCache: " + e);
}

void KiviCache::Append(std::span<const uint16_t> key, std::span<const uint16_t> value) {
  const size_t d = static_cast<size_t>(config_.head_dim);
  if (key.size() != d || value.size() != d) {
    throw std::invalid_argument("KiviCache::Append: rows must have head_dim values");
  }
  key_residual_.insert(key_residual_.end(), key.begin(), key.end());
  value_residual_.insert(value_residual_.end(), value.begin(), value.end());
  if (residual_tokens() == static_cast<int64_t>(config_.residual) + config_.group_size)
    FlushOldestGroup();
}

void KiviCache::QuantizePerToken(const uint16_t* src, int rows, std::vector<uint32_t>* codes,
                                 std::vector<uint16_t>* params) const {
  const int d = config_.head_dim;
  const int g = config_.group_size;
  std::vector<uint8_t> row_codes(d);
  std::vector<uint32_t> row_words(d / kCodesPerWord);
  for (int t = 0; t < rows; ++t) {
    const uint16_t* row = src + static_cast<size_t>(t) * d;
    for (int c0 = 0; c0 < d; c0 += g) {
      const QuantParams p = ChooseGroupParams(std::span<const uint16_t>(row + c0, g));
      params->push_back(p.scale);
      params->push_back(p.zero);
      for (int c = c0; c < c0 + g; ++c)
        row_codes[c] = static_cast<uint8_t>(QuantizeValue(HalfBitsToFloat(row[c]), p));
    }
    PackCodes(row_codes, row_words);
    codes->insert(codes->end(), row_words.begin(), row_words.end());
  }
}

void KiviCache::FlushOldestGroup() {
  const int d = config_.head_dim;
  const int g = config_.group_size;
  const size_t group_values = static_cast<size_t>(g) * d;

  if (config_.key_axis == KeyAxis::kPerChannel) {
    // Parameters per channel over the G tokens; the codes are still written token by token.
    std::vector<QuantParams> params(d);
    std::vector<uint16_t> column(g);
    for (int c = 0; c < d; ++c) {
      for (int t = 0; t < g; ++t) column[t] = key_residual_[static_cast<size_t>(t) * d + c];
      params[c] = ChooseGroupParams(column);
      key_params_.push_back(params[c].scale);
      key_params_.push_back(params[c].zero);
    }
    std::vector<uint8_t> row_codes(d);
    std::vector<uint32_t> row_words(d / kCodesPerWord);
    for (int t = 0; t < g; ++t) {
      for (int c = 0; c < d; ++c) {
        row_codes[c] = static_cast<uint8_t>(QuantizeValue(
            HalfBitsToFloat(key_residual_[static_cast<size_t>(t) * d + c]), params[c]));
      }
      PackCodes(row_codes, row_words);
      key_codes_.insert(key_codes_.end(), row_words.begin(), row_words.end());
    }
  } else {
    QuantizePerToken(key_residual_.data(), g, &key_codes_, &key_params_);
  }
  QuantizePerToken(value_residual_.data(), g, &value_codes_, &value_params_);

  key_residual_.erase(key_residual_.begin(),
                      key_residual_.begin() + static_cast<std::ptrdiff_t>(group_values));
  value_residual_.erase(value_residual_.begin(),
                        value_residual_.begin() + static_cast<std::ptrdiff_t>(group_values));
  quantized_ += g;
}

void KiviCache::Dequantize(std::vector<float>* keys, std::vector<float>* values) const {
  const int d = config_.head_dim;
  const int g = config_.group_size;
  const int groups_per_row = d / g;
  const size_t total = static_cast<size_t>(tokens()) * d;
  keys->assign(total, 0.0f);
  values->assign(total, 0.0f);
  const size_t words_per_row = static_cast<size_t>(d / kCodesPerWord);
  auto param = [](const std::vector<uint16_t>& p, size_t i) {
    return QuantParams{p[2 * i], p[2 * i + 1]};
  };
  for (int64_t t = 0; t < quantized_; ++t) {
    const std::span<const uint32_t> krow(key_codes_.data() + t * words_per_row, words_per_row);
    const std::span<const uint32_t> vrow(value_codes_.data() + t * words_per_row, words_per_row);
    for (int c = 0; c < d; ++c) {
      const size_t key_param = config_.key_axis == KeyAxis::kPerChannel
                                   ? static_cast<size_t>(t / g) * d + c
                                   : static_cast<size_t>(t) * groups_per_row + c / g;
      const size_t value_param = static_cast<size_t>(t) * groups_per_row + c / g;
      (*keys)[t * d + c] = DequantizeValue(CodeAt(krow, c), param(key_params_, key_param));
      (*values)[t * d + c] = DequantizeValue(CodeAt(vrow, c), param(value_params_, value_param));
    }
  }
  const size_t offset = static_cast<size_t>(quantized_) * d;
  for (size_t i = 0; i < key_residual_.size(); ++i) {
    (*keys)[offset + i] = HalfBitsToFloat(key_residual_[i]);
    (*values)[offset + i] = HalfBitsToFloat(value_residual_[i]);
  }
}

int64_t KiviCache::PayloadBytes() const {
  return static_cast<int64_t>(sizeof(uint32_t) * (key_codes_.size() + value_codes_.size()) +
                              sizeof(uint16_t) * (key_params_.size() + value_params_.size() +
                                                  key_residual_.size() + value_residual_.size()));
}

KiviCache BuildKiviCache(const HeadKv& kv, const KiviConfig& config) {
  if (kv.head_dim != config.head_dim)
    throw std::invalid_argument("BuildKiviCache: head_dim mismatch");
  KiviCache cache(config);
  const size_t d = static_cast<size_t>(kv.head_dim);
  for (int64_t t = 0; t < kv.tokens; ++t) {
    cache.Append(std::span<const uint16_t>(kv.k.data() + t * d, d),
                 std::span<const uint16_t>(kv.v.data() + t * d, d));
  }
  return cache;
}

double KiviBytesPerToken(int head_dim, int group_size) {
  const double codes = 2.0 * head_dim * kBits / 8.0;  // K and V
  const double params =
      2.0 * 2.0 * sizeof(uint16_t) * head_dim / group_size;  // K and V, scale + zero
  return codes + params;
}

int64_t QuantizedTokensAfter(int64_t tokens, const KiviConfig& config) {
  const int64_t waiting = std::max<int64_t>(0, tokens - config.residual);
  return waiting / config.group_size * config.group_size;
}

}  // namespace attn::kvquant
