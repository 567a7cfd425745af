#include "cgroups/resctrl.hpp"

#include <sstream>

#include "common/syscalls.hpp"

namespace berth::cgroups {

bool resctrlMounted(const std::string& mountinfo) {
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    // mountinfo: id parent maj:min root mountpoint options [optional...] - fstype source super
    std::istringstream f(line);
    std::string id, parent, dev, root, point, word;
    if (!(f >> id >> parent >> dev >> root >> point)) continue;
    while (f >> word && word != "-") {
    }
    std::string fstype;
    if (word == "-" && (f >> fstype) && fstype == "resctrl" && point == kResctrlMount) return true;
  }
  return false;
}

bool resctrlKnown(const std::string& filesystems) {
  std::istringstream in(filesystems);
  std::string line;
  while (std::getline(in, line)) {
    // "nodev\tresctrl" or "\tresctrl"
    auto tab = line.rfind('\t');
    std::string name = tab == std::string::npos ? line : line.substr(tab + 1);
    if (name == "resctrl") return true;
  }
  return false;
}

Status checkIntelRdt(const spec::Spec& spec) {
  if (!spec.linux || !spec.linux->intelRdt) return {};
  const std::string notMounted = std::string("resctrl is not mounted at ") + kResctrlMount;
  auto fss = sys::readFile("/proc/filesystems");
  if (fss && !resctrlKnown(*fss))
    return Error("linux.intelRdt: " + notMounted + " (this kernel has no resctrl filesystem)");
  auto mi = sys::readFile("/proc/self/mountinfo");
  if (!mi) return std::move(mi).error().context("linux.intelRdt");
  if (!resctrlMounted(*mi)) return Error("linux.intelRdt: " + notMounted);
  return Error("linux.intelRdt: berth does not support resctrl groups yet");
}

}  // namespace berth::cgroups
