#include "hub/executor.h"

namespace ahub::hub {
namespace {

class LocalExecutor : public Executor {
 public:
  LocalExecutor(LocalExecutorOptions options, std::unique_ptr<Sandbox> sandbox, HostInfo host)
      : options_(std::move(options)), sandbox_(std::move(sandbox)), host_(std::move(host)),
        has_gpu_(HostHasGpu()) {}

  Result<Report> Execute(const ExecutionRequest& request) override {
    VerifyOptions options;
    options.builtin_dir = options_.builtin_dir;
    options.work_dir = request.work_dir;
    options.jobs = options_.jobs_per_package;
    options.host_has_gpu = has_gpu_;
    options.progress = request.progress;
    return VerifyPackage(request.package_dir, *request.package, *sandbox_, host_, options);
  }
  const HostInfo& host() const override { return host_; }

 private:
  LocalExecutorOptions options_;
  std::unique_ptr<Sandbox> sandbox_;
  HostInfo host_;
  bool has_gpu_;
};

}  // namespace

std::shared_ptr<Executor> NewLocalExecutor(const LocalExecutorOptions& options) {
  return NewLocalExecutor(options, NewBubblewrapSandbox(), DescribeHost());
}

std::shared_ptr<Executor> NewLocalExecutor(const LocalExecutorOptions& options,
                                           std::unique_ptr<Sandbox> sandbox, HostInfo host) {
  return std::make_shared<LocalExecutor>(options, std::move(sandbox), std::move(host));
}

}  // namespace ahub::hub
