// Options, the summary's headline figures and the CPU runs of stream-decode.
#include "experiments/attention/stream-decode/runs.h"

#include <gtest/gtest.h>

namespace attn::stream {
namespace {

nlohmann::json Result(int window, double sink_ms, double recompute_ms) {
  return {{"window", window},
          {"sink_window", {{"ms_per_token", sink_ms}}},
          {"recompute", {{"ms_per_token", recompute_ms}}}};
}

TEST(StreamRunsTest, SummaryHasSpeedupsAndTheWindow2048Figure) {
  const nlohmann::json s = Summarise(nlohmann::json::array(
      {Result(1024, 0.1, 0.8), Result(2048, 0.1, 2.0), Result(4096, 0.2, 5.0)}));
  EXPECT_DOUBLE_EQ(s["speedup"]["1024"].get<double>(), 8.0);
  EXPECT_DOUBLE_EQ(s["speedup_w2048"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(s["speedup_max"].get<double>(), 25.0);
  EXPECT_EQ(s["speedup_max_window"].get<int>(), 4096);
  EXPECT_DOUBLE_EQ(s["speedup_min"].get<double>(), 8.0);
  EXPECT_DOUBLE_EQ(s["recompute_ms_per_token"]["2048"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(s["sink_window_ms_per_token"]["4096"].get<double>(), 0.2);
}

TEST(StreamRunsTest, SummaryWithoutWindow2048SaysNull) {
  const nlohmann::json s = Summarise(nlohmann::json::array({Result(256, 0.1, 0.3)}));
  EXPECT_TRUE(s["speedup_w2048"].is_null());
  EXPECT_DOUBLE_EQ(s["speedup_max"].get<double>(), 3.0);
}

TEST(StreamRunsTest, AutoPresetIsSmallOnTheGpuAndTinyElsewhere) {
  RunOptions gpu;
  ASSERT_EQ(ResolveOptions({}, &gpu), "");
  EXPECT_EQ(gpu.preset, "small");
  EXPECT_EQ(gpu.model.d_model, 1024);
  EXPECT_EQ(gpu.windows, (std::vector<int>{256, 512, 1024, 2048, 4096}));
  RunOptions cpu;
  cpu.on_gpu = false;
  ASSERT_EQ(ResolveOptions({}, &cpu), "");
  EXPECT_EQ(cpu.preset, "tiny");
  EXPECT_EQ(cpu.windows, (std::vector<int>{8, 16, 32, 64}));
  RunOptions check;
  check.check = true;
  ASSERT_EQ(ResolveOptions({}, &check), "");
  EXPECT_EQ(check.preset, "tiny");
}

TEST(StreamRunsTest, OverridesAreValidatedForTheGpu) {
  RunOptions o;
  ModelOverrides ov;
  ov.heads = 32;  // head_dim 32 with d_model 1024
  const std::string e = ResolveOptions(ov, &o);
  EXPECT_NE(e.find("head_dim"), std::string::npos) << e;
  RunOptions cpu;
  cpu.on_gpu = false;
  EXPECT_EQ(ResolveOptions(ov, &cpu), "");  // the CPU reference takes any even head_dim
  EXPECT_EQ(cpu.model.heads, 32);
}

TEST(StreamRunsTest, CpuCheckPasses) {
  RunOptions o;
  o.on_gpu = false;
  o.check = true;
  ASSERT_EQ(ResolveOptions({}, &o), "");
  const nlohmann::json doc = RunCpuCheck(o);
  EXPECT_TRUE(doc["summary"]["passed"].get<bool>());
  ASSERT_EQ(doc["results"].size(), 3u);
  EXPECT_EQ(doc["results"][0]["rel_l2"].get<double>(),
            0.0);  // no eviction: identical to full attention
}

TEST(StreamRunsTest, CpuBenchmarkReportsBothMethodsPerWindow) {
  RunOptions o;
  o.on_gpu = false;
  o.windows = {4, 8};
  o.reps = 3;
  o.warmup = 0;
  ASSERT_EQ(ResolveOptions({}, &o), "");
  const nlohmann::json doc = RunCpuBenchmark(o);
  EXPECT_EQ(doc["experiment"], "stream-decode");
  EXPECT_EQ(doc["device"]["kind"], "cpu");
  ASSERT_EQ(doc["results"].size(), 2u);
  for (const nlohmann::json& r : doc["results"]) {
    EXPECT_GT(r["sink_window"]["ms_per_token"].get<double>(), 0);
    EXPECT_GT(r["recompute"]["ms_per_token"].get<double>(), 0);
    EXPECT_TRUE(r["cross_check"]["passed"].get<bool>());
    EXPECT_EQ(r["sink_window"]["reps"].get<int>(), 3);
  }
  EXPECT_TRUE(doc["summary"]["speedup"].contains("8"));
  EXPECT_TRUE(doc["summary"]["speedup_w2048"].is_null());
}

}  // namespace
}  // namespace attn::stream
