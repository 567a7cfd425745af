#include "security/seccomp.hpp"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>

#include "common/log.hpp"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif

namespace berth::security {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

std::string at(const std::string& base, size_t i) { return base + "[" + std::to_string(i) + "]"; }
std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// libseccomp returns -errno.
Error scmpError(const std::string& what, int rc) { return Error(what, -rc); }

// Real Linux syscalls that Debian 12's libseccomp (2.5.4) has no number for.
// Profiles such as Docker's list them; refusing them would refuse those
// profiles, so they are left to the default action, which is what a
// runtime built against that libseccomp can do. Any other unknown name is a
// typo and an error.
const std::vector<std::string>& newerSyscalls() {
  static const std::vector<std::string> names = {
      "cachestat",        "fchmodat2",          "map_shadow_stack", "futex_wake",       "futex_wait",
      "futex_requeue",    "statmount",          "listmount",        "lsm_get_self_attr", "lsm_set_self_attr",
      "lsm_list_modules", "mseal",              "setxattrat",       "getxattrat",       "listxattrat",
      "removexattrat",    "open_tree_attr",     "uretprobe",        "set_mempolicy_home_node",
      "memfd_secret",     "process_mrelease",   "futex_waitv",      "file_getattr",     "file_setattr",
      "uprobe"};
  return names;
}

Result<uint32_t> archToken(const std::string& name) {
  static const std::string prefix = "SCMP_ARCH_";
  if (name.compare(0, prefix.size(), prefix) != 0) return Error("unknown architecture " + quoted(name));
  std::string lower = name.substr(prefix.size());
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  uint32_t token = seccomp_arch_resolve_name(lower.c_str());
  if (token == 0) return Error("architecture " + quoted(name) + " is not supported by this libseccomp");
  return token;
}

Result<scmp_compare> compareOp(const std::string& op) {
  static const std::map<std::string, scmp_compare> ops = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
  auto it = ops.find(op);
  if (it == ops.end()) return Error("unknown operator " + quoted(op));
  return it->second;
}

Result<unsigned> filterFlag(const std::string& flag) {
  static const std::map<std::string, unsigned> flags = {
      {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
      {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
      {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
      {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV}};
  auto it = flags.find(flag);
  if (it == flags.end()) return Error("unknown flag " + quoted(flag));
  return it->second;
}

Result<scmp_arg_cmp> argCompare(const spec::SeccompArg& a, const std::string& path) {
  if (a.index > 5) return Error(path + ".index: " + std::to_string(a.index) + " is out of range (0-5)");
  scmp_compare op = TRY_CTX(compareOp(a.op), path + ".op");
  scmp_arg_cmp c{};
  c.arg = a.index;
  c.op = op;
  c.datum_a = a.value;
  c.datum_b = a.valueTwo.value_or(0);
  return c;
}

// Several conditions on one argument cannot be ANDed by libseccomp; like
// runc, such a rule becomes one rule per condition (ORed). Conditions on
// distinct arguments form one rule (ANDed).
Status addRules(void* ctx, int nr, uint32_t action, const std::vector<scmp_arg_cmp>& conds) {
  if (conds.empty()) {
    int rc = seccomp_rule_add(ctx, action, nr, 0);
    return rc == 0 ? Status{} : Status(scmpError("add rule", rc));
  }
  bool repeated = false;
  for (size_t i = 0; i < conds.size(); ++i)
    for (size_t j = i + 1; j < conds.size(); ++j) repeated = repeated || conds[i].arg == conds[j].arg;
  if (!repeated) {
    int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(conds.size()), conds.data());
    return rc == 0 ? Status{} : Status(scmpError("add rule", rc));
  }
  for (const auto& c : conds) {
    int rc = seccomp_rule_add_array(ctx, action, nr, 1, &c);
    if (rc != 0) return scmpError("add rule", rc);
  }
  return {};
}

Result<std::vector<sock_filter>> exportBpf(void* ctx) {
  UniqueFd mem(::memfd_create("berth-seccomp", MFD_CLOEXEC));
  if (!mem) return Error::fromErrno("memfd_create");
  if (int rc = seccomp_export_bpf(ctx, mem.get()); rc != 0) return scmpError("export filter", rc);
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) return Error("export filter: bad program size");
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.get(), prog.data(), static_cast<size_t>(size), 0) != size) return Error::fromErrno("read filter");
  if (prog.size() > BPF_MAXINSNS) return Error("filter has " + std::to_string(prog.size()) + " instructions, more than the kernel's 4096");
  return prog;
}

}  // namespace

Result<uint32_t> seccompAction(const std::string& name, std::optional<uint32_t> errnoRet) {
  // Without errnoRet the spec's default is EPERM (for ERRNO and TRACE).
  uint16_t ret = static_cast<uint16_t>(errnoRet.value_or(EPERM));
  if (errnoRet && *errnoRet > 0xffff) return Error("errnoRet " + std::to_string(*errnoRet) + " is out of range");
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(ret);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(ret);
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") return SCMP_ACT_NOTIFY;
  return Error("unknown action " + quoted(name));
}

SeccompLoadPoint seccompLoadPoint(const SeccompProgram& prog, bool noNewPrivileges) {
  if (prog.notify) return SeccompLoadPoint::BeforeReady;
  return noNewPrivileges ? SeccompLoadPoint::BeforeExec : SeccompLoadPoint::BeforeCapabilities;
}

