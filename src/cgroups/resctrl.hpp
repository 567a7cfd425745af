// linux.intelRdt: Intel RDT through the resctrl filesystem.
//
// The spec makes a missing resctrl mount an error (config-linux.md,
// "IntelRdt"); berth checks that before anything is created. Placing a
// container in a resctrl group is not implemented yet (`features` says
// intelRdt is disabled), so a host that does have resctrl gets an error
// too, rather than a container silently left in the default class.
#pragma once

#include <string>

#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::cgroups {

inline constexpr const char* kResctrlMount = "/sys/fs/resctrl";

// Whether a resctrl filesystem is mounted at /sys/fs/resctrl, judged from
// the text of /proc/self/mountinfo.
bool resctrlMounted(const std::string& mountinfo);
// Whether the kernel knows resctrl, from the text of /proc/filesystems.
bool resctrlKnown(const std::string& filesystems);

// Fails when the config has linux.intelRdt: `linux.intelRdt: resctrl is not
// mounted at /sys/fs/resctrl`. Reads the host's /proc.
Status checkIntelRdt(const spec::Spec& spec);

}  // namespace berth::cgroups
