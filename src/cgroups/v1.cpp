// The cgroup v1 manager, also for the hybrid layout: one directory per v1
// hierarchy (<root>/<controller><path>) plus, on hybrid, <root>/unified<path>
// through which controllers that live on the unified hierarchy are driven.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>

#include <algorithm>

#include "cgroups/controllers.hpp"
#include "cgroups/managers.hpp"
#include "common/mkdir_batch.hpp"

namespace berth::cgroups {

namespace {

// The v1 hierarchies berth joins, by their directory under the root. The
// named "systemd" one (name=systemd, no controller) too, as runc does:
// otherwise the init stays at its root and a cgroup-namespace mount of it
// inside the container shows the host's whole tree.
const char* const kV1Controllers[] = {"cpu",     "cpuacct", "cpuset",  "memory",     "devices", "freezer",
                                      "blkio",   "pids",    "hugetlb", "net_cls",    "net_prio", "rdma",
                                      "perf_event", "misc", "systemd"};

class V1Manager final : public Manager {
 public:
  V1Manager(Layout layout, std::string root, std::string path, bool rootless, bool disabled)
      : layout_(layout), root_(std::move(root)), path_(std::move(path)), rootless_(rootless), disabled_(disabled) {
    discover();
  }

  std::string saveState() const override { return encodeState(layout_, root_, path_, rootless_, disabled_); }
  Layout layout() const override { return layout_; }
  const std::string& path() const override { return path_; }
  int cloneIntoFd() const override {
    // Opened on first use: of the commands that load a manager, only exec needs it.
    if (!unifiedFd_ && unified_ && !disabled_) openUnified();
    return unifiedFd_.get();
  }

  std::string pathFor(const std::string& controller) const override {
    if (disabled_) return "";
    if (controller == "unified") return unified_ ? unifiedTop_ + path_ : "";
    auto it = mounts_.find(controller);
    return it == mounts_.end() ? "" : it->second + path_;
  }

  std::vector<CgroupHierarchy> containerView() const override {
    std::vector<CgroupHierarchy> out;
    if (disabled_) return out;
    for (const Hierarchy& h : hierarchies()) {
      if (unified_ && h.top == unifiedTop_) {
        out.push_back({"unified", h.top + path_, ""});
        continue;
      }
      std::string name = h.top.substr(h.top.rfind('/') + 1);
      std::string controllers;
      for (const std::string& c : h.controllers) {
        if (!controllers.empty()) controllers += ",";
        controllers += c == "systemd" ? "name=systemd" : c;
      }
      // Co-mounted controllers live in one directory ("cpu,cpuacct") that
      // the others link to; the container sees the same layout. Only they
      // can be links, so only they cost a readlink.
      if (h.controllers.size() > 1) {
        char target[256];
        ssize_t n = ::readlink(h.top.c_str(), target, sizeof target - 1);
        if (n > 0) {
          std::string t(target, static_cast<size_t>(n));
          name = t.substr(t.rfind('/') + 1);
        }
      }
      out.push_back({name, h.top + path_, controllers});
    }
    return out;
  }

  Status create() override { return createPart(Part::All); }
  Status createForClone() override { return createPart(Part::Unified); }
  Status createRest() override { return createPart(Part::V1); }
  void startCreateRest() override {
    if (disabled_) return;
    std::vector<std::string> leaves;
    for (const Hierarchy& h : hierarchies())
      if (!(unified_ && h.top == unifiedTop_)) leaves.push_back(h.top + path_);
    pending_ = sys::MkdirBatch::start(std::move(leaves), 0755);
  }

  enum class Part { All, Unified, V1 };
  Status createPart(Part part) {
    if (disabled_) return {};
    std::vector<std::string> created;
    auto st = createAll(created, part);
    if (st && part != Part::V1 && unified_) {
      openUnified();
      if (!unifiedFd_) st = Error::fromErrno("open " + unifiedTop_ + path_);
    }
    if (!st) {
      removeCreated(created);
      if (rootlessTolerates(rootless_, st.error())) {
        disabled_ = true;
        return {};
      }
      return std::move(st).error().context("cgroup " + path_);
    }
    return {};
  }

