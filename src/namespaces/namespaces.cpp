#include "namespaces/namespaces.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "common/syscalls.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace berth::namespaces {
namespace {

struct NsType {
  const char* name;
  int flag;
};

// The spec's names, in the order joins happen (user first, mount last so the
// other paths are still reachable -- they are opened up front anyway).
constexpr NsType kTypes[] = {
    {"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS},   {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},   {"mount", CLONE_NEWNS},
};

int flagFor(const std::string& name) {
  for (const auto& t : kTypes)
    if (name == t.name) return t.flag;
  return 0;
}

std::string mapText(const std::vector<spec::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps)
    out += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " + std::to_string(m.size) + "\n";
  return out;
}

// An unprivileged caller may write only its own id, one to one; anything
// more goes through the setuid helpers, which check /etc/subuid and /etc/subgid.
bool needsSetuidHelper(const std::vector<spec::IdMapping>& maps, uint32_t ownId) {
  if (::geteuid() == 0 || maps.empty()) return false;
  return !(maps.size() == 1 && maps[0].hostID == ownId && maps[0].size == 1);
}

// Runs `tool PID cid hid size ...` (newuidmap/newgidmap from the uidmap
// package). Their stderr becomes the error, first line only: they print one
// line saying which range was refused.
Status runIdMapTool(const char* tool, pid_t pid, const std::vector<spec::IdMapping>& maps) {
  std::vector<std::string> words = {tool, std::to_string(pid)};
  for (const auto& m : maps) {
    words.push_back(std::to_string(m.containerID));
    words.push_back(std::to_string(m.hostID));
    words.push_back(std::to_string(m.size));
  }
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Error::fromErrno(std::string(tool) + ": pipe");
  UniqueFd readEnd(p[0]), writeEnd(p[1]);
  pid_t child = ::fork();
  if (child < 0) return Error::fromErrno(std::string(tool) + ": fork");
  if (child == 0) {
    // dup2 clears O_CLOEXEC on the copies only.
    ::dup2(writeEnd.get(), STDOUT_FILENO);
    ::dup2(writeEnd.get(), STDERR_FILENO);
    ::execvp(tool, argv.data());
    static const char msg[] = "cannot run it (is the uidmap package installed?)\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(127);
  }
  writeEnd.reset();
  // What it printed is only for the error message: a failed read leaves it empty.
  std::string output = sys::readAll(readEnd.get(), std::string("the output of ") + tool).valueOr("");
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::string line = output.substr(0, output.find('\n'));
  // The tools prefix their own name ("newuidmap: ..."); keep one prefix.
  std::string prefix = std::string(tool) + ": ";
  if (line.compare(0, prefix.size(), prefix) == 0) line = line.substr(prefix.size());
  if (line.empty()) line = WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status)) : "killed by a signal";
  return Error(prefix + line, EPERM);
}

}  // namespace

const char* nsName(int nstype) {
  for (const auto& t : kTypes)
    if (t.flag == nstype) return t.name;
  return "unknown";
}

bool Plan::has(int nstype) const {
  if (newFlags & nstype) return true;
  if (nstype == CLONE_NEWTIME && newTime) return true;
  for (const auto& j : joins)
    if (j.nstype == nstype) return true;
  return false;
}

