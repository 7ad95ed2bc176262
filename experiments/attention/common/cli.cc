#include "experiments/attention/common/cli.h"

#include <charconv>
#include <sstream>

namespace attn {
namespace {

std::string Quote(std::string_view v) { return "'" + std::string(v) + "'"; }

std::string ParseInt(std::string_view v, int64_t min, int64_t max, int64_t* out) {
  int64_t x = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (ec != std::errc() || ptr != v.data() + v.size()) return Quote(v) + " is not an integer";
  if (x < min || x > max) {
    return Quote(v) + " is out of range; accepted: " + std::to_string(min) + ".." + std::to_string(max);
  }
  *out = x;
  return "";
}

std::string ShortDouble(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

Flags::Flags(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void Flags::AddInt(std::string name, int64_t* target, int64_t min, int64_t max, std::string help) {
  flags_.push_back({std::move(name), std::move(help), std::to_string(*target), true,
                    [=](std::string_view v) { return ParseInt(v, min, max, target); }});
}

void Flags::AddDouble(std::string name, double* target, double min, double max, std::string help) {
  flags_.push_back({std::move(name), std::move(help), ShortDouble(*target), true, [=](std::string_view v) {
                      double x = 0;
                      const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
                      if (ec != std::errc() || ptr != v.data() + v.size()) return Quote(v) + " is not a number";
                      if (!(x >= min && x <= max)) {
                        return Quote(v) + " is out of range; accepted: " + ShortDouble(min) + ".." +
                               ShortDouble(max);
                      }
                      *target = x;
                      return std::string();
                    }});
}

void Flags::AddString(std::string name, std::string* target, std::vector<std::string> choices,
                      std::string help) {
  std::string accepted;
  for (const auto& c : choices) accepted += (accepted.empty() ? "" : " | ") + c;
  if (!accepted.empty()) help += " (" + accepted + ")";
  flags_.push_back({std::move(name), std::move(help), *target, true, [=](std::string_view v) {
                      if (choices.empty()) {
                        if (v.empty()) return std::string("must not be empty");
                        *target = std::string(v);
                        return std::string();
                      }
                      for (const auto& c : choices) {
                        if (v == c) {
                          *target = c;
                          return std::string();
                        }
                      }
                      return Quote(v) + " is not accepted; accepted: " + accepted;
                    }});
}

void Flags::AddBool(std::string name, bool* target, std::string help) {
  flags_.push_back({std::move(name), std::move(help), *target ? "on" : "off", false,
                    [=](std::string_view) {
                      *target = true;
                      return std::string();
                    }});
}

void Flags::AddIntList(std::string name, std::vector<int64_t>* target, int64_t min, int64_t max,
                       std::string help) {
  std::string def;
  for (int64_t x : *target) def += (def.empty() ? "" : ",") + std::to_string(x);
  flags_.push_back({std::move(name), std::move(help), def, true, [=](std::string_view v) {
                      std::vector<int64_t> out;
                      size_t start = 0;
                      while (start <= v.size()) {
                        const size_t comma = std::min(v.find(',', start), v.size());
                        int64_t x = 0;
                        if (std::string e = ParseInt(v.substr(start, comma - start), min, max, &x); !e.empty()) {
                          return e + " (in the list " + Quote(v) + ")";
                        }
                        out.push_back(x);
                        start = comma + 1;
                      }
                      *target = std::move(out);
                      return std::string();
                    }});
}

Flags::Outcome Flags::Parse(const std::vector<std::string_view>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") return Outcome::kHelp;
    if (arg == "--version") return Outcome::kVersion;
    if (arg.substr(0, 2) != "--") {
      error_ = program_ + ": unexpected argument " + Quote(arg) + "; every option is a --flag";
      return Outcome::kError;
    }
    std::string_view name = arg.substr(2);
    std::string_view value;
    bool has_inline = false;
    if (const size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline = true;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : flags_) {
      if (f.name == name) flag = &f;
    }
    if (flag == nullptr) {
      error_ = program_ + ": unknown option --" + std::string(name);
      return Outcome::kError;
    }
    if (flag->takes_value && !has_inline) {
      if (i + 1 >= args.size()) {
        error_ = program_ + ": --" + flag->name + " needs a value";
        return Outcome::kError;
      }
      value = args[++i];
    } else if (!flag->takes_value && has_inline) {
      error_ = program_ + ": --" + flag->name + " takes no value";
      return Outcome::kError;
    }
    if (std::string e = flag->set(value); !e.empty()) {
      error_ = program_ + ": --" + flag->name + ": " + e;
      return Outcome::kError;
    }
  }
  return Outcome::kRun;
}

std::string Flags::Usage() const {
  std::ostringstream os;
  os << "usage: " << program_ << " [options]\n\n" << summary_ << "\n\noptions:\n";
  for (const Flag& f : flags_) {
    std::string left = "  --" + f.name + (f.takes_value ? " VALUE" : "");
    if (left.size() < 26) left.resize(26, ' ');
    os << left << " " << f.help << " [default: " << f.default_text << "]\n";
  }
  os << "  --help                   print this help and exit\n"
     << "  --version                print the program version and exit\n"
     << "\nexit status: 0 done, 1 the measurement failed (e.g. no GPU), 2 usage error\n";
  return os.str();
}

}  // namespace attn