  Status apply(pid_t pid) override {
    if (disabled_) return {};
    for (const Hierarchy& h : hierarchies()) TRY_CTX(joinCgroup(h.top + path_, pid), "cgroup " + path_);
    return {};
  }

  Result<std::vector<UniqueFd>> openTasksFiles() override {
    std::vector<UniqueFd> out;
    if (disabled_) return out;
    for (const Hierarchy& h : hierarchies()) {
      if (unified_ && h.top == unifiedTop_) continue;  // cgroup2 has no `tasks`: clone3 places it there
      std::string file = h.top + path_ + "/tasks";
      UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
      if (!fd) return Error::fromErrno("open " + file);
      out.push_back(std::move(fd));
    }
    return out;
  }

  Status setResources(const spec::Resources& r) override {
    if (disabled_) return checkNoResources(r);
    TRY(validateDevices(r.devices));
    if (!r.unified.empty() && !unified_)
      return fieldError("unified", "cgroup v2 is not available on this host (cgroup v1 only)");
    if (!r.devices.empty()) {
      if (v1("devices").valid())
        TRY(setDevicesV1(v1("devices"), r.devices));
      else if (unified_)
        TRY(setDevicesV2(uni(), r.devices));
      else
        return fieldError("devices", "the host has no devices cgroup controller");
    }
    if (r.memory) {
      if (v1("memory").valid())
        TRY(setMemoryV1(v1("memory"), *r.memory));
      else if (onUnified("memory"))
        TRY(setMemoryV2(enable("memory"), *r.memory));
      else
        return fieldError("memory", "the host has no memory cgroup controller");
    }
    if (r.cpu) {
      // cpu and cpuset each on v1 or (hybrid) on the unified hierarchy.
      Dir cpu = v1("cpu"), cpuset = v1("cpuset");
      if (cpu.valid() || cpuset.valid() || (!onUnified("cpu") && !onUnified("cpuset"))) {
        TRY(setCpuV1(cpu, cpuset, *r.cpu));
      } else {
        if (onUnified("cpu")) enable("cpu");
        if (onUnified("cpuset")) enable("cpuset");
        TRY(setCpuV2(uni(), *r.cpu));
      }
    }
    if (r.pids) {
      if (v1("pids").valid())
        TRY(setPidsV1(v1("pids"), *r.pids));
      else if (onUnified("pids"))
        TRY(setPidsV2(enable("pids"), *r.pids));
      else
        return fieldError("pids", "the host has no pids cgroup controller");
    }
    if (r.blockIO) {
      if (v1("blkio").valid())
        TRY(setBlkioV1(v1("blkio"), *r.blockIO));
      else if (onUnified("io"))
        TRY(setBlkioV2(enable("io"), *r.blockIO));
      else
        return fieldError("blockIO", "the host has no blkio cgroup controller");
    }
    if (!r.hugepageLimits.empty()) {
      if (v1("hugetlb").valid())
        TRY(setHugetlbV1(v1("hugetlb"), r.hugepageLimits));
      else if (onUnified("hugetlb"))
        TRY(setHugetlbV2(enable("hugetlb"), r.hugepageLimits));
      else
        return fieldError("hugepageLimits", "the host has no hugetlb cgroup controller");
    }
    if (r.network) {
      TRY(setNetClsV1(v1("net_cls"), *r.network));
      TRY(setNetPrioV1(v1("net_prio"), *r.network));
    }
    if (!r.rdma.empty()) {
      if (v1("rdma").valid())
        TRY(setRdma(v1("rdma"), r.rdma));
      else if (onUnified("rdma"))
        TRY(setRdma(enable("rdma"), r.rdma));
      else
        return fieldError("rdma", "the host has no rdma cgroup controller");
    }
    if (!r.unified.empty()) {
      // Only the controllers that really live on the unified hierarchy.
      for (const auto& [key, value] : r.unified) {
        std::string c = key.substr(0, key.find('.'));
        if (c != "cgroup" && onUnified(c)) enable(c);
      }
      auto avail = readControllers(uni()).valueOr({});
      TRY(setUnified(uni(), r.unified, avail));
    }
    return {};
  }

