#include "spec/known.hpp"

#include <algorithm>

#include "spec/validate.hpp"

namespace berth::spec {

bool contains(const NameList& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// In kernel numbering order, 0 (CAP_CHOWN) to 40 (CAP_CHECKPOINT_RESTORE,
// CAP_LAST_CAP since Linux 5.9 and still in 6.x).
const NameList& knownCapabilities() {
  static const NameList names = {
      "CAP_CHOWN",           "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
      "CAP_FSETID",          "CAP_KILL",          "CAP_SETGID",          "CAP_SETUID",
      "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
      "CAP_NET_ADMIN",       "CAP_NET_RAW",       "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
      "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",     "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
      "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",
      "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",      "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
      "CAP_LEASE",           "CAP_AUDIT_WRITE",   "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
      "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",     "CAP_SYSLOG",          "CAP_WAKE_ALARM",
      "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",    "CAP_PERFMON",         "CAP_BPF",
      "CAP_CHECKPOINT_RESTORE"};
  return names;
}

const NameList& knownNamespaceTypes() {
  static const NameList names = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
  return names;
}

const NameList& knownRlimitTypes() {
  static const NameList names = {
      "RLIMIT_CPU",     "RLIMIT_FSIZE",      "RLIMIT_DATA",     "RLIMIT_STACK",
      "RLIMIT_CORE",    "RLIMIT_RSS",        "RLIMIT_NPROC",    "RLIMIT_NOFILE",
      "RLIMIT_MEMLOCK", "RLIMIT_AS",         "RLIMIT_LOCKS",    "RLIMIT_SIGPENDING",
      "RLIMIT_MSGQUEUE", "RLIMIT_NICE",      "RLIMIT_RTPRIO",   "RLIMIT_RTTIME"};
  return names;
}

const NameList& knownSeccompActions() {
  static const NameList names = {"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                 "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
                                 "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};
  return names;
}

const NameList& knownSeccompOperators() {
  static const NameList names = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                 "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
  return names;
}

const NameList& knownSeccompArchs() {
  static const NameList names = [] {
    NameList n = supportedSeccompArchs();
    for (const char* a : {"SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB"})
      n.emplace_back(a);
    return n;
  }();
  return names;
}

// Debian 12 ships libseccomp 2.5.4; the four others arrived in 2.6.
const NameList& supportedSeccompArchs() {
  static const NameList names = {
      "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
      "SCMP_ARCH_AARCH64",  "SCMP_ARCH_MIPS",      "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
      "SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64",  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
      "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
      "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64",  "SCMP_ARCH_RISCV64"};
  return names;
}

const NameList& knownSeccompFlags() {
  static const NameList names = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                 "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                 "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  return names;
}

// libseccomp 2.5 has filter attributes for these three (CTL_TSYNC, CTL_LOG,
// CTL_SSB); WAIT_KILLABLE_RECV needs 2.6.
const NameList& supportedSeccompFlags() {
  static const NameList names = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                 "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  return names;
}

const NameList& knownSchedulerPolicies() {
  static const NameList names = {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",      "SCHED_BATCH",
                                 "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE"};
  return names;
}

const NameList& knownSchedulerFlags() {
  static const NameList names = {"SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",
                                 "SCHED_FLAG_DL_OVERRUN",     "SCHED_FLAG_KEEP_POLICY",
                                 "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
                                 "SCHED_FLAG_UTIL_CLAMP_MAX"};
  return names;
}

const NameList& knownIoPriorityClasses() {
  static const NameList names = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"};
  return names;
}

const NameList& knownMemoryPolicyModes() {
  static const NameList names = {"MPOL_DEFAULT",   "MPOL_BIND",          "MPOL_INTERLEAVE",
                                 "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED", "MPOL_PREFERRED_MANY",
                                 "MPOL_LOCAL"};
  return names;
}

const NameList& knownMemoryPolicyFlags() {
  static const NameList names = {"MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"};
  return names;
}

const NameList& knownPersonalityDomains() {
  static const NameList names = {"LINUX", "LINUX32"};
  return names;
}

// The spec lists four values; runc also takes the recursive spellings, which
// existing configs use, and they mean the same for a root mount.
const NameList& knownRootfsPropagations() {
  static const NameList names = {"shared",  "slave",  "private",  "unbindable",
                                 "rshared", "rslave", "rprivate", "runbindable"};
  return names;
}

const NameList& hookNames() {
  static const NameList names = {"prestart",       "createRuntime", "createContainer",
                                 "startContainer", "poststart",     "poststop"};
  return names;
}

// Keep in step with the fs module's option table.
const NameList& supportedMountOptions() {
  static const NameList names = {
      "ro",       "rw",         "suid",      "nosuid",      "dev",        "nodev",    "exec",
      "noexec",   "sync",       "async",     "dirsync",     "remount",    "mand",     "nomand",
      "atime",    "noatime",    "diratime",  "nodiratime",  "relatime",   "norelatime",
      "strictatime", "nostrictatime", "bind", "rbind",      "private",    "rprivate", "shared",
      "rshared",  "slave",      "rslave",    "unbindable",  "runbindable", "tmpcopyup",
      "lazytime", "nolazytime"};
  return names;
}

}  // namespace berth::spec
