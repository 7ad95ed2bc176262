#include "runner/expectation.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

namespace ahub {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The shortest form that reads back as the same double ("11.81", "333833500", "1e-09"): an
// author must recognise the number they wrote.
std::string Num(double v) {
  std::ostringstream os;
  os.precision(15);
  os << v;
  if (std::stod(os.str()) != v) {
    os.str("");
    os.precision(17);
    os << v;
  }
  return os.str();
}

}  // namespace

Interval Expectation::Accepted() const { return AcceptedAround(a_); }

Interval Expectation::AcceptedAround(double center) const {
  switch (kind_) {
    case Kind::kApproxAbs:
      return {center - b_, center + b_};
    case Kind::kApproxRel: {
      // The tolerance is relative to the stated target, not to the centre, so that a measured
      // value and the stated one carry the same absolute width.
      const double w = b_ * std::fabs(a_);
      return {center - w, center + w};
    }
    case Kind::kAtLeast:
      return {a_, kInf};
    case Kind::kAtMost:
      return {-kInf, a_};
    case Kind::kBetween:
      return {a_, b_};
  }
  return {-kInf, kInf};
}

bool Expectation::Accepts(double measured) const {
  if (!std::isfinite(measured)) return false;
  const Interval i = Accepted();
  return measured >= i.lo && measured <= i.hi;
}

std::optional<Expectation> Expectation::FromJson(const nlohmann::json& e) {
  if (!e.is_object()) return std::nullopt;
  auto num = [&](const char* key) { return e.contains(key) && e[key].is_number(); };
  if (num("approx") && num("abs")) return ApproxAbs(e["approx"], e["abs"]);
  if (num("approx") && num("rel")) return ApproxRel(e["approx"], e["rel"]);
  if (num("at_least")) return AtLeast(e["at_least"]);
  if (num("at_most")) return AtMost(e["at_most"]);
  if (e.contains("between") && e["between"].is_array() && e["between"].size() == 2 && e["between"][0].is_number() &&
      e["between"][1].is_number()) {
    return Between(e["between"][0], e["between"][1]);
  }
  return std::nullopt;
}

nlohmann::json Expectation::ToJson() const {
  switch (kind_) {
    case Kind::kApproxAbs:
      return {{"approx", a_}, {"abs", b_}};
    case Kind::kApproxRel:
      return {{"approx", a_}, {"rel", b_}};
    case Kind::kAtLeast:
      return {{"at_least", a_}};
    case Kind::kAtMost:
      return {{"at_most", a_}};
    case Kind::kBetween:
      return {{"between", {a_, b_}}};
  }
  return nullptr;
}

std::string Expectation::ToString() const {
  switch (kind_) {
    case Kind::kApproxAbs:
      return Num(a_) + " ± " + Num(b_);
    case Kind::kApproxRel:
      return Num(a_) + " ± " + Num(b_ * 100) + "%";
    case Kind::kAtLeast:
      return ">= " + Num(a_);
    case Kind::kAtMost:
      return "<= " + Num(a_);
    case Kind::kBetween:
      return "[" + Num(a_) + ", " + Num(b_) + "]";
  }
  return "?";
}

}  // namespace ahub
