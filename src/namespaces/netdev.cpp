#include "namespaces/netdev.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "common/scope_guard.hpp"

namespace berth::namespaces {
namespace netlink {
namespace {

class Builder {
 public:
  Builder(uint16_t type, uint16_t flags, uint32_t seq) : buf_(NLMSG_HDRLEN, 0) {
    auto* h = reinterpret_cast<nlmsghdr*>(buf_.data());
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = seq;
  }
  template <typename T>
  void fixed(const T& body) {
    append(&body, sizeof body);
  }
  void attr(uint16_t type, const void* data, size_t len) {
    nlattr a{};
    a.nla_type = type;
    a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
    append(&a, sizeof a);
    append(data, len);
  }
  void attrU32(uint16_t type, uint32_t v) { attr(type, &v, sizeof v); }
  void attrStr(uint16_t type, const std::string& s) { attr(type, s.c_str(), s.size() + 1); }
  void attrBytes(uint16_t type, const std::vector<uint8_t>& v) {
    if (!v.empty()) attr(type, v.data(), v.size());
  }
  std::vector<uint8_t> finish() {
    reinterpret_cast<nlmsghdr*>(buf_.data())->nlmsg_len = static_cast<uint32_t>(buf_.size());
    return std::move(buf_);
  }

 private:
  // Every netlink header and attribute starts 4-byte aligned.
  void append(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
    buf_.resize(NLMSG_ALIGN(buf_.size()), 0);
  }
  std::vector<uint8_t> buf_;
};

// Calls f(type, payload, len) for each attribute in [p, p+len).
template <typename F>
void forEachAttr(const uint8_t* p, size_t len, F f) {
  while (len >= NLA_HDRLEN) {
    nlattr a;
    std::memcpy(&a, p, sizeof a);
    if (a.nla_len < NLA_HDRLEN || a.nla_len > len) return;
    f(static_cast<uint16_t>(a.nla_type & NLA_TYPE_MASK), p + NLA_HDRLEN, a.nla_len - NLA_HDRLEN);
    size_t step = NLA_ALIGN(a.nla_len);
    if (step >= len) return;
    p += step;
    len -= step;
  }
}

}  // namespace

bool parseAddress(const void* msg, size_t len, Address& out, int& ifindex) {
  const auto* p = static_cast<const uint8_t*>(msg);
  if (len < NLMSG_HDRLEN + sizeof(ifaddrmsg)) return false;
  nlmsghdr h;
  std::memcpy(&h, p, sizeof h);
  if (h.nlmsg_type != RTM_NEWADDR || h.nlmsg_len > len || h.nlmsg_len < NLMSG_HDRLEN + sizeof(ifaddrmsg))
    return false;
  ifaddrmsg ifa;
  std::memcpy(&ifa, p + NLMSG_HDRLEN, sizeof ifa);
  out = Address{};
  out.family = ifa.ifa_family;
  out.prefixLen = ifa.ifa_prefixlen;
  out.scope = ifa.ifa_scope;
  out.flags = ifa.ifa_flags;
  ifindex = static_cast<int>(ifa.ifa_index);
  size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof ifa);
  if (off > h.nlmsg_len) return false;
  forEachAttr(p + off, h.nlmsg_len - off, [&](uint16_t type, const uint8_t* d, size_t n) {
    switch (type) {
      case IFA_LOCAL: out.local.assign(d, d + n); break;
      case IFA_ADDRESS: out.address.assign(d, d + n); break;
      case IFA_BROADCAST: out.broadcast.assign(d, d + n); break;
      case IFA_FLAGS:  // the full 32 bits; ifa_flags holds only the low 8
        if (n >= 4) std::memcpy(&out.flags, d, 4);
        break;
      default: break;
    }
  });
  return true;
}

std::vector<uint8_t> newAddressRequest(const Address& a, int ifindex, uint32_t seq) {
  Builder b(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
  // Only the flags a user may set travel; the kernel derives the rest
  // (an address added without lifetimes is permanent again).
  constexpr uint32_t kSettable = IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE |
                                 IFA_F_MCAUTOJOIN;
  ifaddrmsg ifa{};
  ifa.ifa_family = a.family;
  ifa.ifa_prefixlen = a.prefixLen;
  ifa.ifa_scope = a.scope;
  ifa.ifa_flags = static_cast<uint8_t>(a.flags & kSettable & 0xff);
  ifa.ifa_index = static_cast<uint32_t>(ifindex);
  b.fixed(ifa);
  b.attrBytes(IFA_LOCAL, a.local);
  b.attrBytes(IFA_ADDRESS, a.address);
  b.attrBytes(IFA_BROADCAST, a.broadcast);
  if (a.flags & kSettable) b.attrU32(IFA_FLAGS, a.flags & kSettable);
  return b.finish();
}

std::vector<uint8_t> moveLinkRequest(int ifindex, int nsFd, const std::string& name, uint32_t seq) {
  Builder b(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = ifindex;
  b.fixed(ifi);
  b.attrU32(IFLA_NET_NS_FD, static_cast<uint32_t>(nsFd));
  // Moved and renamed in one request: the kernel renames after the move,
  // expanding a "%d" template against the target namespace's names.
  b.attrStr(IFLA_IFNAME, name);
  return b.finish();
}

namespace {

struct Link {
  int index = 0;
  std::string name;
  unsigned flags = 0;
};

// One NETLINK_ROUTE socket, bound to the network namespace it was opened in.
class Socket {
 public:
  static Result<Socket> open() {
    Socket s;
    s.fd_ = UniqueFd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!s.fd_) return Error::fromErrno("netlink socket");
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::bind(s.fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) return Error::fromErrno("bind netlink");
    return s;
  }
  uint32_t nextSeq() { return ++seq_; }

  // Sends a request and collects replies until the ACK (or, for a dump,
  // NLMSG_DONE). A kernel error comes back as an Error with its errno.
  Result<std::vector<std::vector<uint8_t>>> exchange(const std::vector<uint8_t>& req) {
    nlmsghdr sent;
    std::memcpy(&sent, req.data(), sizeof sent);
    if (::send(fd_.get(), req.data(), req.size(), 0) < 0) return Error::fromErrno("netlink send");
    std::vector<std::vector<uint8_t>> replies;
    std::vector<uint8_t> buf(64 * 1024);
    bool dump = (sent.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    for (;;) {
      ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::fromErrno("netlink recv");
      }
      size_t left = static_cast<size_t>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        if (h->nlmsg_seq != sent.nlmsg_seq) continue;  // a late answer to an earlier request
        if (h->nlmsg_type == NLMSG_DONE) return replies;
        if (h->nlmsg_type == NLMSG_ERROR) {
          if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return Error("netlink: truncated error", EIO);
          int err = static_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
          if (err != 0) return Error("netlink", -err);
          return replies;  // the ACK
        }
        const auto* p = reinterpret_cast<const uint8_t*>(h);
        replies.emplace_back(p, p + h->nlmsg_len);
        if (!dump && !(sent.nlmsg_flags & NLM_F_ACK)) return replies;
      }
    }
  }

  Status call(const std::vector<uint8_t>& req) {
    auto r = exchange(req);
    if (!r) return std::move(r).error();
    return {};
  }

  // ENODEV when there is no such link.
  Result<Link> linkBy(int index, const std::string& name) {
    Builder b(RTM_GETLINK, NLM_F_REQUEST, nextSeq());
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    b.fixed(ifi);
    if (!name.empty()) b.attrStr(IFLA_IFNAME, name);
    auto replies = TRY(exchange(b.finish()));
    for (const auto& m : replies) {
      if (m.size() < NLMSG_HDRLEN + sizeof(ifinfomsg)) continue;
      ifinfomsg got;
      std::memcpy(&got, m.data() + NLMSG_HDRLEN, sizeof got);
      Link l{got.ifi_index, "", got.ifi_flags};
      size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof got);
      forEachAttr(m.data() + off, m.size() - off, [&](uint16_t type, const uint8_t* d, size_t n) {
        if (type == IFLA_IFNAME) l.name.assign(reinterpret_cast<const char*>(d), strnlen(reinterpret_cast<const char*>(d), n));
      });
      return l;
    }
    return Error("netlink: no link in reply", ENODEV);
  }

  Result<std::vector<Address>> addressesOf(int index) {
    Builder b(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, nextSeq());
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_UNSPEC;
    b.fixed(ifa);
    auto replies = TRY(exchange(b.finish()));
    std::vector<Address> out;
    for (const auto& m : replies) {
      Address a;
      int idx = 0;
      if (parseAddress(m.data(), m.size(), a, idx) && idx == index && preserved(a)) out.push_back(std::move(a));
    }
    return out;
  }

  Status addAddresses(int index, const std::vector<Address>& addrs) {
    for (const auto& a : addrs) {
      auto r = call(newAddressRequest(a, index, nextSeq()));
      if (!r && r.error().code() != EEXIST) return r;
    }
    return {};
  }

  Status setUp(int index) {
    Builder b(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, nextSeq());
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    ifi.ifi_flags = IFF_UP;
    ifi.ifi_change = IFF_UP;
    b.fixed(ifi);
    return call(b.finish());
  }

 private:
  UniqueFd fd_;
  uint32_t seq_ = 0;
};

// A netlink socket inside the namespace nsFd. The runtime's own namespace
// is re-entered at once: everything after create runs on the host.
Result<Socket> openSocketIn(int nsFd, int ownNs) {
  if (::setns(nsFd, CLONE_NEWNET) != 0) return Error::fromErrno("setns into the container's network namespace");
  auto s = Socket::open();
  if (::setns(ownNs, CLONE_NEWNET) != 0) return Error::fromErrno("setns back into the runtime's network namespace");
  return s;
}

struct Move {
  std::string key;       // linux.netDevices["eth0"]
  std::string hostName;
  std::string newName;
  Link host;
  std::vector<Address> addrs;
  int inside = 0;  // ifindex in the container once moved
};

std::string entryKey(const std::string& host) { return "linux.netDevices[\"" + host + "\"]"; }

// Checks everything that can be checked before a device moves, so the
// usual mistakes (a missing device, a taken name) leave the host untouched.
Status prepare(Socket& host, Socket& inside, Move& m) {
  auto link = host.linkBy(0, m.hostName);
  if (!link) {
    if (link.error().code() == ENODEV) return Error(m.key + ": no such network interface");
    return std::move(link).error().context(m.key);
  }
  m.host = *link;
  m.addrs = TRY_CTX(host.addressesOf(m.host.index), m.key + ": read addresses");
  if (m.newName.find("%d") == std::string::npos) {
    auto taken = inside.linkBy(0, m.newName);
    if (taken)
      return Error(m.key + ": a network interface named \"" + m.newName +
                   "\" already exists in the container's network namespace");
    if (taken.error().code() != ENODEV) return std::move(taken).error().context(m.key);
  }
  return {};
}

// The kernel keeps the ifindex when the target namespace has it free,
// which a new namespace nearly always does; the names are the fallback.
// A rename that failed leaves the device inside under its host name.
Result<int> findMoved(Socket& inside, const Move& m) {
  bool templated = m.newName.find("%d") != std::string::npos;
  if (auto l = inside.linkBy(m.host.index, ""); l) {
    if (templated || l->name == m.newName || l->name == m.hostName) return l->index;
  }
  for (const std::string& n : {m.newName, m.hostName}) {
    if (n.find("%d") != std::string::npos) continue;
    if (auto l = inside.linkBy(0, n); l && l->index == m.host.index) return l->index;
  }
  if (!templated) {
    if (auto l = inside.linkBy(0, m.newName); l) return l->index;
  }
  return Error("moved device not found in the container's network namespace", ENODEV);
}

Status moveOne(Socket& host, Socket& inside, int nsFd, Move& m) {
  auto sent = host.call(moveLinkRequest(m.host.index, nsFd, m.newName, host.nextSeq()));
  // The kernel moves, then renames, and does not undo the move when the
  // rename fails: where the device is decides what a rollback must do.
  auto found = findMoved(inside, m);
  if (found) m.inside = *found;
  if (!sent) return std::move(sent).error().context(m.key + ": move into the container's network namespace as \"" + m.newName + "\"");
  if (!found) return std::move(found).error().context(m.key);
  TRY_CTX(inside.addAddresses(m.inside, m.addrs), m.key + ": restore addresses");
  TRY_CTX(inside.setUp(m.inside), m.key + ": set up");
  return {};
}

// Best effort: a failed create returns what it took, as it found it.
void moveBack(Socket& host, Socket& inside, int ownNs, const Move& m) {
  if (!inside.call(moveLinkRequest(m.inside, ownNs, m.hostName, inside.nextSeq()))) return;
  auto l = host.linkBy(0, m.hostName);
  if (!l) return;
  (void)host.addAddresses(l->index, m.addrs);
  if (m.host.flags & IFF_UP) (void)host.setUp(l->index);
}

}  // namespace
}  // namespace netlink

