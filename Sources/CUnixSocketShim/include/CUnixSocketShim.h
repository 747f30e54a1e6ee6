#ifndef CUNIX_SOCKET_SHIM_H
#define CUNIX_SOCKET_SHIM_H

#include <stddef.h>

// The node agent's Unix socket in the run dir, from both ends: the plugin connects to it (struct
// sockaddr_un cannot be filled from Swift without pointer code), the agent checks who connected
// (struct ucred is only declared with _GNU_SOURCE). Calls return >= 0, or -errno.

/// Connects a stream socket to `path`; waits at most `timeout_ms` for the agent to accept.
int cunix_connect(const char *path, int timeout_ms);

/// Writes all of `buffer` unless `deadline_us` (CLOCK_MONOTONIC) passes first.
long cunix_write_all(int fd, const unsigned char *buffer, size_t length, long long deadline_us);

/// Reads what is available (0 at end of stream), waiting until `deadline_us` at most.
long cunix_read(int fd, unsigned char *buffer, size_t length, long long deadline_us);

void cunix_close(int fd);

/// Creates a listening stream socket at `path` (an old socket file there is replaced), mode 0600.
int cunix_listen(const char *path, int backlog);

/// Waits up to `timeout_ms` for a connection on `listen_fd` or a byte on `wake_fd`. Returns the new
/// connection (non-blocking, close-on-exec), -EAGAIN on timeout, -ECANCELED when woken, or -errno.
int cunix_accept(int listen_fd, int wake_fd, int timeout_ms);

/// The user id of the process at the other end of a connected Unix socket (SO_PEERCRED), or -errno.
long cunix_peer_uid(int fd);

#endif
