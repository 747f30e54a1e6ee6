#ifndef CSPAWN_SHIM_H
#define CSPAWN_SHIM_H

#include <stddef.h>
#include <sys/types.h>

// Test tooling only. Foundation.Process on Linux learns that a child exited when a socket it passes to
// the child closes, so a grandchild that keeps running (podman's conmon, a listener a script left
// behind) makes waitUntilExit hang for ever; and children of Swift test threads inherit a signal mask
// that blocks SIGTERM. These calls spawn with posix_spawn, an empty signal mask and default dispositions,
// and let the caller reap the child with waitpid.

/// A pipe whose both ends are close-on-exec. Returns 0 or -1 with errno set.
int cspawn_pipe(int fds[2]);

/// Spawns `arguments` (NUL-terminated strings back to back, `argument_count` of them; the first is
/// looked up in PATH) with `environment` (same layout; `environment_count` < 0 keeps the caller's).
/// The child's stdin/stdout/stderr are `in_fd`/`out_fd`/`err_fd` (-1: /dev/null). Returns the pid, or
/// -1 with errno set.
pid_t cspawn_spawn(const char *arguments, int argument_count, const char *environment, int environment_count,
                   int in_fd, int out_fd, int err_fd);

#endif
