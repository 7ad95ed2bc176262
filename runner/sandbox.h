// Sandbox: runs one untrusted command under bubblewrap with resource limits, and reports how it
// ended. The hub and `ahub verify` execute package code only through this interface.
//
// What the command sees (BubblewrapSandbox):
//   1. New user, pid, net, ipc, uts and cgroup namespaces; no network but its own loopback.
//   2. System directories (/usr and the merged-usr links, a minimal /etc) read-only; /proc, /dev.
//   3. The package directory read-only at kPackageMount, its working directory.
//   4. One writable output directory at kOutputMount; a private /tmp capped in size.
//   5. Extra read-only binds the caller names (the built-in experiments directory).
//   6. Nothing else of the host: no home directories, no hub data, no tokens; a clean environment.
//   7. GPU device nodes and driver libraries only when spec.gpu is set.
// Limits: wall clock (the whole process tree is killed), memory, process count, size of each
// output file and of the output directory, captured stdout/stderr (truncated with a marker).
// They are enforced with cgroups (v2, else v1) when this process can create them, else with
// rlimits (RLIMIT_DATA instead of RLIMIT_AS for GPU runs); RunOutcome.enforcement says which. Run as root, the command runs under a fresh
// unprivileged uid (never as root): the output directory is lent to that uid for the run, and the
// package directory and every directory above it must be readable/searchable by others.
// After Run() returns no process of the run is alive, and the output directory holds only
// regular files and directories (links, FIFOs and sockets the command made are removed).
//
// Thread-safety: Run() may be called concurrently from several threads; each call is independent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runner/status.h"

namespace ahub {

inline constexpr const char* kPackageMount = "/pkg";
inline constexpr const char* kOutputMount = "/out";
inline constexpr const char* kBuiltinMount = "/opt/ahub/bin";

struct SandboxLimits {
  double wall_seconds = 60;
  int64_t memory_mb = 1024;
  int processes = 32;                 // tasks (processes and threads) of the command's tree
  int64_t output_bytes = 64LL << 20;  // each output file, and the output directory in total
  int64_t log_bytes = 1LL << 20;      // captured stdout and stderr, each
  int64_t tmp_mb = 256;               // private /tmp (its pages also count as memory)
};

struct SandboxSpec {
  std::vector<std::string> argv;      // argv[0]: absolute path as seen inside the sandbox
  std::filesystem::path package_dir;  // host path, bound read-only at kPackageMount
  std::filesystem::path output_dir;   // host path (exists, empty), bound read-write at kOutputMount
  std::vector<std::pair<std::filesystem::path, std::string>> ro_binds;  // host path -> inside path
  std::map<std::string, std::string> env;  // added to the sandbox's minimal environment
  bool gpu = false;
  SandboxLimits limits;
};

// Why a run ended other than by exiting. kMemory and kProcesses are named only when the run also
// failed and the limit was hit (a cgroup's OOM kill or refused fork); without cgroups they are not
// detected (the command sees ENOMEM/EAGAIN and fails). kOutputSize is named even for a command
// that exited 0, as its output is not accepted. kTimeout also covers RLIMIT_CPU (SIGXCPU).
enum class KilledBy { kNone, kTimeout, kMemory, kProcesses, kOutputSize, kSignal };

// "none", "timeout", "memory", "processes", "output_size", "signal".
const char* KilledByName(KilledBy k);

struct RunOutcome {
  // The command's exit status; -1 when it ended by a signal. bubblewrap reports a death by signal
  // N as status 128+N, so a status in 129..192 is read as signal N.
  int exit_code = -1;
  int term_signal = 0;
  KilledBy killed_by = KilledBy::kNone;
  double wall_seconds = 0;
  // Of the whole tree: from the cgroups, or without them from the rusage of everything reaped.
  double cpu_seconds = 0;  // user + system
  double peak_memory_mb = 0;
  int64_t output_bytes = 0;  // total size of the regular files in the output directory
  // At most log_bytes of each (its head and tail), with a "[... truncated N bytes ...]" line
  // in between when the stream was longer.
  std::string stdout_text;
  std::string stderr_text;
  std::string enforcement;  // how limits were enforced: "cgroup-v2", "cgroup-v1" or "rlimit"

  bool succeeded() const { return killed_by == KilledBy::kNone && exit_code == 0; }
};

class Sandbox {
 public:
  virtual ~Sandbox() = default;
  // Runs the command to completion. A non-ok Status means the sandbox itself could not be set up
  // (bubblewrap missing, bad spec); anything the command does ends as a RunOutcome.
  virtual Result<RunOutcome> Run(const SandboxSpec& spec) = 0;
};

struct BubblewrapOptions {
  std::string bwrap_path = "bwrap";  // looked up in PATH when not absolute
  bool use_cgroups = true;           // false: enforce limits with rlimits even where cgroups work
};

std::unique_ptr<Sandbox> NewBubblewrapSandbox(const BubblewrapOptions& options = {});

// True when the host has an NVIDIA GPU the sandbox could pass through (a /dev/nvidiaN exists).
bool HostHasGpu();

}  // namespace ahub