Status moveNetDevices(const std::map<std::string, spec::NetDevice>& devices, const Plan& plan, pid_t initPid,
                      int initPidfd) {
  using namespace netlink;
  if (devices.empty()) return {};
  // A joined namespace outlives the container, and the kernel's return of
  // physical devices at namespace death would never happen.
  if (!plan.newNet) return Error("linux.netDevices: requires a new network namespace (not one joined by path)");
  UniqueFd ownNs(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!ownNs) return Error::fromErrno("linux.netDevices: open /proc/thread-self/ns/net");
  std::string nsPath = "/proc/" + std::to_string(initPid) + "/ns/net";
  UniqueFd ctrNs(::open(nsPath.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ctrNs) return Error::fromErrno("linux.netDevices: open " + nsPath);
  // Opened by pid: if the init died before, the pid may name another process.
  pollfd pfd{initPidfd, POLLIN, 0};
  if (::poll(&pfd, 1, 0) != 0) return Error("linux.netDevices: container init exited");

  auto host = TRY_CTX(Socket::open(), "linux.netDevices");
  auto inside = TRY_CTX(openSocketIn(ctrNs.get(), ownNs.get()), "linux.netDevices");
  std::vector<Move> moves;
  for (const auto& [hostName, dev] : devices) {
    Move m;
    m.key = entryKey(hostName);
    m.hostName = hostName;
    m.newName = dev.name.value_or(hostName);
    TRY(prepare(host, inside, m));
    moves.push_back(std::move(m));
  }
  size_t moved = 0;
  ScopeGuard undo([&] {
    for (size_t i = 0; i < moved; ++i) moveBack(host, inside, ownNs.get(), moves[i]);
  });
  for (auto& m : moves) {
    auto r = moveOne(host, inside, ctrNs.get(), m);
    if (m.inside > 0) ++moved;  // in the container even if a later step failed
    if (!r) return r;
  }
  undo.dismiss();
  return {};
}

}  // namespace berth::namespaces
