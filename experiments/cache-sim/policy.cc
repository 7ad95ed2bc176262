#include "policy.h"

#include <algorithm>
#include <array>

#include "policies/replay.h"

namespace cachesim {
namespace {

struct PolicyEntry {
  Policy policy;
  std::string_view name;
  uint64_t (*replay)(const internal::ReplayInput&);
};

constexpr std::array<PolicyEntry, 6> kPolicies = {{
    {Policy::kLfu, "lfu", &internal::ReplayLfu},
    {Policy::kLru, "lru", &internal::ReplayLru},
    {Policy::kLfuForget, "lfu-forget", &internal::ReplayLfuForget},
    {Policy::kFifo, "fifo", &internal::ReplayFifo},
    {Policy::kSieve, "sieve", &internal::ReplaySieve},
    {Policy::kOpt, "opt", &internal::ReplayOpt},
}};

constexpr std::array<Policy, kPolicies.size()> kAllPolicies = [] {
  std::array<Policy, kPolicies.size()> all{};
  for (size_t i = 0; i < kPolicies.size(); ++i) all[i] = kPolicies[i].policy;
  return all;
}();

const PolicyEntry& EntryOf(Policy policy) {
  return *std::find_if(kPolicies.begin(), kPolicies.end(),
                       [policy](const PolicyEntry& e) { return e.policy == policy; });
}

uint64_t Run(Policy policy, const RequestStream& requests, uint64_t capacity, uint64_t warmup,
             uint8_t* hit_pattern) {
  if (requests.size() == 0) return 0;
  const internal::ReplayInput input{
      requests, static_cast<uint32_t>(std::clamp<uint64_t>(capacity, 1, requests.num_objects())),
      std::min<uint64_t>(warmup, requests.size()), hit_pattern};
  return EntryOf(policy).replay(input);
}

}  // namespace

std::optional<Policy> ParsePolicy(std::string_view name) {
  for (const PolicyEntry& e : kPolicies) {
    if (e.name == name) return e.policy;
  }
  return std::nullopt;
}

std::string_view PolicyName(Policy policy) { return EntryOf(policy).name; }

std::span<const Policy> AllPolicies() { return kAllPolicies; }

uint64_t CountHits(Policy policy, const RequestStream& requests, uint64_t capacity,
                   uint64_t warmup) {
  return Run(policy, requests, capacity, warmup, nullptr);
}

std::vector<uint8_t> HitPattern(Policy policy, const RequestStream& requests, uint64_t capacity) {
  std::vector<uint8_t> pattern(requests.size(), 0);
  Run(policy, requests, capacity, 0, pattern.data());
  return pattern;
}

}  // namespace cachesim
