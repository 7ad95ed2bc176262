// Executor: where the hub's verification jobs run. The worker pool hands each job's checked-out
// package to an Executor and stores the Report it returns. LocalExecutor runs the experiments on
// this host in the bubblewrap sandbox; a cluster scheduler would implement the same interface.
//
// Thread-safety: Execute() is called concurrently by the workers.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "runner/builtins.h"
#include "runner/host.h"
#include "runner/manifest.h"
#include "runner/sandbox.h"
#include "runner/status.h"
#include "runner/verify.h"

namespace ahub::hub {

struct ExecutionRequest {
  std::filesystem::path package_dir;  // a private checkout of the version, readable by others
  const Package* package = nullptr;   // its validated manifest
  std::filesystem::path work_dir;     // empty, for the experiments' output directories
  std::function<void(const ProgressEvent&)> progress;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // A non-ok Status: the job could not be executed (sandbox missing); it is retried later.
  virtual Result<Report> Execute(const ExecutionRequest& request) = 0;
  // The host the reports come from (its fingerprint counts as one replication host).
  virtual const HostInfo& host() const = 0;
};

struct LocalExecutorOptions {
  std::filesystem::path builtin_dir = DefaultBuiltinDir();  // the built-in experiments
  int jobs_per_package = 1;           // experiments of one package run at once
};

std::shared_ptr<Executor> NewLocalExecutor(const LocalExecutorOptions& options);

// Runs every Execute() through `sandbox` (tests use a fake one).
std::shared_ptr<Executor> NewLocalExecutor(const LocalExecutorOptions& options,
                                           std::unique_ptr<Sandbox> sandbox, HostInfo host);

}  // namespace ahub::hub
