// `exec`: a new process inside a running container. It is a clone of
// berth-runtime that joins the container's namespaces, cgroup and root, takes
// the process's identity and privileges, and execs the program.
//
// How it gets into the container:
//  - pid namespace: setns only moves a process's *children*, so the parent
//    (single-threaded) enters the container's pid namespace for the moment of
//    clone3 and returns to its own right after; the child is born inside
//    with a host pid and pidfd we hold directly (no intermediate process);
//  - an unprivileged caller (rootless) may not enter a pid namespace that
//    the container's user namespace owns from outside it: then a stage-1
//    process joins the user and pid namespaces (one setns on the init's
//    pidfd) and forks the exec process in there; we are its subreaper;
//  - cgroup: clone3(CLONE_INTO_CGROUP) on cgroup2; on v1 the child writes
//    "0" to the `tasks` fds it got (cgroups::Manager::cloneIntoFd has why);
//  - the other namespaces: one setns(pidfd of the init, flags) in the child,
//    which the kernel applies atomically, user namespace first;
//  - the root: fchdir + chroot to the init's /proc/<pid>/root (opened by the
//    parent), which is right with pivot_root and with --no-pivot alike.
// The child is non-dumpable from its first instruction until execve, so
// nothing inside the container can ptrace it, read its memory or open its
// fds (the runtime's) while it sets up.
//
// Protocol on the channel:
//  | step | from   | message | meaning                                            |
//  |------|--------|---------|----------------------------------------------------|
//  |  1   | parent | Start   | the child is in the cgroup: join and exec          |
//  |  1a  | child  | SeccompFd | notify profiles only: the listener fd (SCM_RIGHTS) |
//  |  2   | child  | (EOF)   | execve succeeded (the child's end is O_CLOEXEC)    |
//  |  *   | child  | Error   | any failure; payload = error chain; child exits 1  |
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "process/channel.hpp"
#include "process/init.hpp"
#include "security/capabilities.hpp"
#include "security/seccomp.hpp"
#include "spec/model.hpp"

namespace berth::process {

struct ExecConfig {
  const spec::Process* process = nullptr;  // the final process (config + overrides)
  int initPidfd = -1;                      // the container's init: setns target
  int joinFlags = 0;                       // CLONE_NEW* the child joins (not CLONE_NEWPID)
  int joinedEarly = 0;                     // of those, what stage 1 joined already (spawnExec sets it)
  bool joinPid = false;                    // the init's pid namespace differs from ours
  UniqueFd root;                           // O_PATH of /proc/<init>/root
  security::CapabilityPlan caps;
  std::optional<security::SeccompProgram> seccomp;  // the container's filter, compiled by the parent
  int extraFds = 0;                        // --preserve-fds: 3..3+extraFds-1 pass through
  UniqueFd consoleSocket;                  // process.terminal: where the pty master goes
  int cgroupFd = -1;                       // cgroup2: clone3(CLONE_INTO_CGROUP) target
  std::vector<UniqueFd> cgroupTasks;       // v1 `tasks` files it joins through (cgroups::joinThroughTasks)
  int lockFd = -1;                         // the container's flock: the child drops its copy at once
};

// The namespaces of `pid` that differ from the caller's, as CLONE_NEW* flags
// (a namespace shared with the host, e.g. no netns in the config, is not
// joined: setns into one's own namespace is an error for some types).
Result<int> namespacesToJoin(pid_t pid);

// Clones the exec child (see above). `child` is closed in the parent on
// return; the child waits for Start on `parent`'s peer.
Result<Spawned> spawnExec(ExecConfig& cfg, Channel& parent, Channel& child);

}  // namespace berth::process
