#include "experiments/attention/kv-gqa/gqa.h"

#include <set>

namespace attn::kvgqa {

std::string MakeVariants(int32_t n_q_heads, const std::vector<int64_t>& kv_heads, int32_t max_group,
                         std::vector<Variant>* out) {
  out->clear();
  int gqa_count = 0;
  std::set<int64_t> seen;
  for (int64_t kv : kv_heads) {
    if (kv < 1 || n_q_heads % kv != 0) {
      return "--kv-heads " + std::to_string(kv) + " does not divide --q-heads " +
             std::to_string(n_q_heads);
    }
    if (n_q_heads / kv > max_group) {
      return "--kv-heads " + std::to_string(kv) + " gives " + std::to_string(n_q_heads / kv) +
             " query heads per KV head; accepted: at most " + std::to_string(max_group);
    }
    if (!seen.insert(kv).second) return "--kv-heads lists " + std::to_string(kv) + " twice";
    gqa_count += kv != n_q_heads && kv != 1;
  }
  for (int64_t kv : kv_heads) {
    Variant v;
    v.n_kv_heads = static_cast<int32_t>(kv);
    v.group = n_q_heads / v.n_kv_heads;
    if (kv == n_q_heads) {
      v.name = "mha";
    } else if (kv == 1) {
      v.name = "mqa";
    } else {
      v.name = gqa_count > 1 ? "gqa" + std::to_string(kv) : "gqa";
    }
    out->push_back(v);
  }
  return "";
}

StepBytes DecodeStepBytes(int32_t batch, int32_t n_q_heads, int32_t n_kv_heads, int32_t head_dim,
                          int64_t context) {
  StepBytes b;
  b.kv =
      static_cast<int64_t>(batch) * n_kv_heads * context * head_dim * 2 /* K, V */ * 2 /* fp16 */;
  b.q = static_cast<int64_t>(batch) * n_q_heads * head_dim * 2;
  b.out = static_cast<int64_t>(batch) * n_q_heads * head_dim * 4;
  return b;
}

nlohmann::json SpeedupSummary(const std::map<std::string, double>& time_ms) {
  nlohmann::json s = nlohmann::json::object();
  for (const auto& [name, ms] : time_ms) s["time_ms_" + name] = ms;
  const auto mha = time_ms.find("mha");
  if (mha != time_ms.end()) {
    for (const auto& [name, ms] : time_ms) {
      if (name != "mha" && ms > 0) s["speedup_mha_over_" + name] = mha->second / ms;
    }
  }
  return s;
}

}  // namespace attn::kvgqa
