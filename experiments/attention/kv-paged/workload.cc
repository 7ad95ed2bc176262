#include "experiments/attention/kv-paged/workload.h"

#include <algorithm>
#include <cmath>

#include "experiments/attention/common/rng.h"

namespace attn::kvpaged {

double LogNormalMu(const LengthDistribution& d) { return std::log(d.mean) - d.sigma * d.sigma / 2; }

std::string ApplyPreset(const std::string& name, WorkloadSpec* spec) {
  if (name == "sharegpt") {
    spec->prompt.mean = 161.31;
    spec->output.mean = 337.99;
  } else if (name == "lmsys") {
    spec->prompt.mean = 69.5;
    spec->output.mean = 214.5;
  } else {
    return "workload preset '" + name + "'; accepted: sharegpt, lmsys";
  }
  spec->preset = name;
  return "";
}

std::string ValidateWorkloadSpec(const WorkloadSpec& spec) {
  if (!(spec.prompt.mean > 0 && spec.output.mean > 0 && spec.prompt.sigma > 0 &&
        spec.output.sigma > 0)) {
    return "workload: length means and sigmas must be > 0";
  }
  if (spec.requests < 0) return "workload: requests must be >= 0";
  if (spec.prefix_groups < 1 || spec.prefix_len < 0)
    return "workload: prefix_groups >= 1, prefix_len >= 0";
  if (!(spec.prefix_fraction >= 0 && spec.prefix_fraction <= 1))
    return "workload: prefix_fraction in [0, 1]";
  if (static_cast<int64_t>(spec.prefix_len) + 2 > spec.max_len) {
    return "workload: max_len " + std::to_string(spec.max_len) +
           " leaves no room after a prefix of " + std::to_string(spec.prefix_len) +
           "; accepted: max_len >= prefix_len + 2";
  }
  return "";
}

Workload GenerateWorkload(const WorkloadSpec& spec) {
  Workload w;
  w.spec = spec;
  w.requests.reserve(static_cast<size_t>(spec.requests));
  Rng rng(spec.seed);
  const double prompt_mu = LogNormalMu(spec.prompt);
  const double output_mu = LogNormalMu(spec.output);
  auto draw = [&rng](double mu, double sigma) {
    const double x = std::exp(mu + sigma * rng.Normal());
    // Clamped before the conversion: a far tail draw must not overflow int.
    return static_cast<int64_t>(std::llround(std::min(x, 1e9)));
  };
  for (int64_t i = 0; i < spec.requests; ++i) {
    const int64_t prompt = draw(prompt_mu, spec.prompt.sigma);
    const int64_t output = draw(output_mu, spec.output.sigma);
    const bool shared = rng.Uniform() < spec.prefix_fraction;
    const int64_t group = rng.Between(0, spec.prefix_groups - 1);
    Request r;
    r.prefix_group = shared ? static_cast<int32_t>(group) : -1;
    const int64_t prefix = shared ? spec.prefix_len : 0;
    r.prompt_len = static_cast<int32_t>(std::clamp<int64_t>(prompt, 1, spec.max_len - prefix - 1));
    r.output_len =
        static_cast<int32_t>(std::clamp<int64_t>(output, 1, spec.max_len - prefix - r.prompt_len));
    w.requests.push_back(r);
  }
  return w;
}

}  // namespace attn::kvpaged