Result<SeccompProgram> buildSeccomp(const spec::Seccomp& sc) {
  const std::string base = "linux.seccomp";
  SeccompProgram out;
  uint32_t defaultAction =
      TRY_CTX(seccompAction(sc.defaultAction, sc.defaultErrnoRet), base + ".defaultAction");
  out.notify = defaultAction == SCMP_ACT_NOTIFY;
  Ctx ctx(seccomp_init(defaultAction));
  if (!ctx) return Error(base + ".defaultAction: libseccomp refused " + quoted(sc.defaultAction));
  // The init sets no_new_privs itself when the config asks; libseccomp's
  // default would force it on. The load is ours (seccomp(2)), but keep the
  // exported program independent of that attribute anyway.
  (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  // A binary tree of syscall numbers: big allow lists (Docker's ~400 names)
  // then cost a few comparisons per syscall instead of hundreds.
  (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);

  for (size_t i = 0; i < sc.architectures.size(); ++i) {
    uint32_t token = TRY_CTX(archToken(sc.architectures[i]), at(base + ".architectures", i));
    int rc = seccomp_arch_add(ctx.get(), token);
    if (rc != 0 && rc != -EEXIST) return scmpError(at(base + ".architectures", i) + ": add", rc);
  }
  for (size_t i = 0; i < sc.flags.size(); ++i) out.flags |= TRY_CTX(filterFlag(sc.flags[i]), at(base + ".flags", i));

  for (size_t i = 0; i < sc.syscalls.size(); ++i) {
    const spec::SeccompSyscall& call = sc.syscalls[i];
    const std::string path = at(base + ".syscalls", i);
    uint32_t action = TRY_CTX(seccompAction(call.action, call.errnoRet), path + ".action");
    out.notify = out.notify || action == SCMP_ACT_NOTIFY;
    std::vector<scmp_arg_cmp> conds;
    for (size_t a = 0; a < call.args.size(); ++a)
      conds.push_back(TRY(argCompare(call.args[a], at(path + ".args", a))));
    for (size_t n = 0; n < call.names.size(); ++n) {
      const std::string& name = call.names[n];
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        const auto& newer = newerSyscalls();
        if (std::find(newer.begin(), newer.end(), name) != newer.end()) {
          out.skipped.push_back(name);
          continue;
        }
        return Error(at(path + ".names", n) + ": unknown syscall " + quoted(name));
      }
      // libseccomp refuses a rule that repeats the default action; it would
      // change nothing anyway.
      if (action == defaultAction) continue;
      TRY_CTX(addRules(ctx.get(), nr, action, conds), at(path + ".names", n) + " " + quoted(name));
    }
  }
  out.bpf = TRY_CTX(exportBpf(ctx.get()), base);
  return out;
}

Result<UniqueFd> loadSeccomp(const SeccompProgram& prog) {
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(prog.bpf.size());
  fprog.filter = const_cast<sock_filter*>(prog.bpf.data());
  unsigned long flags = prog.flags;
  if (prog.notify) {
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // TSYNC would otherwise report a thread id where the listener fd goes.
    if (flags & SECCOMP_FILTER_FLAG_TSYNC) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (rc < 0) return Error::fromErrno("linux.seccomp: load filter");
  if (prog.notify) return UniqueFd(static_cast<int>(rc));
  return UniqueFd();
}

std::string containerProcessState(const std::string& ociVersion, int pid, const std::optional<std::string>& metadata,
                                  const std::string& stateJson) {
  auto str = [](const std::string& s) {
    std::string o = "\"";
    for (unsigned char c : s) {
      switch (c) {
        case '"': o += "\\\""; break;
        case '\\': o += "\\\\"; break;
        case '\n': o += "\\n"; break;
        case '\r': o += "\\r"; break;
        case '\t': o += "\\t"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            o += buf;
          } else {
            o += static_cast<char>(c);
          }
      }
    }
    return o + "\"";
  };
  std::string out = "{\"ociVersion\":" + str(ociVersion) + ",\"fds\":[\"seccompFd\"],\"pid\":" + std::to_string(pid);
  if (metadata) out += ",\"metadata\":" + str(*metadata);
  out += ",\"state\":" + stateJson + "}";
  return out;
}

Status sendToSeccompListener(const std::string& listenerPath, int notifyFd, const std::string& processState) {
  sockaddr_un addr{};
  if (listenerPath.size() >= sizeof addr.sun_path) return Error(listenerPath + ": path too long for a unix socket");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, listenerPath.c_str(), listenerPath.size() + 1);
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::fromErrno("socket");
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Error::fromErrno("connect " + listenerPath);

  // The fd travels with the first byte; the rest may follow in later sends.
  size_t sent = 0;
  while (sent < processState.size()) {
    iovec iov{const_cast<char*>(processState.data() + sent), processState.size() - sent};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (sent == 0) {
      mh.msg_control = control;
      mh.msg_controllen = sizeof control;
      cmsghdr* cm = CMSG_FIRSTHDR(&mh);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(cm), &notifyFd, sizeof(int));
    }
    ssize_t n = ::sendmsg(sock.get(), &mh, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno("send to " + listenerPath);
    }
    sent += static_cast<size_t>(n);
  }
  return {};
}

}  // namespace berth::security
