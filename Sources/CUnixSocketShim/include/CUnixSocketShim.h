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

/// The credentials of a connected peer, laid out as the kernel's struct ucred (SO_PEERCRED).
typedef struct {
    int pid;
    unsigned int uid;
    unsigned int gid;
} cunix_peer_credentials;

/// SO_PEERCRED of a connected Unix socket, as the socket option level and name to ask for.
int cunix_peer_credentials_level(void);
int cunix_peer_credentials_name(void);

#endif
