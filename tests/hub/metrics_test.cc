#include "hub/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ahub::hub {
namespace {

TEST(MetricsTest, RendersASmallRegistryExactly) {
  MetricRegistry m;
  Counter& requests =
      m.AddCounter("ahub_http_requests_total", "HTTP requests served.", {"method", "status"});
  Gauge& queue = m.AddGauge("ahub_queue_depth", "Jobs waiting.\nPer state.", {"state"});
  Histogram& latency =
      m.AddHistogram("ahub_http_request_seconds", "Latency.", {"route"}, {0.005, 0.1, 1});
  Counter& plain = m.AddCounter("ahub_restarts_total", "");

  requests.Inc({"GET", "200"});
  requests.Inc({"GET", "200"}, 2);
  requests.Inc({"POST", "401"});
  queue.Set({"queued"}, 7);
  queue.Set({"running"}, 2);
  queue.Add({"running"}, -1.5);
  latency.Observe({"/api/packages"}, 0.005);  // bounds are inclusive
  latency.Observe({"/api/packages"}, 0.02);
  latency.Observe({"/api/packages"}, 3);
  plain.Inc();

  EXPECT_EQ(m.Render(),
            "# HELP ahub_http_request_seconds Latency.\n"
            "# TYPE ahub_http_request_seconds histogram\n"
            "ahub_http_request_seconds_bucket{route=\"/api/packages\",le=\"0.005\"} 1\n"
            "ahub_http_request_seconds_bucket{route=\"/api/packages\",le=\"0.1\"} 2\n"
            "ahub_http_request_seconds_bucket{route=\"/api/packages\",le=\"1\"} 2\n"
            "ahub_http_request_seconds_bucket{route=\"/api/packages\",le=\"+Inf\"} 3\n"
            "ahub_http_request_seconds_sum{route=\"/api/packages\"} 3.025\n"
            "ahub_http_request_seconds_count{route=\"/api/packages\"} 3\n"
            "# HELP ahub_http_requests_total HTTP requests served.\n"
            "# TYPE ahub_http_requests_total counter\n"
            "ahub_http_requests_total{method=\"GET\",status=\"200\"} 3\n"
            "ahub_http_requests_total{method=\"POST\",status=\"401\"} 1\n"
            "# HELP ahub_queue_depth Jobs waiting.\\nPer state.\n"
            "# TYPE ahub_queue_depth gauge\n"
            "ahub_queue_depth{state=\"queued\"} 7\n"
            "ahub_queue_depth{state=\"running\"} 0.5\n"
            "# TYPE ahub_restarts_total counter\n"
            "ahub_restarts_total 1\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricRegistry m;
  m.AddCounter("c", "a \\ b \"q\"", {"v"}).Inc({"back\\slash \"quoted\"\nnext"});
  EXPECT_EQ(m.Render(),
            "# HELP c a \\\\ b \"q\"\n"
            "# TYPE c counter\n"
            "c{v=\"back\\\\slash \\\"quoted\\\"\\nnext\"} 1\n");
}

TEST(MetricsTest, HistogramWithoutLabelsAndDefaultBuckets) {
  MetricRegistry m;
  Histogram& h = m.AddHistogram("h_seconds", "H.");
  h.Observe({}, 0.0004);
  h.Observe({}, 20);
  h.Observe({}, NAN);  // counted, in +Inf only
  const std::string text = m.Render();
  EXPECT_NE(text.find("h_seconds_bucket{le=\"0.0005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"2.5\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"10\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_sum NaN\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_count 3\n"), std::string::npos) << text;
  EXPECT_EQ(DefaultLatencyBuckets().size(), 14u);
  EXPECT_EQ(DefaultLatencyBuckets().front(), 0.0005);
  EXPECT_EQ(DefaultLatencyBuckets().back(), 10);
}

TEST(MetricsTest, ValuesUseThePrometheusNumberForms) {
  MetricRegistry m;
  Gauge& g = m.AddGauge("g", "", {"k"});
  g.Set({"big"}, 1234567);
  g.Set({"inf"}, INFINITY);
  g.Set({"neg"}, -INFINITY);
  g.Set({"small"}, 1e-7);
  g.Set({"third"}, 0.1 + 0.2);
  EXPECT_EQ(m.Render(),
            "# TYPE g gauge\n"
            "g{k=\"big\"} 1234567\n"
            "g{k=\"inf\"} +Inf\n"
            "g{k=\"neg\"} -Inf\n"
            "g{k=\"small\"} 1e-07\n"
            "g{k=\"third\"} 0.30000000000000004\n");
}

TEST(MetricsTest, RegisteringTwiceReturnsTheSameFamily) {
  MetricRegistry m;
  Counter& a = m.AddCounter("shared_total", "Shared.", {"x"});
  Counter& b = m.AddCounter("shared_total", "Shared.", {"x"});
  EXPECT_EQ(&a, &b);
  EXPECT_THROW(m.AddGauge("shared_total", "Shared.", {"x"}), std::invalid_argument);
  EXPECT_THROW(m.AddCounter("shared_total", "Shared.", {"y"}), std::invalid_argument);
}

TEST(MetricsTest, ProgrammingErrorsThrow) {
  MetricRegistry m;
  EXPECT_THROW(m.AddCounter("bad-name", ""), std::invalid_argument);
  EXPECT_THROW(m.AddCounter("9lives", ""), std::invalid_argument);
  EXPECT_THROW(m.AddCounter("ok", "", {"bad label"}), std::invalid_argument);
  EXPECT_THROW(m.AddCounter("ok2", "", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(m.AddHistogram("h", "", {"le"}), std::invalid_argument);
  EXPECT_THROW(m.AddHistogram("h2", "", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(m.AddHistogram("h3", "", {}, {2, 1}), std::invalid_argument);
  Counter& c = m.AddCounter("ns:requests_total", "", {"a", "b"});
  EXPECT_THROW(c.Inc({"only one"}), std::invalid_argument);
  EXPECT_THROW(c.Inc({"x", "y"}, -1), std::invalid_argument);
  // Nothing half-registered: the failed names render nothing, and the failed increments added
  // no series.
  EXPECT_EQ(m.Render(), "# TYPE ns:requests_total counter\n");
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  MetricRegistry m;
  Counter& c = m.AddCounter("c_total", "", {"t"});
  Histogram& h = m.AddHistogram("h_seconds", "", {}, {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        c.Inc({t % 2 == 0 ? "even" : "odd"});
        h.Observe({}, i % 2 == 0 ? 0.25 : 1.0);
        if (i % 500 == 0) m.Render();  // scrapes race the updates
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const std::string text = m.Render();
  EXPECT_NE(text.find("c_total{t=\"even\"} 8000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("c_total{t=\"odd\"} 8000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"0.5\"} 8000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"+Inf\"} 16000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_sum 10000\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace ahub::hub
