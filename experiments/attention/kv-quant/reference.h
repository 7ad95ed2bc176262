// CPU decode attention for one head and one query token: the reference the kernels are checked
// against, and a model of the kernels' own arithmetic.
//
// ReferenceDecode is the plain math in double, out = softmax(q . K^T / sqrt(d)) V, on keys and
// values given as floats; for the fp16 cache they are the fp16 inputs, for the KIVI cache the
// dequantized ones (KiviCache::Dequantize), so the kernels' inputs are exactly the reference's.
//
// The Model* functions compute what the kernels compute, the way they compute it: fp32, splits
// of layout.h, scores in the exp2 domain, each split's softmax partial merged at the end, and for
// the KIVI cache the dequantization folded into the dot products (q . (code x s + z) summed as
// sum(q x s x code) + sum(q x z) per key group; sum(p x s x code) + sum(p x z) per value group).
// Their distance from ReferenceDecode is the rounding a correct kernel shows; the --check
// bound and the tests are set from it.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "experiments/attention/kv-quant/kivi_cache.h"
#include "experiments/attention/kv-quant/workload.h"

namespace attn::kvquant {

// q: head_dim floats; keys, values: [tokens][head_dim] floats, tokens >= 1. Returns head_dim
// floats.
std::vector<float> ReferenceDecode(std::span<const float> q, std::span<const float> keys,
                                   std::span<const float> values, int head_dim);

// q: head_dim fp16 bits (the query as the kernels read it).
std::vector<float> ModelDecodeFp16(std::span<const uint16_t> q, const HeadKv& kv);
// The cache's keys must be per channel (the layout the kernel reads).
std::vector<float> ModelDecodeKivi(std::span<const uint16_t> q, const KiviCache& cache);

// log2(e) / sqrt(head_dim): the kernels fold the softmax scale and the change to base 2 into q.
float QueryScale(int head_dim);

}  // namespace attn::kvquant
