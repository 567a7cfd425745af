// linux.netDevices: host interfaces moved into the container's network
// namespace by the parent, after the init exists and before it mounts
// anything (so hooks and the user program both see them).
//
// What runtime-spec 1.3 asks, and how it is met:
//  - the device is renamed to `name` when given; a name already taken in the
//    container's namespace is an error unless it is a "%d" template (the
//    kernel then picks a free one);
//  - permanent (IFA_F_PERMANENT) addresses of global scope are preserved:
//    the kernel drops every address when a device changes namespace, so they
//    are read before the move and added again inside;
//  - the device is set up once inside;
//  - the runtime never moves it back: when the namespace dies the kernel
//    returns physical devices to the initial namespace and destroys virtual
//    ones (veth, dummy, macvlan, ...). The one exception is a create that
//    fails half-way: devices already moved go back under their host names,
//    so a failed create leaves the host as it found it.
//
// Talks rtnetlink directly: one NETLINK_ROUTE socket in the runtime's own
// namespace and one opened inside the container's (a netlink socket stays
// bound to the namespace it was created in).
#pragma once

#include <linux/if_addr.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "namespaces/namespaces.hpp"
#include "spec/model.hpp"

namespace berth::namespaces {

// Moves every device in `devices` into the network namespace of `initPid`
// (`initPidfd` proves the pid is still the init once its namespace is
// open). Errors name the entry: `linux.netDevices["eth9"]: no such network
// interface`. Every device is checked before the first one moves.
Status moveNetDevices(const std::map<std::string, spec::NetDevice>& devices, const Plan& plan, pid_t initPid,
                      int initPidfd);

namespace netlink {

// One interface address as rtnetlink reports it, enough to add it again.
struct Address {
  uint8_t family = 0;
  uint8_t prefixLen = 0;
  uint8_t scope = 0;
  uint32_t flags = 0;            // IFA_FLAGS when present, else ifa_flags
  std::vector<uint8_t> local;    // IFA_LOCAL (may be empty for IPv6)
  std::vector<uint8_t> address;  // IFA_ADDRESS
  std::vector<uint8_t> broadcast;
};

// The spec's rule for which addresses travel with the device.
inline bool preserved(const Address& a) {
  return (a.flags & IFA_F_PERMANENT) != 0 && a.scope == 0 /* RT_SCOPE_UNIVERSE */;
}

// Decodes one RTM_NEWADDR message (header included); false if malformed.
bool parseAddress(const void* msg, size_t len, Address& out, int& ifindex);

// Encodes an RTM_NEWADDR request adding `a` to ifindex.
std::vector<uint8_t> newAddressRequest(const Address& a, int ifindex, uint32_t seq);

// Encodes an RTM_NEWLINK request moving ifindex into the namespace nsFd,
// named `name` there.
std::vector<uint8_t> moveLinkRequest(int ifindex, int nsFd, const std::string& name, uint32_t seq);

}  // namespace netlink
}  // namespace berth::namespaces
