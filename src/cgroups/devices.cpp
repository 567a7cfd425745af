// devices: v1 devices.allow/devices.deny lines; v2 an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup, written by hand here.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "cgroups/controllers.hpp"
#include "common/unique_fd.hpp"

namespace berth::cgroups {

Result<std::vector<DeviceRule>> deviceRules(const std::vector<spec::DeviceCgroup>& rules) {
  std::vector<DeviceRule> out;
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    std::string f = "devices[" + std::to_string(i) + "]";
    DeviceRule d;
    d.allow = r.allow;
    std::string type = r.type.value_or("a");
    if (type != "a" && type != "c" && type != "b")
      return fieldError(f + ".type", "invalid type \"" + type + "\" (a, c or b)");
    d.type = type[0];
    if (r.major && *r.major < -1) return fieldError(f + ".major", "invalid value " + std::to_string(*r.major));
    if (r.minor && *r.minor < -1) return fieldError(f + ".minor", "invalid value " + std::to_string(*r.minor));
    if ((r.major && *r.major > 0xfff) || (r.minor && *r.minor > 0xfffff))
      return fieldError(f, "device number out of range");
    d.major = r.major.value_or(-1);
    d.minor = r.minor.value_or(-1);
    d.access = r.access.value_or("rwm");
    if (d.access.empty()) d.access = "rwm";
    for (char c : d.access)
      if (c != 'r' && c != 'w' && c != 'm')
        return fieldError(f + ".access", "invalid access \"" + d.access + "\" (letters of rwm)");
    out.push_back(d);
  }
  return out;
}

Status validateDevices(const std::vector<spec::DeviceCgroup>& rules) {
  TRY(deviceRules(rules));
  return {};
}

std::string deviceRuleLine(const DeviceRule& r) {
  auto num = [](int64_t v) { return v < 0 ? std::string("*") : std::to_string(v); };
  return std::string(1, r.type) + " " + num(r.major) + ":" + num(r.minor) + " " + r.access;
}

Status setDevicesV1(const Dir& d, const std::vector<spec::DeviceCgroup>& rules) {
  auto parsed = TRY(deviceRules(rules));
  if (!d.valid()) return fieldError("devices", "the host has no devices cgroup controller");
  // In order, as the spec requires; the kernel's list semantics do the rest.
  // Each write is one rule, so each file is opened once (a deny-all and the
  // default allow list are a dozen rules per container).
  UniqueFd allow, deny;
  for (size_t i = 0; i < parsed.size(); ++i) {
    const char* file = parsed[i].allow ? "devices.allow" : "devices.deny";
    UniqueFd& fd = parsed[i].allow ? allow : deny;
    const std::string field = "devices[" + std::to_string(i) + "]";
    const std::string rule = deviceRuleLine(parsed[i]);
    const std::string line = rule + "\n";  // the kernel strips it; a fake cgroupfs keeps a readable log
    if (!fd) fd.reset(::open((d.path() + "/" + file).c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return Error::fromErrno("open " + std::string(file)).context(kRes + field);
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      return Error::fromErrno("write \"" + rule + "\" to " + file).context(kRes + field);
  }
  return {};
}

namespace {

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

unsigned accessBits(const std::string& access) {
  unsigned bits = 0;
  for (char c : access) bits |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  return bits;
}

constexpr unsigned kAllAccess = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

bool isReset(const DeviceRule& r) {
  return r.type == 'a' && r.major < 0 && r.minor < 0 && accessBits(r.access) == kAllAccess;
}

}  // namespace

std::vector<bpf_insn> deviceProgram(const std::vector<DeviceRule>& rules) {
  // v1 semantics: a cgroup starts allowing everything; "a *:* rwm" resets to
  // allow-all or deny-all; other rules are exceptions, the later ones win.
  bool defaultAllow = true;
  std::vector<DeviceRule> effective;
  for (const auto& r : rules) {
    if (isReset(r)) {
      defaultAllow = r.allow;
      effective.clear();
    } else {
      effective.push_back(r);
    }
  }
  // Registers: r2 = device type, r3 = access, r4 = major, r5 = minor
  // (struct bpf_cgroup_dev_ctx: access_type = access << 16 | type).
  std::vector<bpf_insn> p;
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0));
  p.push_back(insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0));
  p.push_back(insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0));
  p.push_back(insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0));
  // Last rule first: the first match decides, so later rules win.
  for (auto it = effective.rbegin(); it != effective.rend(); ++it) {
    const DeviceRule& r = *it;
    std::vector<bpf_insn> block;
    // Each jump's offset is patched to the block's end once its size is known.
    std::vector<size_t> jumps;
    if (r.type != 'a') {
      int t = r.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
      jumps.push_back(block.size());
      block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0, t));
    }
    unsigned acc = accessBits(r.access);
    if (acc != kAllAccess) {
      block.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_3, 0, 0));
      if (r.allow) {
        // allows only if every requested access is in the rule
        block.push_back(insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_6, 0, 0, static_cast<int32_t>(~acc & kAllAccess)));
        jumps.push_back(block.size());
        block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_6, 0, 0, 0));
      } else {
        // denies if any requested access is in the rule
        block.push_back(insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_6, 0, 0, static_cast<int32_t>(acc)));
        jumps.push_back(block.size());
        block.push_back(insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_6, 0, 0, 0));
      }
    }
    if (r.major >= 0) {
      jumps.push_back(block.size());
      block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, static_cast<int32_t>(r.major)));
    }
    if (r.minor >= 0) {
      jumps.push_back(block.size());
      block.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, static_cast<int32_t>(r.minor)));
    }
    block.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r.allow ? 1 : 0));
    block.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    for (size_t j : jumps) block[j].off = static_cast<int16_t>(block.size() - j - 1);
    p.insert(p.end(), block.begin(), block.end());
  }
  p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, defaultAllow ? 1 : 0));
  p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  return p;
}

