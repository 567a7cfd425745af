// hugetlb: per page size limits (reservations too, when the kernel has them).
#include <dirent.h>

#include "cgroups/controllers.hpp"

namespace berth::cgroups {

namespace {

// Writes the limit file, and the reservation file when it exists: the spec
// prefers reservation accounting, and limiting both keeps them consistent.
Status setOne(const Dir& d, size_t i, const spec::HugepageLimit& l, const std::string& limitFile,
              const std::string& rsvdFile, const std::string& value) {
  std::string f = "hugepageLimits[" + std::to_string(i) + "]";
  auto size = convert::hugePageSizeBytes(l.pageSize);
  if (!size) return std::move(size).error().context(kRes + f + ".pageSize");
  if (!d.has(limitFile))
    return fieldError(f + ".pageSize", "page size " + l.pageSize + " not supported by the host (no " + limitFile + ")");
  TRY(d.writeField(f + ".limit", limitFile, value));
  if (d.has(rsvdFile)) TRY(d.writeField(f + ".limit", rsvdFile, value));
  return {};
}

}  // namespace

Status setHugetlbV1(const Dir& d, const std::vector<spec::HugepageLimit>& limits) {
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& l = limits[i];
    TRY(setOne(d, i, l, "hugetlb." + l.pageSize + ".limit_in_bytes", "hugetlb." + l.pageSize + ".rsvd.limit_in_bytes",
               std::to_string(l.limit)));
  }
  return {};
}

Status setHugetlbV2(const Dir& d, const std::vector<spec::HugepageLimit>& limits) {
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& l = limits[i];
    TRY(setOne(d, i, l, "hugetlb." + l.pageSize + ".max", "hugetlb." + l.pageSize + ".rsvd.max",
               std::to_string(l.limit)));
  }
  return {};
}

namespace {
// The page sizes the cgroup has files for: "hugetlb.<size>.<suffix>".
std::vector<std::string> pageSizes(const Dir& d, const std::string& suffix) {
  std::vector<std::string> out;
  DIR* dir = ::opendir(d.path().c_str());
  if (!dir) return out;
  while (dirent* e = ::readdir(dir)) {
    std::string n = e->d_name;
    if (n.rfind("hugetlb.", 0) != 0 || n.size() <= 8 + suffix.size()) continue;
    if (n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    std::string size = n.substr(8, n.size() - 8 - suffix.size());
    if (size.find('.') == std::string::npos) out.push_back(size);
  }
  ::closedir(dir);
  return out;
}
}  // namespace

void hugetlbStatsV1(const Dir& d, std::map<std::string, HugetlbStats>& out) {
  if (!d.valid()) return;
  for (const auto& size : pageSizes(d, ".usage_in_bytes")) {
    HugetlbStats& s = out[size];
    s.usage = d.readU64("hugetlb." + size + ".usage_in_bytes").valueOr(0);
    s.max = d.readU64("hugetlb." + size + ".max_usage_in_bytes").valueOr(0);
    s.failcnt = d.readU64("hugetlb." + size + ".failcnt").valueOr(0);
  }
}

void hugetlbStatsV2(const Dir& d, std::map<std::string, HugetlbStats>& out) {
  if (!d.valid()) return;
  for (const auto& size : pageSizes(d, ".current")) {
    HugetlbStats& s = out[size];
    s.usage = d.readU64("hugetlb." + size + ".current").valueOr(0);
    if (auto ev = d.read("hugetlb." + size + ".events")) s.failcnt = parseKeyValues(*ev)["max"];
  }
}

}  // namespace berth::cgroups
