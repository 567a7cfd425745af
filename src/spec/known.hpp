// The value sets runtime-spec 1.3 (and Linux 6.x) define, in one place so the
// validator and `features` cannot disagree. "known" = the spec defines it;
// "supported" = this build implements it (features reports those).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::spec {

using NameList = std::vector<std::string>;

bool contains(const NameList& names, std::string_view name);

// knownCapabilities() is declared in validate.hpp (its historical home).
const NameList& knownNamespaceTypes();      // pid network mount ipc uts user cgroup time
const NameList& knownRlimitTypes();         // RLIMIT_*
const NameList& knownSeccompActions();      // SCMP_ACT_*
const NameList& knownSeccompOperators();    // SCMP_CMP_*
const NameList& knownSeccompArchs();        // every SCMP_ARCH_* the spec lists
const NameList& supportedSeccompArchs();    // the subset libseccomp 2.5 knows
const NameList& knownSeccompFlags();        // SECCOMP_FILTER_FLAG_*
const NameList& supportedSeccompFlags();    // the subset libseccomp 2.5 can set
const NameList& knownSchedulerPolicies();   // SCHED_*
const NameList& knownSchedulerFlags();      // SCHED_FLAG_*
const NameList& knownIoPriorityClasses();   // IOPRIO_CLASS_*
const NameList& knownMemoryPolicyModes();   // MPOL_*
const NameList& knownMemoryPolicyFlags();   // MPOL_F_*
const NameList& knownPersonalityDomains();  // LINUX LINUX32
const NameList& knownRootfsPropagations();  // shared slave private unbindable (+ r* forms)
const NameList& hookNames();                // the six hook kinds, in lifecycle order
const NameList& supportedMountOptions();    // what the fs module implements

}  // namespace berth::spec
