// The pure cgroup v2 manager: one directory, <root><path>.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "cgroups/controllers.hpp"
#include "cgroups/managers.hpp"
#include "common/unique_fd.hpp"

namespace berth::cgroups {

Status setFrozenV2(const Dir& d, bool frozen) {
  if (!d.has("cgroup.freeze")) return Error("no cgroup.freeze in " + d.path() + " (kernel too old?)");
  TRY(d.write("cgroup.freeze", frozen ? "1" : "0"));
  if (!frozen) return {};
  bool done = pollUntil([&] { return isFrozenV2(d).valueOr(false); }, 5000);
  if (done) return {};
  // A process stuck in the kernel (e.g. in uninterruptible sleep) can keep
  // the cgroup from freezing; do not leave it half-frozen.
  (void)d.write("cgroup.freeze", "0");
  return Error("freeze " + d.path() + ": timed out; thawed again");
}

Result<bool> isFrozenV2(const Dir& d) {
  auto ev = TRY(d.read("cgroup.events"));
  return parseKeyValues(ev)["frozen"] == 1;
}

namespace {

class V2Manager final : public Manager {
 public:
  V2Manager(std::string root, std::string path, bool rootless, bool disabled)
      : root_(std::move(root)), path_(std::move(path)), dir_(root_ + path_), rootless_(rootless),
        disabled_(disabled) {
    openFd();
  }

  std::string saveState() const override { return encodeState(Layout::V2, root_, path_, rootless_, disabled_); }
  Layout layout() const override { return Layout::V2; }
  const std::string& path() const override { return path_; }
  int cloneIntoFd() const override { return fd_.get(); }
  std::string pathFor(const std::string&) const override { return disabled_ ? "" : dir_.path(); }

  Status createForClone() override { return create(); }
  Status createRest() override { return {}; }

  Status create() override {
    std::vector<std::string> created;
    auto made = makeCgroupDirs(root_, path_, created);
    if (!made) {
      removeCreated(created);
      if (rootlessTolerates(rootless_, made.error())) {
        disabled_ = true;
        return {};
      }
      return std::move(made).error().context("cgroup " + path_);
    }
    auto available = readControllers(Dir(root_));
    if (!available) {
      removeCreated(created);
      return std::move(available).error().context("cgroup " + path_);
    }
    enableControllers(root_, path_, *available);
    openFd();
    if (!fd_) {
      Error e = Error::fromErrno("open " + dir_.path());
      removeCreated(created);
      return e;
    }
    return {};
  }

  Status apply(pid_t pid) override {
    if (disabled_) return {};
    return withContext(joinCgroup(dir_.path(), pid), "cgroup " + path_);
  }

  Result<std::vector<UniqueFd>> openTasksFiles() override { return std::vector<UniqueFd>{}; }

  Status setResources(const spec::Resources& r) override {
    if (disabled_) return checkNoResources(r);
    auto avail = TRY_CTX(readControllers(dir_), "cgroup " + path_);
    auto has = [&](const char* c) { return std::find(avail.begin(), avail.end(), c) != avail.end(); };
    auto missing = [&](const std::string& field, const char* c) {
      return fieldError(field, std::string("the ") + c + " controller is not available in cgroup v2 here");
    };
    // Every check before the first write, so bad input changes nothing.
    TRY(validateDevices(r.devices));
    if (r.network && (r.network->classID || !r.network->priorities.empty()))
      return fieldError(r.network->classID ? "network.classID" : "network.priorities",
                        "net_cls/net_prio do not exist on cgroup v2");
    // Nonsense values are named as such even where the controller is missing.
    if (r.memory) TRY(validateMemory(*r.memory));
    if (r.memory) {
      if (!has("memory")) return missing("memory", "memory");
      TRY(setMemoryV2(dir_, *r.memory));
    }
    if (r.cpu) {
      bool wantCpu = (r.cpu->shares && *r.cpu->shares) || r.cpu->quota || r.cpu->period || r.cpu->burst ||
                     r.cpu->idle;
      if (wantCpu && !has("cpu")) return missing("cpu", "cpu");
      if ((r.cpu->cpus || r.cpu->mems) && !has("cpuset")) return missing("cpu.cpus", "cpuset");
      TRY(setCpuV2(dir_, *r.cpu));
    }
    if (r.pids) {
      if (!has("pids")) return missing("pids", "pids");
      TRY(setPidsV2(dir_, *r.pids));
    }
    if (r.blockIO) {
      if (!has("io")) return missing("blockIO", "io");
      TRY(setBlkioV2(dir_, *r.blockIO));
    }
    if (!r.hugepageLimits.empty()) {
      if (!has("hugetlb")) return missing("hugepageLimits", "hugetlb");
      TRY(setHugetlbV2(dir_, r.hugepageLimits));
    }
    if (!r.rdma.empty()) {
      if (!has("rdma")) return missing("rdma", "rdma");
      TRY(setRdma(dir_, r.rdma));
    }
    if (!r.devices.empty()) TRY(setDevicesV2(dir_, r.devices));
    if (!r.unified.empty()) TRY(setUnified(dir_, r.unified, avail));
    return {};
  }

  Status freeze() override { return withContext(setFrozenV2(dir_, true), "cgroup " + path_); }
  Status thaw() override { return withContext(setFrozenV2(dir_, false), "cgroup " + path_); }
  Result<bool> isFrozen() override { return isFrozenV2(dir_); }
  Result<std::vector<pid_t>> pids() override { return collectPids(dir_.path()); }

  Status killAll(int signal) override {
    if (signal == SIGKILL && dir_.has("cgroup.kill")) return dir_.write("cgroup.kill", "1");
    if (TRY(collectPids(dir_.path())).empty()) return {};  // nothing can fork: no freeze needed
    // Frozen, nothing forks between reading the pids and signalling them.
    TRY(freeze());
    Status st = signalAll(dir_.path(), signal);
    Status thawed = thaw();
    if (!st) return st;
    return thawed;
  }

  Result<Stats> stats() override {
    Stats s;
    cpuStatsV2(dir_, s.cpu);
    memoryStatsV2(dir_, s.memory);
    pidsStatsV2(dir_, s.pids);
    blkioStatsV2(dir_, s.blkio);
    hugetlbStatsV2(dir_, s.hugetlb);
    return s;
  }

  Status destroy() override {
    if (dir_.has("cgroup.freeze") && isFrozenV2(dir_).valueOr(false)) (void)setFrozenV2(dir_, false);
    fd_.reset();
    Status st = removeTree(dir_.path());
    return withContext(std::move(st), "cgroup " + path_);
  }
  // One rmdir, no retries: busy means the caller kills and destroys.
  Status destroyEmptied() override {
    if (disabled_) return {};
    if (::rmdir(dir_.path().c_str()) == 0 || errno == ENOENT) {
      fd_.reset();
      return {};
    }
    return Error::fromErrno("rmdir " + dir_.path());
  }

 private:
  void openFd() {
    if (!disabled_) fd_.reset(::open(dir_.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }

  std::string root_;
  std::string path_;
  Dir dir_;
  bool rootless_;
  bool disabled_;
  UniqueFd fd_;
};

}  // namespace

std::unique_ptr<Manager> makeV2Manager(std::string root, std::string path, bool rootless, bool disabled) {
  return std::make_unique<V2Manager>(std::move(root), std::move(path), rootless, disabled);
}

}  // namespace berth::cgroups
