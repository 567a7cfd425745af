// blkio (v1) and io (v2): weights and per-device throttles.
#include <sstream>

#include "cgroups/controllers.hpp"

namespace berth::cgroups {

namespace {

Status checkWeight(const std::string& field, const std::optional<uint16_t>& w) {
  if (w && *w != 0 && (*w < 10 || *w > 1000))
    return fieldError(field, "invalid value " + std::to_string(*w) + " (10-1000)");
  return {};
}

Status checkDevice(const std::string& field, int64_t major, int64_t minor) {
  if (major < 0 || minor < 0)
    return fieldError(field, "invalid device " + std::to_string(major) + ":" + std::to_string(minor));
  return {};
}

std::string dev(int64_t major, int64_t minor) { return std::to_string(major) + ":" + std::to_string(minor); }

Status validate(const spec::BlockIoResources& b) {
  TRY(checkWeight("blockIO.weight", b.weight));
  TRY(checkWeight("blockIO.leafWeight", b.leafWeight));
  for (size_t i = 0; i < b.weightDevice.size(); ++i) {
    const auto& w = b.weightDevice[i];
    std::string f = "blockIO.weightDevice[" + std::to_string(i) + "]";
    TRY(checkDevice(f, w.major, w.minor));
    TRY(checkWeight(f + ".weight", w.weight));
    TRY(checkWeight(f + ".leafWeight", w.leafWeight));
  }
  const std::pair<const char*, const std::vector<spec::BlockIoDeviceThrottle>*> lists[] = {
      {"blockIO.throttleReadBpsDevice", &b.throttleReadBpsDevice},
      {"blockIO.throttleWriteBpsDevice", &b.throttleWriteBpsDevice},
      {"blockIO.throttleReadIOPSDevice", &b.throttleReadIOPSDevice},
      {"blockIO.throttleWriteIOPSDevice", &b.throttleWriteIOPSDevice}};
  for (const auto& [name, list] : lists)
    for (size_t i = 0; i < list->size(); ++i)
      TRY(checkDevice(std::string(name) + "[" + std::to_string(i) + "]", (*list)[i].major, (*list)[i].minor));
  return {};
}

}  // namespace

Status setBlkioV1(const Dir& d, const spec::BlockIoResources& b) {
  TRY(validate(b));
  // CFQ's blkio.weight is gone from current kernels; BFQ offers blkio.bfq.weight.
  const std::string weightFile = d.has("blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
  if (b.weight && *b.weight) {
    if (!d.has(weightFile)) return fieldError("blockIO.weight", "no blkio.weight or blkio.bfq.weight on this host");
    TRY(d.writeField("blockIO.weight", weightFile, std::to_string(*b.weight)));
  }
  if (b.leafWeight && *b.leafWeight) {
    if (!d.has("blkio.leaf_weight")) return fieldError("blockIO.leafWeight", "not supported by this kernel");
    TRY(d.writeField("blockIO.leafWeight", "blkio.leaf_weight", std::to_string(*b.leafWeight)));
  }
  for (size_t i = 0; i < b.weightDevice.size(); ++i) {
    const auto& w = b.weightDevice[i];
    std::string f = "blockIO.weightDevice[" + std::to_string(i) + "]";
    const std::string devFile = d.has("blkio.weight_device") ? "blkio.weight_device" : "blkio.bfq.weight_device";
    if (w.weight) {
      if (!d.has(devFile)) return fieldError(f + ".weight", "no per-device weights on this host");
      TRY(d.writeField(f + ".weight", devFile, dev(w.major, w.minor) + " " + std::to_string(*w.weight)));
    }
    if (w.leafWeight) {
      if (!d.has("blkio.leaf_weight_device")) return fieldError(f + ".leafWeight", "not supported by this kernel");
      TRY(d.writeField(f + ".leafWeight", "blkio.leaf_weight_device",
                       dev(w.major, w.minor) + " " + std::to_string(*w.leafWeight)));
    }
  }
  const std::pair<const char*, const char*> files[] = {{"throttleReadBpsDevice", "blkio.throttle.read_bps_device"},
                                                       {"throttleWriteBpsDevice", "blkio.throttle.write_bps_device"},
                                                       {"throttleReadIOPSDevice", "blkio.throttle.read_iops_device"},
                                                       {"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"}};
  const std::vector<spec::BlockIoDeviceThrottle>* lists[] = {&b.throttleReadBpsDevice, &b.throttleWriteBpsDevice,
                                                             &b.throttleReadIOPSDevice, &b.throttleWriteIOPSDevice};
  for (int k = 0; k < 4; ++k)
    for (size_t i = 0; i < lists[k]->size(); ++i) {
      const auto& t = (*lists[k])[i];
      TRY(d.writeField(std::string("blockIO.") + files[k].first + "[" + std::to_string(i) + "]", files[k].second,
                       dev(t.major, t.minor) + " " + std::to_string(t.rate)));
    }
  return {};
}

Status setBlkioV2(const Dir& d, const spec::BlockIoResources& b) {
  TRY(validate(b));
  if (b.leafWeight && *b.leafWeight) return fieldError("blockIO.leafWeight", "not supported on cgroup v2");
  for (size_t i = 0; i < b.weightDevice.size(); ++i)
    if (b.weightDevice[i].leafWeight)
      return fieldError("blockIO.weightDevice[" + std::to_string(i) + "].leafWeight", "not supported on cgroup v2");
  // BFQ takes the v1 scale as is; io.weight (the cost model) needs converting.
  const bool bfq = d.has("io.bfq.weight");
  if (b.weight && *b.weight) {
    if (bfq) {
      TRY(d.writeField("blockIO.weight", "io.bfq.weight", std::to_string(*b.weight)));
    } else {
      if (!d.has("io.weight")) return fieldError("blockIO.weight", "the io controller has no weights on this host");
      TRY(d.writeField("blockIO.weight", "io.weight", std::to_string(convert::blkioWeightToIoWeight(*b.weight))));
    }
  }
  for (size_t i = 0; i < b.weightDevice.size(); ++i) {
    const auto& w = b.weightDevice[i];
    if (!w.weight) continue;
    std::string f = "blockIO.weightDevice[" + std::to_string(i) + "].weight";
    if (bfq)
      TRY(d.writeField(f, "io.bfq.weight", dev(w.major, w.minor) + " " + std::to_string(*w.weight)));
    else
      TRY(d.writeField(f, "io.weight",
                       dev(w.major, w.minor) + " " + std::to_string(convert::blkioWeightToIoWeight(*w.weight))));
  }
  const std::pair<const char*, const char*> keys[] = {{"throttleReadBpsDevice", "rbps"},
                                                      {"throttleWriteBpsDevice", "wbps"},
                                                      {"throttleReadIOPSDevice", "riops"},
                                                      {"throttleWriteIOPSDevice", "wiops"}};
  const std::vector<spec::BlockIoDeviceThrottle>* lists[] = {&b.throttleReadBpsDevice, &b.throttleWriteBpsDevice,
                                                             &b.throttleReadIOPSDevice, &b.throttleWriteIOPSDevice};
  for (int k = 0; k < 4; ++k)
    for (size_t i = 0; i < lists[k]->size(); ++i) {
      const auto& t = (*lists[k])[i];
      // io.max takes one "maj:min key=value" per write; 0 means "no limit".
      std::string v = dev(t.major, t.minor) + " " + keys[k].second + "=" + (t.rate ? std::to_string(t.rate) : "max");
      TRY(d.writeField(std::string("blockIO.") + keys[k].first + "[" + std::to_string(i) + "]", "io.max", v));
    }
  return {};
}

namespace {
// v1 "8:0 Read 4096" lines ("Total 123" at the end has no device).
void parseV1(const std::string& text, std::vector<BlkioEntry>& out) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    unsigned long long major = 0, minor = 0, value = 0;
    char op[32] = {};
    if (std::sscanf(line.c_str(), "%llu:%llu %31s %llu", &major, &minor, op, &value) == 4)
      out.push_back({major, minor, op, value});
  }
}
}  // namespace