  Status freeze() override {
    if (v1("freezer").valid()) return withContext(setFrozenV1(true), "cgroup " + path_);
    if (unified_) return withContext(setFrozenV2(uni(), true), "cgroup " + path_);
    return Error("the host has no freezer cgroup controller");
  }
  Status thaw() override {
    if (v1("freezer").valid()) return withContext(setFrozenV1(false), "cgroup " + path_);
    if (unified_) return withContext(setFrozenV2(uni(), false), "cgroup " + path_);
    return Error("the host has no freezer cgroup controller");
  }
  Result<bool> isFrozen() override {
    if (v1("freezer").valid()) return TRY(v1("freezer").readLine("freezer.state")) == "FROZEN";
    if (unified_) return isFrozenV2(uni());
    return false;
  }

  Result<std::vector<pid_t>> pids() override {
    if (disabled_) return std::vector<pid_t>{};
    return collectPids(trackingDir());
  }

  Status killAll(int signal) override {
    if (disabled_) return {};
    // Nothing in the cgroup, nothing can fork: skip the freeze, whose state
    // flips cost an IPI to every CPU (most teardowns find the cgroup empty).
    if (TRY(collectPids(trackingDir())).empty()) return {};
    const bool canFreeze = v1("freezer").valid() || unified_;
    if (canFreeze) TRY(freeze());
    Status st = signalAll(trackingDir(), signal);
    if (canFreeze) {
      Status thawed = thaw();
      if (st) st = std::move(thawed);
    }
    return st;
  }

  Result<Stats> stats() override {
    Stats s;
    if (disabled_) return s;
    cpuStatsV1(v1("cpu"), v1("cpuacct"), s.cpu);
    if (onUnified("cpu")) cpuStatsV2(uni(), s.cpu);
    if (v1("memory").valid()) memoryStatsV1(v1("memory"), s.memory);
    else if (onUnified("memory")) memoryStatsV2(uni(), s.memory);
    if (v1("pids").valid()) pidsStatsV1(v1("pids"), s.pids);
    else if (onUnified("pids")) pidsStatsV2(uni(), s.pids);
    if (v1("blkio").valid()) blkioStatsV1(v1("blkio"), s.blkio);
    else if (onUnified("io")) blkioStatsV2(uni(), s.blkio);
    if (v1("hugetlb").valid()) hugetlbStatsV1(v1("hugetlb"), s.hugetlb);
    else if (onUnified("hugetlb")) hugetlbStatsV2(uni(), s.hugetlb);
    return s;
  }

  Status destroy() override {
    if (disabled_) return {};
    // A create that failed before createRest: let its mkdirs land first.
    if (pending_.started()) (void)pending_.wait();
    if (isFrozen().valueOr(false)) (void)thaw();
    return removeAll();
  }
  // One rmdir per hierarchy, no retries. The freezer and the tracking
  // hierarchy go last: if a process is still there after all (moved in from
  // outside), the caller's killAll() needs both.
  Status destroyEmptied() override {
    if (disabled_) return {};
    if (pending_.started()) (void)pending_.wait();
    std::vector<std::string> order;
    const std::string tracking = trackingDir();
    const std::string freezer = v1("freezer").valid() ? v1("freezer").path() : std::string();
    for (const Hierarchy& h : hierarchies())
      if (h.top + path_ != tracking && h.top + path_ != freezer) order.push_back(h.top + path_);
    for (const std::string& last : {tracking, freezer})
      if (!last.empty() && std::find(order.begin(), order.end(), last) == order.end()) order.push_back(last);
    for (const std::string& dir : order)
      if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return Error::fromErrno("rmdir " + dir);
    return {};
  }

 private:
  Status removeAll() {
    // Every hierarchy even after a failure: leave as little as possible.
    Status first;
    for (const Hierarchy& h : hierarchies()) {
      Status st = removeTree(h.top + path_);
      if (!st && first) first = std::move(st);
    }
    return withContext(std::move(first), "cgroup " + path_);
  }

