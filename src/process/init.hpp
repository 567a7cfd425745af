// The container's init: everything between clone and execve of the user
// program, and the clone itself.
//
// Protocol on the channel (parent = berth-runtime create/run, child = init):
//
//  | step | from   | message         | when / meaning                                          |
//  |------|--------|-----------------|---------------------------------------------------------|
//  |  1   | child  | NeedIdMaps      | two-stage only: stage 1 unshared a user ns              |
//  |  2   | parent | IdMapsWritten   | uid_map/gid_map written (whenever a user ns is new)     |
//  |  3   | child  | InitPid         | two-stage only: stage 1 forked the init, then exits     |
//  |  3a  | parent | CgroupJoined    | init placed in its cgroup, limits set; only now does it |
//  |      |        |                 | unshare its cgroup ns (root = its cgroup) and mount     |
//  |  4   | child  | RunCreateHooks  | mounts done, before pivot_root (4 and 5 only when the   |
//  |      |        |                 | config has hooks that run before start)                 |
//  |  5   | parent | HooksDone       | prestart+createRuntime ran; payload = state JSON        |
//  |  5a  | child  | SeccompFd       | notify profiles only: the listener fd (SCM_RIGHTS)      |
//  |  6   | child  | Ready           | pivoted, cwd and executable checked: "created"          |
//  |  7   | parent | (start)         | create: the init waits on <state>/exec.fifo; run: none, |
//  |      |        |                 | the init goes on from Ready to execve                   |
//  |  8   | child  | (EOF)           | execve succeeded (the child's end is O_CLOEXEC)         |
//  |  *   | child  | Error           | any failure; payload = error chain; child exits 1       |
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "fs/rootfs.hpp"
#include "namespaces/namespaces.hpp"
#include "process/channel.hpp"
#include "security/capabilities.hpp"
#include "security/seccomp.hpp"
#include "spec/model.hpp"

namespace berth::process {

// What the init needs. Built by the parent before clone; the child works on
// its copy-on-write image of it, so nothing is serialized.
struct InitConfig {
  const spec::Spec* spec = nullptr;
  std::string id;
  std::string bundle;  // absolute
  std::string rootfs;  // absolute
  namespaces::Plan ns;
  std::vector<UniqueFd> nsFds;  // opened joins, same order as ns.joins
  security::CapabilityPlan caps;
  std::optional<security::SeccompProgram> seccomp;  // compiled in the parent; loaded by the init
  bool noPivot = false;
  bool noNewKeyring = false;
  bool rootless = false;
  std::vector<fs::CgroupHierarchy> cgroupHierarchies;  // fs::RootfsOptions::cgroupHierarchies
  int extraFds = 0;                  // --preserve-fds + LISTEN_FDS: fds 3..3+extraFds-1 pass through
  std::vector<std::string> extraEnv; // LISTEN_FDS=..., LISTEN_PID=1
  bool startAtOnce = false;          // run: no start to wait for; create: exec.fifo
  UniqueFd stateDir;                 // create: O_PATH fd of <root>/<id>, for exec.fifo
  int lockFd = -1;                   // the parent's flock on the state dir: the child drops its copy at once
  int cgroupFd = -1;                 // cgroup2: clone3(CLONE_INTO_CGROUP) target
  UniqueFd consoleSocket;            // process.terminal: where the pty master goes (tty.hpp)
};

struct Spawned {
  pid_t pid = -1;    // host pid of the container's init
  UniqueFd pidfd;
  bool intermediate = false;  // two-stage: the init is our grandchild (subreaper reaps it)
  bool clonedIntoCgroup = false;  // clone3 put it in cfg.cgroupFd (the kernel has CLONE_INTO_CGROUP)
};

// Clones the init (single- or two-stage, see namespaces.hpp) and returns
// once its host pid is known. `parent` is the parent's end of the channel;
// `child` is closed in the parent on return. Writes id maps when asked.
Result<Spawned> spawnInit(InitConfig& cfg, Channel& parent, Channel& child);

}  // namespace berth::process
