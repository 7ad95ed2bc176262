// What of the host a sandboxed run is shown, and the checks and clean-up around the two host
// directories it shares with a run (the package it reads, the output directory it writes).
// Used by BubblewrapSandbox (sandbox.cc); not part of the public Sandbox interface.
//
// Invariants:
//   1. SystemView() names only system software: /usr, the merged-usr links (or the directories
//      themselves on a split-usr host) and a fixed list of non-secret /etc entries.
//   2. GpuView() names only NVIDIA device nodes and NVIDIA driver libraries.
//   3. After SettleOutputDir() the output directory holds only directories and regular files,
//      none set-user-ID or set-group-ID, all owned by the requested owner.
//
// Thread-safety: SystemView() and GpuView() are computed once and are then read-only.
// SettleOutputDir() must be called only when no process of the run is left.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "runner/status.h"

namespace ahub {

struct SystemView {
  std::vector<std::string> ro_paths;  // bound read-only at the same path
  std::vector<std::pair<std::string, std::string>>
      symlinks;  // (target, path), e.g. (usr/bin, /bin)
};

// The system directories, the merged-usr links and the /etc entries shown read-only.
const SystemView& HostSystemView();

struct GpuView {
  std::vector<std::string> devices;    // /dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm, ...
  std::vector<std::string> libraries;  // driver libraries outside /usr (those in /usr are visible)
};

// NVIDIA device nodes and driver libraries of this host; empty without a GPU.
const GpuView& HostGpuView();

// Checks that a process that is neither the owner nor in the group of anything on the way can
// reach `path` (every ancestor searchable by others) and, when `need_read`, read it. `what` names
// the path in the error ("SandboxSpec.package_dir").
Status CheckReachableByOthers(const std::filesystem::path& path, bool need_read,
                              const std::string& what);

struct OutputSummary {
  int64_t bytes = 0;      // sum of the sizes of the regular files
  int64_t removed = 0;    // entries removed: symbolic links, FIFOs, sockets, device nodes
  bool too_deep = false;  // directories nested deeper than the runner accepts were flattened
};

// Makes a finished run's output directory safe for the caller to read, and measures it: removes
// every entry that is not a directory or a regular file (so reading a result cannot follow a link
// out of the directory or block on a FIFO), clears set-user-ID/set-group-ID bits and, when
// owner_uid >= 0, gives every entry to owner_uid:owner_gid. Never follows symbolic links.
OutputSummary SettleOutputDir(const std::filesystem::path& dir, int owner_uid, int owner_gid);

}  // namespace ahub
