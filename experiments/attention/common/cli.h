// Command-line flags of the attention experiments: one small parser so every program spells its
// options, defaults, help text and errors the same way.
//
// Flags are `--name VALUE` (or `--name=VALUE`) and bare `--name` for booleans. Errors name the
// flag and the accepted form, e.g. "--seq: 'abc' is not an integer; accepted: an integer >= 1".
// Not thread-safe; used once from main().
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace attn {

class Flags {
 public:
  Flags(std::string program, std::string summary);

  // Each Add* registers a flag bound to `target`, whose current value is the default.
  void AddInt(std::string name, int64_t* target, int64_t min, int64_t max, std::string help);
  void AddDouble(std::string name, double* target, double min, double max, std::string help);
  void AddString(std::string name, std::string* target, std::vector<std::string> choices,
                 std::string help);  // empty choices: any non-empty string
  void AddBool(std::string name, bool* target, std::string help);
  // Comma-separated integers, each in [min, max].
  void AddIntList(std::string name, std::vector<int64_t>* target, int64_t min, int64_t max,
                  std::string help);

  enum class Outcome { kRun, kHelp, kVersion, kError };
  Outcome Parse(const std::vector<std::string_view>& args);
  const std::string& error() const { return error_; }
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_text;
    bool takes_value = true;
    std::function<std::string(std::string_view)> set;  // "" on success, else the error
  };
  std::string program_;
  std::string summary_;
  std::vector<Flag> flags_;
  std::string error_;
};

}  // namespace attn
