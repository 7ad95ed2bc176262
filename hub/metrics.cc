#include "hub/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace ahub::hub {
namespace {

bool IsNameChar(char c, bool first, bool colon_allowed) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (c == ':') return colon_allowed;
  return !first && c >= '0' && c <= '9';
}

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidName(const std::string& name, bool colon_allowed) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, colon_allowed)) return false;
  }
  return true;
}

// Sample values as Prometheus parses them. Whole numbers are written without an exponent (a
// counter reads 1234567, not 1.234567e+06); others in the shortest form that reads back exactly.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  constexpr double kLargestPlainInteger = 1e15;  // below 2^53: every whole number is exact
  char buf[64];
  std::to_chars_result r;
  if (v == std::floor(v) && std::fabs(v) < kLargestPlainInteger) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  }
  return std::string(buf, r.ptr);
}

// Label values escape backslash, double quote and line feed; HELP text escapes only backslash
// and line feed (text format 0.0.4).
std::string Escape(const std::string& s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

const char* TypeName(MetricFamily::Type type) {
  switch (type) {
    case MetricFamily::Type::kCounter:
      return "counter";
    case MetricFamily::Type::kGauge:
      return "gauge";
    case MetricFamily::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AppendSample(std::string& out, const std::string& name, const std::string& labels,
                  const std::string& value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

// `labels` with le="bound" appended, for a histogram bucket line.
std::string WithLe(const std::string& labels, const std::string& bound) {
  return labels + (labels.empty() ? "" : ",") + "le=\"" + bound + "\"";
}

}  // namespace

const std::vector<double>& DefaultLatencyBuckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

MetricFamily::MetricFamily(std::string name, std::string help, Type type,
                           std::vector<std::string> labels, std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      labels_(std::move(labels)) {
  if (!IsValidName(name_, /*colon_allowed=*/true)) {
    throw std::invalid_argument("metric name \"" + name_ + "\": expected [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  for (const std::string& label : labels_) {
    // Names beginning "__" are reserved to Prometheus; "le" is the histogram bucket label.
    if (!IsValidName(label, /*colon_allowed=*/false) || label.starts_with("__") ||
        (type_ == Type::kHistogram && label == "le")) {
      throw std::invalid_argument(name_ + ": label name \"" + label +
                                  "\": expected [a-zA-Z_][a-zA-Z0-9_]*, not reserved");
    }
  }
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument(name_ + ": histogram bounds must be finite and ascending");
    }
  }
}

MetricFamily::Series& MetricFamily::At(const LabelValues& values) {
  if (values.size() != labels_.size()) {
    throw std::invalid_argument(name_ + ": " + std::to_string(values.size()) +
                                " label values for " + std::to_string(labels_.size()) +
                                " label names");
  }
  // Formatted before taking the lock: the lock covers only the lookup.
  std::string key;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) key += ',';
    key += labels_[i];
    key += "=\"";
    key += Escape(values[i], /*quote=*/true);
    key += '"';
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(key);
  if (it == series_.end()) {
    const size_t buckets = type_ == Type::kHistogram ? bounds_.size() + 1 : 0;
    it = series_.emplace(std::move(key), std::make_unique<Series>(buckets)).first;
  }
  return *it->second;
}

void MetricFamily::RenderTo(std::string& out) const {
  std::vector<std::pair<const std::string*, const Series*>> snapshot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot.reserve(series_.size());
    for (const auto& [labels, series] : series_) snapshot.emplace_back(&labels, series.get());
  }
  if (!help_.empty()) out += "# HELP " + name_ + " " + Escape(help_, /*quote=*/false) + "\n";
  out += "# TYPE " + name_ + " " + TypeName(type_) + "\n";
  for (const auto& [labels, series] : snapshot) {
    if (type_ != Type::kHistogram) {
      AppendSample(out, name_, *labels, FormatValue(series->value.load()));
      continue;
    }
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += series->counts[i].load();
      AppendSample(out, name_ + "_bucket", WithLe(*labels, FormatValue(bounds_[i])),
                   std::to_string(cumulative));
    }
    cumulative += series->counts.back().load();
    AppendSample(out, name_ + "_bucket", WithLe(*labels, "+Inf"), std::to_string(cumulative));
    AppendSample(out, name_ + "_sum", *labels, FormatValue(series->sum.load()));
    AppendSample(out, name_ + "_count", *labels, std::to_string(cumulative));
  }
}

void Counter::Inc(const LabelValues& values, double by) {
  if (!(by >= 0)) throw std::invalid_argument(name() + ": a counter cannot decrease");
  At(values).value.fetch_add(by, std::memory_order_relaxed);
}

void Gauge::Set(const LabelValues& values, double v) {
  At(values).value.store(v, std::memory_order_relaxed);
}

void Gauge::Add(const LabelValues& values, double by) {
  At(values).value.fetch_add(by, std::memory_order_relaxed);
}

void Histogram::Observe(const LabelValues& values, double v) {
  Series& s = At(values);
  // The first bucket whose bound is >= v (bounds are inclusive); NaN and values past the last
  // bound land in +Inf, as in the Go client.
  size_t i = bounds_.size();
  if (!std::isnan(v)) {
    i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  }
  s.counts[i].fetch_add(1, std::memory_order_relaxed);
  s.sum.fetch_add(v, std::memory_order_relaxed);
}

Counter& MetricRegistry::AddCounter(const std::string& name, const std::string& help,
                                    std::vector<std::string> labels) {
  return static_cast<Counter&>(Add(std::make_unique<Counter>(
      name, help, MetricFamily::Type::kCounter, std::move(labels), std::vector<double>{})));
}

Gauge& MetricRegistry::AddGauge(const std::string& name, const std::string& help,
                                std::vector<std::string> labels) {
  return static_cast<Gauge&>(Add(std::make_unique<Gauge>(
      name, help, MetricFamily::Type::kGauge, std::move(labels), std::vector<double>{})));
}

Histogram& MetricRegistry::AddHistogram(const std::string& name, const std::string& help,
                                        std::vector<std::string> labels,
                                        std::vector<double> bounds) {
  return static_cast<Histogram&>(Add(std::make_unique<Histogram>(
      name, help, MetricFamily::Type::kHistogram, std::move(labels), std::move(bounds))));
}

// The static_casts above are safe: a family's type() always matches its class, and an existing
// family is returned only when its type matches the one asked for.
MetricFamily& MetricRegistry::Add(std::unique_ptr<MetricFamily> family) {
  const std::string name = family->name();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(name, std::move(family)).first;
  } else if (it->second->type() != family->type() ||
             it->second->label_names() != family->label_names()) {
    throw std::invalid_argument(name + ": already registered with another type or other labels");
  }
  return *it->second;
}

std::string MetricRegistry::Render() const {
  std::vector<const MetricFamily*> families;
  {
    std::lock_guard<std::mutex> lock(mu_);
    families.reserve(families_.size());
    for (const auto& [name, family] : families_) families.push_back(family.get());
  }
  std::string out;
  for (const MetricFamily* family : families) family->RenderTo(out);
  return out;
}

}  // namespace ahub::hub