Result<Plan> makePlan(const std::optional<spec::Linux>& linux) {
  Plan plan;
  if (!linux) return plan;
  int seen = 0;
  for (size_t i = 0; i < linux->namespaces.size(); ++i) {
    const auto& ns = linux->namespaces[i];
    std::string where = "linux.namespaces[" + std::to_string(i) + "]";
    int flag = flagFor(ns.type);
    if (flag == 0) return Error(where + ".type: unknown namespace type \"" + ns.type + "\"");
    if (seen & flag) return Error(where + ".type: namespace \"" + ns.type + "\" listed twice");
    seen |= flag;
    if (ns.path && !ns.path->empty()) {
      plan.joins.push_back({flag, *ns.path});
      if (flag == CLONE_NEWUSER) plan.joinUser = true;
      if (flag == CLONE_NEWPID) plan.joinPid = true;
    } else if (flag == CLONE_NEWTIME) {
      plan.newTime = true;
    } else {
      plan.newFlags |= flag;
    }
  }
  // User first: everything else joined or created after it is owned by it.
  std::stable_sort(plan.joins.begin(), plan.joins.end(),
                   [](const Join& a, const Join& b) { return a.nstype == CLONE_NEWUSER && b.nstype != CLONE_NEWUSER; });
  plan.newUser = plan.newFlags & CLONE_NEWUSER;
  plan.newPid = plan.newFlags & CLONE_NEWPID;
  plan.newMount = plan.newFlags & CLONE_NEWNS;
  plan.newUts = plan.newFlags & CLONE_NEWUTS;
  plan.newNet = plan.newFlags & CLONE_NEWNET;
  plan.newCgroup = plan.newFlags & CLONE_NEWCGROUP;
  return plan;
}

Result<std::vector<UniqueFd>> openJoins(const Plan& plan) {
  std::vector<UniqueFd> fds;
  for (const auto& j : plan.joins) {
    UniqueFd fd(::open(j.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::fromErrno(std::string("open ") + nsName(j.nstype) + " namespace " + j.path);
    fds.push_back(std::move(fd));
  }
  return fds;
}

Status enterJoins(const Plan& plan, const std::vector<UniqueFd>& fds) {
  for (size_t i = 0; i < plan.joins.size(); ++i) {
    if (::setns(fds[i].get(), plan.joins[i].nstype) != 0)
      return Error::fromErrno(std::string("join ") + nsName(plan.joins[i].nstype) + " namespace " +
                              plan.joins[i].path);
  }
  return {};
}

Status writeIdMaps(pid_t pid, const std::vector<spec::IdMapping>& uidMaps,
                   const std::vector<spec::IdMapping>& gidMaps) {
  std::string base = "/proc/" + std::to_string(pid) + "/";
  if (needsSetuidHelper(uidMaps, ::geteuid()))
    TRY_CTX(runIdMapTool("newuidmap", pid, uidMaps), "linux.uidMappings");
  else if (!uidMaps.empty())
    TRY_CTX(sys::writeFile(base + "uid_map", mapText(uidMaps)), "write uid mappings");
  if (needsSetuidHelper(gidMaps, ::getegid())) {
    // newgidmap decides about setgroups itself (it keeps it allowed when the
    // subgid range permits, so the container can still setgroups()).
    TRY_CTX(runIdMapTool("newgidmap", pid, gidMaps), "linux.gidMappings");
  } else if (!gidMaps.empty()) {
    // Without CAP_SETGID over the parent namespace the kernel only accepts a
    // gid_map once setgroups is denied (user_namespaces(7)).
    if (::geteuid() != 0) (void)sys::writeFile(base + "setgroups", "deny");
    TRY_CTX(sys::writeFile(base + "gid_map", mapText(gidMaps)), "write gid mappings");
  }
  return {};
}

Status enterNewTimeNamespace(const std::map<std::string, spec::TimeOffset>& offsets) {
  if (::unshare(CLONE_NEWTIME) != 0) return Error::fromErrno("unshare time namespace");
  std::string text;
  for (const auto& [clock, off] : offsets)
    text += clock + " " + std::to_string(off.secs) + " " + std::to_string(off.nanosecs) + "\n";
  if (!text.empty()) TRY_CTX(sys::writeFile("/proc/self/timens_offsets", text), "linux.timeOffsets");
  UniqueFd fd(::open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::fromErrno("open /proc/self/ns/time_for_children");
  if (::setns(fd.get(), CLONE_NEWTIME) != 0) return Error::fromErrno("enter time namespace");
  return {};
}

}  // namespace berth::namespaces
