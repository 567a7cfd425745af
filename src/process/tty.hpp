// Terminals: the pty a container process gets when process.terminal is
// true, how its master reaches whoever holds the other end, and the relay
// `run`/`exec` use when they keep the master themselves.
//
// Console socket protocol (runc's, which conmon and containerd's shim
// speak): the runtime connects to the unix socket named by
// --console-socket and sends ONE message whose data is the master's name
// ("/dev/ptmx") and whose SCM_RIGHTS control message holds the master fd.
// Then it closes the connection.
//
// Order in the container process (child side, after pivot_root so the pty
// comes from the container's own devpts instance):
//   openContainerPty -> (consoleSize) -> sendFd(master) -> close master
//   -> mountConsole (init only) -> becomeTerminalOwner(slave)
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "spec/model.hpp"

namespace berth::process {

// Parent side, before clone: connects to --console-socket. A refused or
// missing socket fails here, before anything of the container exists.
Result<UniqueFd> connectConsoleSocket(const std::string& path);

// One message: `name` as data, `fd` as SCM_RIGHTS.
Status sendFd(int sock, int fd, const std::string& name);
// The counterpart; `name` (optional) receives the data. Rejects a message
// without exactly one fd.
Result<UniqueFd> receiveFd(int sock, std::string* name = nullptr);

struct Pty {
  UniqueFd master;
  UniqueFd slave;
};

// Child side: opens <dev>/ptmx (the container's, "/dev/ptmx" after pivot),
// unlocks it and opens the peer with TIOCGPTPEER, so no /dev/pts/N path is
// looked up in a directory the container controls. Applies `size` if set.
Result<Pty> openContainerPty(const std::optional<spec::ConsoleSize>& size);

// Child side, init only: bind-mounts the slave onto /dev/console, creating
// the target as a regular file inside the root (never following a symlink
// the rootfs may have put there).
Status mountConsole(int slaveFd);

// Child side: setsid, make the slave the controlling terminal and stdio 0-2.
// Closes `slave` when it is not one of 0-2.
Status becomeTerminalOwner(UniqueFd slave);

// The whole child-side sequence above. `consoleSocket` is closed afterwards.
Status setupTerminal(UniqueFd consoleSocket, const std::optional<spec::ConsoleSize>& size, bool withDevConsole);

// The runtime keeps the master (`run`/`exec -t` in the foreground without
// --console-socket): relays stdin -> master and master -> stdout, with the
// caller's terminal (if stdin is one) in raw mode and its window size copied
// to the pty now and on every SIGWINCH. Other signals in `forwarded` are sent
// to the process (pidfd). Returns the process's exit status (128+N on signal
// N) once it exited and the pty output is drained; restores the terminal.
// `forwarded` must be blocked in the caller. Without a master (invalid fd)
// it only forwards signals and waits.
Result<int> relayTerminalUntilExit(pid_t pid, int pidfd, UniqueFd master, const sigset_t& forwarded);

}  // namespace berth::process
