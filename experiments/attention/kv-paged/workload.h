// Serving workloads for the KV-cache memory experiment: requests with prompt and output
// lengths drawn from log-normal distributions whose means match published chat-trace
// statistics, some of them starting with one of a few shared system prompts. Deterministic for
// a seed on every platform (common/rng.h). Pure functions; safe from any thread.
//
// Presets (means in tokens; README.md cites the sources):
//   sharegpt  prompt 161.31, output 337.99  (ShareGPT as used in the vLLM paper, Fig. 11)
//   lmsys     prompt  69.5,  output 214.5   (LMSYS-Chat-1M, Zheng et al. 2023, Table 1)
// The papers publish means and histograms, not a spread; the log-normal sigma is a stated
// assumption (default 1.0: a median about 60 % of the mean and a long right tail).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attn::kvpaged {

struct LengthDistribution {
  double mean = 1;   // of the log-normal before clamping, tokens
  double sigma = 1;  // of the underlying normal
};

struct WorkloadSpec {
  std::string preset = "sharegpt";
  LengthDistribution prompt{161.31, 1.0};
  LengthDistribution output{337.99, 1.0};
  int64_t requests = 2000;
  int32_t max_len = 4096;        // prefix + prompt + output never exceed it
  int32_t prefix_groups = 4;     // distinct shared system prompts
  int32_t prefix_len = 600;      // tokens of each system prompt
  double prefix_fraction = 0.5;  // share of requests that start with one of them
  uint64_t seed = 1;
};

struct Request {
  int32_t prompt_len = 0;     // the request's own prompt, after its system prompt if any
  int32_t output_len = 0;     // tokens generated, >= 1
  int32_t prefix_group = -1;  // which system prompt, -1: none
};

struct Workload {
  WorkloadSpec spec;
  std::vector<Request> requests;

  int32_t PrefixLen(const Request& r) const { return r.prefix_group >= 0 ? spec.prefix_len : 0; }
  int32_t FinalLen(const Request& r) const { return PrefixLen(r) + r.prompt_len + r.output_len; }
};

// The preset's means (sigmas are left as given). "" on success, else the accepted names.
std::string ApplyPreset(const std::string& name, WorkloadSpec* spec);

// "" when the spec can produce requests (max_len leaves room for the prefix, a prompt token and
// an output token; positive means and sigmas; 0 <= prefix_fraction <= 1).
std::string ValidateWorkloadSpec(const WorkloadSpec& spec);

// Per request, in this order from one Rng(seed): prompt = round(LogNormal(prompt)),
// output = round(LogNormal(output)), a uniform for the prefix decision, a group index; every
// draw is made whether used or not, so changing prefix_fraction does not change the lengths.
// Lengths are at least 1; the prompt is cut to leave room for the prefix and one output token,
// then the output to fit max_len.
Workload GenerateWorkload(const WorkloadSpec& spec);

// mu of a log-normal with this mean and sigma: mean = exp(mu + sigma^2 / 2).
double LogNormalMu(const LengthDistribution& d);

}  // namespace attn::kvpaged
