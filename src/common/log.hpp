// Logging for berth-runtime. Two formats, as runc has them:
//   text: "time=... level=error msg=..." style lines
//   json: {"level":"error","msg":"...","time":"2026-12-03T07:00:00Z"} (logrus)
// Engines (containerd, Podman) read the last "error" line of the json log and
// show its msg to the user, so a failure must end with exactly one such line
// carrying the whole error chain; cli/ does that, nobody else logs errors.
#pragma once

#include <string>
#include <string_view>

namespace berth::log {

enum class Level { Debug, Info, Warn, Error };
enum class Format { Text, Json };

// Sends log lines to `path` (opened append, O_CLOEXEC) or, when empty, stderr.
// Returns false (with errno) when the file cannot be opened.
bool configure(const std::string& path, Format format, bool debug);
Format format();
// The log fd, -1 when logging goes to stderr. The init child writes nothing
// itself (it sends its errors to the parent), but hooks' stderr may go here.
int fd();

void write(Level level, std::string_view msg);
inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warn(std::string_view m) { write(Level::Warn, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

// Escapes a string for a JSON string literal (without the quotes).
std::string jsonEscape(std::string_view s);

}  // namespace berth::log
