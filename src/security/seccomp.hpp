// linux.seccomp: the filter is compiled to classic BPF in the parent, before
// clone, with libseccomp; the init only hands the finished program to the
// seccomp(2) syscall. So a bad profile fails `create` before any process
// exists, and the cloned child runs no libseccomp code (no allocation, no
// kernel probing) at the point where every syscall it makes is filtered.
//
// When the filter is loaded (the init decides, see seccompLoadPoint):
//   - a profile with SCMP_ACT_NOTIFY: before the init reports Ready, while the
//     parent still listens, because the notify fd must reach the listener
//     during `create` (runtime-spec config-linux.md, listenerPath);
//   - no_new_privs false: before capabilities are dropped, as runc does,
//     since without no_new_privs loading a filter needs CAP_SYS_ADMIN;
//   - otherwise last, right before execve, so the fewest syscalls of our own
//     have to pass the user's filter.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "spec/model.hpp"

namespace berth::security {

struct SeccompProgram {
  std::vector<sock_filter> bpf;
  unsigned flags = 0;   // SECCOMP_FILTER_FLAG_*, passed to seccomp(2) as is
  bool notify = false;  // some action is SCMP_ACT_NOTIFY: loading yields a listener fd
  std::vector<std::string> skipped;  // names libseccomp does not know but that are real (newer) syscalls
};

enum class SeccompLoadPoint {
  BeforeReady,         // notify: the parent must receive the listener fd
  BeforeCapabilities,  // no_new_privs false: still CAP_SYS_ADMIN
  BeforeExec,          // the last thing before execve
};

SeccompLoadPoint seccompLoadPoint(const SeccompProgram& prog, bool noNewPrivileges);

// Compiles the profile. Errors name the field:
//   linux.seccomp.syscalls[2].names[0]: unknown syscall "foo"
Result<SeccompProgram> buildSeccomp(const spec::Seccomp& profile);

// Translates one action name (+ errnoRet) to libseccomp's action value.
Result<uint32_t> seccompAction(const std::string& name, std::optional<uint32_t> errnoRet);

// Installs the program on the calling thread. Async-signal-safe apart from
// building the Error: safe in the cloned init. Returns the notify listener
// fd when prog.notify, an empty UniqueFd otherwise.
Result<UniqueFd> loadSeccomp(const SeccompProgram& prog);

// The container process state of runtime-spec config-linux.md, as JSON:
// {"ociVersion","fds":["seccompFd"],"pid","metadata","state"}. `stateJson` is
// the container's state document, embedded verbatim.
std::string containerProcessState(const std::string& ociVersion, int pid, const std::optional<std::string>& metadata,
                                  const std::string& stateJson);

// Connects to listenerPath (AF_UNIX, SOCK_STREAM), sends the process state
// with notifyFd as SCM_RIGHTS in the same sendmsg, and closes the connection.
Status sendToSeccompListener(const std::string& listenerPath, int notifyFd, const std::string& processState);

}  // namespace berth::security
