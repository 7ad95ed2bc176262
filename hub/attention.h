// Earned attention: the score that ranks packages. A package earns points by being published,
// by claims the hub has reproduced, by independent hosts replicating them and by the open
// tensions it raises against other packages; it loses points for refuted claims.
//
//   score = published + per_reproduced × reproduced
//         + per_replication × min(max(hosts - 1, 0), max_replications)
//         + per_open_tension × open tensions raised + per_refuted × refuted
//
// The first reproducing host is the reproduction itself; only further hosts are replications.
// With the default weights every score is a multiple of 0.5, so no rounding is applied.
//
// Thread-safety: pure functions over values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "runner/status.h"

namespace ahub::hub {

struct AttentionWeights {  // defaults from the product spec
  double published = 4.0;
  double per_reproduced = 2.0;
  double per_replication = 1.0;
  int max_replications = 3;
  double per_open_tension = 5.0;
  double per_refuted = -3.0;

  // The weights in `json` (an object) over the defaults: a partial object overrides only the keys
  // it names. An unknown key, a non-number, or a max_replications that is not a non-negative
  // integer is an InvalidArgument naming the key.
  static Result<AttentionWeights> FromJson(const nlohmann::json& json);
  // Every key, so the result read back by FromJson gives the same weights.
  nlohmann::json ToJson() const;
};

// Counts for one package, each >= 0, taken from its latest version's verification.
struct AttentionInput {
  int reproduced_claims = 0;
  int refuted_claims = 0;
  int reproducing_hosts = 0;  // distinct host fingerprints that reproduced claims
  int open_tensions_raised = 0;
};

struct Attention {
  double score = 0;
  // One object per term, always all five in this order: "published", "reproduced claims",
  // "independent replications", "open tensions raised", "refuted claims"; each
  // {"term", "count", "weight", "points"} with points = count × weight.
  nlohmann::json breakdown = nlohmann::json::array();
  // A one-line account for people, naming only the terms that contribute, e.g.
  // "4.0 published + 2.0×2 reproduced + 5.0×1 open tensions = 13.0".
  std::string formula;
};

Attention ComputeAttention(const AttentionInput& input, const AttentionWeights& weights);

}  // namespace ahub::hub