  // Which controllers are mounted where (co-mounted ones share a directory)
  // and, on hybrid, which live on the unified hierarchy.
  // Which controllers are mounted where, and the distinct hierarchies they
  // make. One stat per controller name: a hierarchy is a directory on
  // another device than the tmpfs holding it. A directory on the same device
  // is an unmounted hierarchy (one moved to v2, say), unless it has
  // cgroup.procs (a fake cgroupfs in a temp dir, as the tests use).
  // Co-mounted controllers show the same directory and share one hierarchy.
  // The mounts do not change under a manager: worked out once, here.
  void discover() {
    struct stat rootSt {};
    const bool haveRoot = ::stat(root_.c_str(), &rootSt) == 0;
    std::map<std::string, std::pair<dev_t, ino_t>> dirIds;
    for (const char* c : kV1Controllers) {
      std::string top = root_ + "/" + c;
      struct stat st {};
      if (::stat(top.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      if (!haveRoot || st.st_dev == rootSt.st_dev) {
        struct stat procs {};
        if (::stat((top + "/cgroup.procs").c_str(), &procs) != 0) continue;
      }
      mounts_[c] = top;
      dirIds[c] = {st.st_dev, st.st_ino};
    }
    std::vector<std::pair<dev_t, ino_t>> seen;  // by hierarchies_' index
    for (const auto& [c, top] : mounts_) {
      auto at = std::find(seen.begin(), seen.end(), dirIds[c]);
      if (at != seen.end()) {
        hierarchies_[static_cast<size_t>(at - seen.begin())].controllers.push_back(c);
        continue;
      }
      seen.push_back(dirIds[c]);
      hierarchies_.push_back({top, {c}});
    }
    if (layout_ == Layout::Hybrid) {
      unifiedTop_ = root_ + "/unified";
      unified_ = Dir(unifiedTop_).has("cgroup.procs");
      if (unified_) unifiedControllers_ = readControllers(Dir(unifiedTop_)).valueOr({});
    }
    if (unified_) hierarchies_.push_back({unifiedTop_, {}});
  }

  void openUnified() const { unifiedFd_.reset(::open((unifiedTop_ + path_).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)); }

  Dir v1(const std::string& c) const {
    auto it = mounts_.find(c);
    return it == mounts_.end() ? Dir() : Dir(it->second + path_);
  }
  Dir uni() const { return Dir(unifiedTop_ + path_); }
  bool onUnified(const std::string& c) const {
    return unified_ && std::find(unifiedControllers_.begin(), unifiedControllers_.end(), c) !=
                           unifiedControllers_.end();
  }
  // Controllers on the unified hierarchy of a hybrid host are enabled only
  // when a limit needs them, so berth changes the shared tree no more than it must.
  Dir enable(const std::string& c) {
    enableControllers(unifiedTop_, path_, {c});
    return uni();
  }

  // The distinct hierarchy roots (co-mounted controllers share one), each
  // with its controllers; discover() finds them.
  struct Hierarchy {
    std::string top;
    std::vector<std::string> controllers;  // none for the unified one
  };
  const std::vector<Hierarchy>& hierarchies() const { return hierarchies_; }

  // The hierarchy whose cgroup.procs lists the container's processes.
  std::string trackingDir() const {
    for (const char* c : {"pids", "freezer", "cpu", "memory"})
      if (auto d = v1(c); d.valid()) return d.path();
    if (unified_) return uni().path();
    const auto& h = hierarchies();
    return h.empty() ? std::string() : h.front().top + path_;
  }

  Status createAll(std::vector<std::string>& created, Part part) {
    if (mounts_.empty() && !unified_) return Error("no cgroup hierarchies under " + root_);
    std::map<std::string, bool> early = part == Part::Unified ? std::map<std::string, bool>{} : takePending(created);
    for (const Hierarchy& h : hierarchies()) {
      const std::string& top = h.top;
      const bool isUnified = unified_ && top == unifiedTop_;
      if ((part == Part::Unified && !isUnified) || (part == Part::V1 && isUnified)) continue;
      const bool cpuset = mounts_.count("cpuset") && mounts_["cpuset"] == top;
      const std::string leaf = top + path_;
      if (early.count(leaf)) {
        if (cpuset && early[leaf]) TRY(initCpuset({leaf}, 0));
        continue;
      }
      size_t before = created.size();
      TRY(makeCgroupDirs(top, path_, created));
      if (cpuset) {
        TRY(initCpuset(created, before));
        // Parents berth made copy their cpus and mems to every new child
        // themselves (the kernel's clone_children), which spares each later
        // container's create the copy above: six cgroupfs reads and writes.
        for (size_t i = before; i < created.size(); ++i)
          if (created[i] != leaf) (void)Dir(created[i]).write("cgroup.clone_children", "1");
      }
    }
    return {};
  }

  // The leaves startCreateRest() submitted that exist now, each with
  // whether the kernel made it (then it is in `created` too, for rollback).
  // The rest (ENOENT for a missing parent above all) is left to
  // makeCgroupDirs, which makes the parents and reports the errors.
  std::map<std::string, bool> takePending(std::vector<std::string>& created) {
    std::map<std::string, bool> out;
    if (!pending_.started()) return out;
    const auto& results = pending_.wait();
    const auto& paths = pending_.paths();
    for (size_t i = 0; i < paths.size(); ++i) {
      if (results[i] == 0) created.push_back(paths[i]);
      if (results[i] == 0 || results[i] == -EEXIST) out[paths[i]] = results[i] == 0;
    }
    pending_ = sys::MkdirBatch();
    return out;
  }

  // A new v1 cpuset has empty cpus and mems, and no process may join it
  // until they are set: inherit the parent's, level by level.
  Status initCpuset(const std::vector<std::string>& created, size_t from) {
    for (size_t i = from; i < created.size(); ++i) {
      Dir d(created[i]);
      Dir parent(created[i].substr(0, created[i].rfind('/')));
      for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
        auto cur = d.readLine(f);
        if (cur.ok() && !cur->empty()) continue;  // the kernel copied it (clone_children)
        if (!cur.ok() && cur.error().code() == ENOENT) continue;  // only a fake cgroupfs lacks them
        auto v = TRY(parent.readLine(f));
        TRY(d.write(f, v));
      }
    }
    return {};
  }

  Status setFrozenV1(bool frozen) {
    Dir d = v1("freezer");
    TRY(d.write("freezer.state", frozen ? "FROZEN" : "THAWED"));
    const std::string want = frozen ? "FROZEN" : "THAWED";
    // FREEZING can persist while a task sleeps uninterruptibly; re-writing
    // the state makes the kernel retry. On timeout thaw, never leave it half.
    bool done = pollUntil(
        [&] {
          auto s = d.readLine("freezer.state");
          if (s.ok() && *s == want) return true;
          (void)d.write("freezer.state", want);
          return false;
        },
        5000);
    if (done) return {};
    if (frozen) (void)d.write("freezer.state", "THAWED");
    return Error(std::string(frozen ? "freeze" : "thaw") + " " + d.path() + ": timed out");
  }

  Layout layout_;
  std::string root_;
  std::string path_;
  bool rootless_;
  bool disabled_;
  std::map<std::string, std::string> mounts_;  // controller -> hierarchy root
  bool unified_ = false;
  std::string unifiedTop_;
  mutable UniqueFd unifiedFd_;  // hybrid: the unified cgroup, for CLONE_INTO_CGROUP (cloneIntoFd)
  std::vector<std::string> unifiedControllers_;
  sys::MkdirBatch pending_;  // startCreateRest()'s mkdirs, until createRest()
  std::vector<Hierarchy> hierarchies_;
};

}  // namespace

std::unique_ptr<Manager> makeV1Manager(Layout layout, std::string root, std::string path, bool rootless,
                                       bool disabled) {
  return std::make_unique<V1Manager>(layout, std::move(root), std::move(path), rootless, disabled);
}

}  // namespace berth::cgroups
