#include "common/log.hpp"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace berth::log {
namespace {

struct Sink {
  int fd = -1;  // -1: stderr
  Format format = Format::Text;
  bool debug = false;
};

Sink& sink() {
  static Sink s;
  return s;
}

const char* levelName(Level l) {
  switch (l) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warning";
    case Level::Error: return "error";
  }
  return "info";
}

std::string timestamp() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm tmv{};
  gmtime_r(&ts.tv_sec, &tmv);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tmv.tm_year + 1900, tmv.tm_mon + 1,
                tmv.tm_mday, tmv.tm_hour, tmv.tm_min, tmv.tm_sec, ts.tv_nsec);
  return buf;
}

void writeAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

bool configure(const std::string& path, Format format, bool debug) {
  Sink& s = sink();
  s.format = format;
  s.debug = debug;
  if (!path.empty()) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    if (s.fd >= 0) ::close(s.fd);
    s.fd = fd;
  }
  return true;
}

Format format() { return sink().format; }
int fd() { return sink().fd; }

std::string jsonEscape(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 8);
  for (unsigned char c : in) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

void write(Level level, std::string_view msg) {
  const Sink& s = sink();
  if (level == Level::Debug && !s.debug) return;
  std::string line;
  if (s.format == Format::Json) {
    line = "{\"level\":\"";
    line += levelName(level);
    line += "\",\"msg\":\"";
    line += jsonEscape(msg);
    line += "\",\"time\":\"";
    line += timestamp();
    line += "\"}\n";
  } else if (s.fd >= 0) {
    line = "time=\"" + timestamp() + "\" level=" + levelName(level) + " msg=\"" + jsonEscape(msg) + "\"\n";
  } else {
    // Plain stderr for humans: "berth-runtime: <msg>" for errors and warnings.
    if (level == Level::Error || level == Level::Warn) {
      line = std::string("berth-runtime: ") + (level == Level::Warn ? "warning: " : "");
    } else {
      line = std::string("berth-runtime: ") + levelName(level) + ": ";
    }
    line += msg;
    line += "\n";
  }
  writeAll(s.fd >= 0 ? s.fd : STDERR_FILENO, line);
}

}  // namespace berth::log
