// RunCgroup: the control groups of one sandboxed run. The kernel enforces the run's memory and
// task limits on everything in them and accounts its memory peak, OOM kills, refused forks and
// CPU time; they also name every process of the run, so the whole tree can be killed and its end
// observed, whatever the processes do to their parentage.
//
// The cgroups are created beneath this process's own cgroups (so a limit placed on the runner
// also bounds its runs): with cgroup v2 when the unified hierarchy offers the memory and pids
// controllers to this process, else with the v1 memory, pids and (optionally) cpuacct hierarchies.
// With v2, when this process's cgroup may not hand controllers to children because processes are
// in it (the "no internal processes" rule), this process first moves into a leaf child of its own,
// ahub-runner-<pid>; the run cgroups are created beside that leaf.
// Which one is usable is probed once per process (CgroupSupport()).
//
// Invariants:
//   1. After Join(pid) the process is inside all the run's cgroups, and so is everything it forks.
//   2. The destructor removes the cgroups; it kills what is left in them first, and waits (briefly)
//      until they are empty.
//
// Thread-safety: CgroupSupport() may be called from any thread. A RunCgroup belongs to one run.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runner/status.h"

namespace ahub {

enum class CgroupVersion { kNone, kV1, kV2 };

// Which cgroup version this process can create run cgroups with; kNone when neither is writable.
// `why_not` (optional) receives the reason when kNone.
CgroupVersion CgroupSupport(std::string* why_not = nullptr);

struct CgroupLimits {
  int64_t memory_bytes = 0;
  int64_t tasks = 0;  // processes and threads together
};

struct CgroupUsage {
  int64_t peak_memory_bytes = -1;  // -1: not accounted by this kernel
  int64_t oom_kills = 0;
  int64_t refused_forks = 0;     // forks and clones refused because the task limit was reached
  int64_t cpu_nanoseconds = -1;  // -1: not accounted (no cpuacct)
};

class RunCgroup {
 public:
  // Creates the cgroups (named `name` in each hierarchy) with the limits set.
  static Result<std::unique_ptr<RunCgroup>> Create(CgroupVersion version, const std::string& name,
                                                   const CgroupLimits& limits);
  ~RunCgroup();
  RunCgroup(const RunCgroup&) = delete;
  RunCgroup& operator=(const RunCgroup&) = delete;

  CgroupVersion version() const { return version_; }

  // Moves process `pid` (all its threads) into the run's cgroups; processes it forks afterwards
  // are born inside them.
  Status Join(int pid);

  // The pids of the processes in the run's cgroups now.
  std::vector<int> Pids() const;
  // Sends SIGKILL to every process in the cgroups, until they are empty or `timeout` passes.
  // Returns true when they are empty.
  bool KillAll(std::chrono::milliseconds timeout);
  CgroupUsage Usage() const;

 private:
  RunCgroup(CgroupVersion version, std::vector<std::string> dirs);

  CgroupVersion version_;
  std::vector<std::string> dirs_;  // v2: one directory; v1: memory, pids[, cpuacct]
  std::vector<std::string> procs_files_;
};

}  // namespace ahub
