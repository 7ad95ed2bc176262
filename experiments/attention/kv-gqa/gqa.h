// The kv-gqa experiment's CUDA-free logic: which attention variants a run compares (MHA, GQA,
// MQA: Shazeer 2019, Ainslie et al. 2023), what one decode step must read for each, and the
// speed-ups of the summary. Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attn::kvgqa {

struct Variant {
  std::string
      name;  // "mha" (kv == q heads), "mqa" (1 KV head), "gqa" ("gqa<kv>" when a run has several)
  int32_t n_kv_heads = 0;
  int32_t group = 0;  // query heads per KV head
};

// The variants for `n_q_heads` query heads and each entry of `kv_heads`, in the given order.
// "" on success, else why not (a KV head count that does not divide the query heads, a group
// over `max_group`, a repeated entry).
std::string MakeVariants(int32_t n_q_heads, const std::vector<int64_t>& kv_heads, int32_t max_group,
                         std::vector<Variant>* out);

// Bytes a decode step reads at least: K and V (fp16) of `context` tokens per KV head per
// sequence, q (fp16) and the output (fp32).
struct StepBytes {
  int64_t kv = 0;
  int64_t q = 0;
  int64_t out = 0;
  int64_t total() const { return kv + q + out; }
};
StepBytes DecodeStepBytes(int32_t batch, int32_t n_q_heads, int32_t n_kv_heads, int32_t head_dim,
                          int64_t context);

// Summary figures from per-variant step times in ms: time_ms_<name> for every variant and,
// when "mha" is among them, speedup_mha_over_<name> = time(mha) / time(name) for the others.
nlohmann::json SpeedupSummary(const std::map<std::string, double>& time_ms);

}  // namespace attn::kvgqa