void blkioStatsV1(const Dir& d, BlkioStats& out) {
  if (!d.valid()) return;
  // CFQ's files when present, else the throttle layer's (which always counts).
  for (const char* prefix : {"blkio.io_service", "blkio.throttle.io_service"}) {
    auto bytes = d.read(std::string(prefix) + "_bytes_recursive");
    if (!bytes) continue;
    parseV1(*bytes, out.ioServiceBytesRecursive);
    if (auto ios = d.read(std::string(prefix) + "d_recursive")) parseV1(*ios, out.ioServicedRecursive);
    return;
  }
}

void blkioStatsV2(const Dir& d, BlkioStats& out) {
  auto s = d.read("io.stat");
  if (!s) return;
  std::istringstream in(*s);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string devStr, kv;
    ls >> devStr;
    unsigned long long major = 0, minor = 0;
    if (std::sscanf(devStr.c_str(), "%llu:%llu", &major, &minor) != 2) continue;
    while (ls >> kv) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos) continue;
      std::string key = kv.substr(0, eq);
      uint64_t v = std::strtoull(kv.c_str() + eq + 1, nullptr, 10);
      if (key == "rbytes") out.ioServiceBytesRecursive.push_back({major, minor, "Read", v});
      if (key == "wbytes") out.ioServiceBytesRecursive.push_back({major, minor, "Write", v});
      if (key == "rios") out.ioServicedRecursive.push_back({major, minor, "Read", v});
      if (key == "wios") out.ioServicedRecursive.push_back({major, minor, "Write", v});
    }
  }
}

}  // namespace berth::cgroups
