// Metrics: counters, gauges and histograms with labels, rendered in the Prometheus text
// exposition format 0.0.4 for GET /metrics.
//
// A family (one metric name, its help text and its label names) is registered once, usually at
// start-up, and the reference kept; each distinct list of label values is one series:
//
//   MetricRegistry metrics;
//   Counter& requests = metrics.AddCounter("ahub_http_requests_total", "HTTP requests served.",
//                                          {"method", "status"});
//   Histogram& latency = metrics.AddHistogram("ahub_http_request_seconds", "Request latency.",
//                                             {"method"});
//   requests.Inc({"GET", "200"});
//   latency.Observe({"GET"}, 0.0042);
//   std::string body = metrics.Render();
//
// Thread-safety: everything may be called concurrently. An update locks only its own family, for
// a map lookup (and, for a new series, an insertion); the value itself is an atomic. Render()
// copies pointers to the series under those locks and formats with no lock held, so a scrape
// never stalls request threads behind string formatting.
//
// Invariants:
//   1. Families and series are never removed, so references and series pointers stay valid for
//      the registry's lifetime.
//   2. A series' label values always match its family's label names in number.
//   3. A histogram's rendered _count equals its +Inf bucket, even while observations race a
//      scrape (both are computed from the same bucket counts).
//
// Programming errors (an invalid metric or label name, a name registered twice with another type
// or labels, the wrong number of label values, a negative counter increment) throw
// std::invalid_argument: they are bugs in the caller, not conditions to handle.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ahub::hub {

using LabelValues = std::vector<std::string>;

// Upper bounds, in seconds, of the default latency buckets: 0.5 ms to 10 s.
const std::vector<double>& DefaultLatencyBuckets();

class MetricFamily {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  MetricFamily(std::string name, std::string help, Type type, std::vector<std::string> labels,
               std::vector<double> bounds);
  virtual ~MetricFamily() = default;
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;

  const std::string& name() const { return name_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return labels_; }

  // Appends this family's # HELP, # TYPE and sample lines to `out`.
  void RenderTo(std::string& out) const;

 protected:
  // One series: a value (counters, gauges) or per-bucket counts and a sum (histograms).
  struct Series {
    explicit Series(size_t buckets) : counts(buckets) {}
    std::atomic<double> value{0};
    std::vector<std::atomic<uint64_t>> counts;  // not cumulative; the last one is +Inf
    std::atomic<double> sum{0};
  };

  // The series for `values`, created on first use.
  Series& At(const LabelValues& values);

  const std::vector<double> bounds_;  // histogram upper bounds, ascending; empty otherwise

 private:
  const std::string name_;
  const std::string help_;
  const Type type_;
  const std::vector<std::string> labels_;

  mutable std::mutex mu_;
  // Keyed by the rendered label pairs, e.g. method="GET",status="200", so the map's order is the
  // rendering order and Render() needs no formatting for labels. Guarded by mu_.
  std::map<std::string, std::unique_ptr<Series>> series_;
};

class Counter : public MetricFamily {
 public:
  using MetricFamily::MetricFamily;
  // `by` >= 0: a counter only goes up (Prometheus detects restarts by a decrease).
  void Inc(const LabelValues& values = {}, double by = 1);
};

class Gauge : public MetricFamily {
 public:
  using MetricFamily::MetricFamily;
  void Set(const LabelValues& values, double v);
  void Add(const LabelValues& values, double by);
};

class Histogram : public MetricFamily {
 public:
  using MetricFamily::MetricFamily;
  void Observe(const LabelValues& values, double v);
};

class MetricRegistry {
 public:
  // Registers a family, or returns the existing one when `name` is already registered with the
  // same type and label names (so two modules may both declare a metric they share).
  Counter& AddCounter(const std::string& name, const std::string& help,
                      std::vector<std::string> labels = {});
  Gauge& AddGauge(const std::string& name, const std::string& help,
                  std::vector<std::string> labels = {});
  // `bounds`: strictly ascending finite upper bounds; the +Inf bucket is implicit.
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<std::string> labels = {},
                          std::vector<double> bounds = DefaultLatencyBuckets());

  // Every family, in name order, in the text exposition format (Content-Type
  // "text/plain; version=0.0.4").
  std::string Render() const;

 private:
  MetricFamily& Add(std::unique_ptr<MetricFamily> family);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<MetricFamily>> families_;  // guarded by mu_
};

}  // namespace ahub::hub