namespace {

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

// The ids of the device programs attached to the cgroup now.
Result<std::vector<uint32_t>> attachedPrograms(int cgroupFd) {
  std::vector<uint32_t> ids(64);
  bpf_attr attr{};
  attr.query.target_fd = static_cast<uint32_t>(cgroupFd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
  attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (bpf(BPF_PROG_QUERY, attr) != 0) return Error::fromErrno("query attached device programs");
  ids.resize(attr.query.prog_cnt);
  return ids;
}

}  // namespace

Status setDevicesV2(const Dir& d, const std::vector<spec::DeviceCgroup>& rules) {
  auto parsed = TRY(deviceRules(rules));
  auto prog = deviceProgram(parsed);
  UniqueFd cg(::open(d.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg) return fieldError("devices", "open " + d.path(), errno);
  auto old = TRY_CTX(attachedPrograms(cg.get()), kRes + "devices");

  static const char license[] = "Apache-2.0";
  auto load = [&](std::string* log) {
    bpf_attr a{};
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = reinterpret_cast<uint64_t>(prog.data());
    a.insn_cnt = static_cast<uint32_t>(prog.size());
    a.license = reinterpret_cast<uint64_t>(license);
    if (log) {
      a.log_buf = reinterpret_cast<uint64_t>(log->data());
      a.log_size = static_cast<uint32_t>(log->size());
      a.log_level = 1;
    }
    return UniqueFd(static_cast<int>(bpf(BPF_PROG_LOAD, a)));
  };
  // Without a log first: a verifier log that outgrows its buffer fails the
  // load with ENOSPC even for a valid program (kernel 6.x logs per insn).
  UniqueFd progFd = load(nullptr);
  if (!progFd) {
    int err = errno;
    std::string log(1 << 16, '\0');
    if (UniqueFd again = load(&log); again) {
      progFd = std::move(again);
    } else {
      log.resize(std::strlen(log.c_str()));
      if (log.size() > 512) log = "..." + log.substr(log.size() - 512);
      return fieldError("devices", std::string("load device program") + (log.empty() ? "" : ": " + log), err);
    }
  }
  // Attach the new program before detaching the old ones: in between both
  // apply (the stricter wins), so there is no moment without a filter.
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(cg.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(progFd.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, attach) != 0) return fieldError("devices", "attach device program", errno);
  for (uint32_t id : old) {
    bpf_attr get{};
    get.prog_id = id;
    UniqueFd oldFd(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, get)));
    if (!oldFd) continue;  // already gone
    bpf_attr detach{};
    detach.target_fd = static_cast<uint32_t>(cg.get());
    detach.attach_bpf_fd = static_cast<uint32_t>(oldFd.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, detach) != 0) return fieldError("devices", "detach the previous device program", errno);
  }
  return {};
}

}  // namespace berth::cgroups
