#ifndef CSOCKET_SHIM_H
#define CSOCKET_SHIM_H

#include <stddef.h>

// Socket calls that need struct sockaddr juggling (or _GNU_SOURCE), for netprobe, the traffic tool
// the tests and the demo use. Functions return a file descriptor or count >= 0, or -errno.

enum { CSOCK_TCP = 1, CSOCK_UDP = 2 };

/// Binds `address` (NULL: 0.0.0.0 for family 4, [::] IPv6-only for family 6) and port; listens for TCP.
int csock_listen(const char *address, int family, int type, unsigned short port);

/// Waits up to timeout_ms for any of `fds` to become readable; returns its index, -ETIMEDOUT, or -errno.
int csock_wait_any(const int *fds, int count, int timeout_ms);

int csock_accept(int listen_fd);

/// The connection's original destination before NAT (SO_ORIGINAL_DST), as "ip:port".
int csock_original_destination(int fd, int family, char *text, size_t length);

/// Lets a listener take connections TPROXY hands it for addresses that are not its own
/// (IP_TRANSPARENT / IPV6_TRANSPARENT; needs CAP_NET_ADMIN).
int csock_make_transparent(int fd, int family);

/// The connection's local address as "ip:port" (for a transparent listener: the original destination).
int csock_local(int fd, char *text, size_t length);

/// The connection's peer as "ip:port".
int csock_peer(int fd, char *text, size_t length);

/// Connects to host:port (TCP) or connects a UDP socket; waits up to timeout_ms.
int csock_connect(const char *host, unsigned short port, int type, int timeout_ms);

/// The same, from `source` (a local address, any port), so the kernel does not pick the source itself.
int csock_connect_from(const char *source, const char *host, unsigned short port, int type, int timeout_ms);

/// Receives one datagram and answers it with `reply`; writes the sender as "ip:port" into `from`.
int csock_answer_datagram(int fd, const char *reply, char *from, size_t from_length);

/// Reads up to `length` bytes, waiting up to timeout_ms. Returns the count (0 at end of stream).
long csock_read(int fd, unsigned char *buffer, size_t length, int timeout_ms);

long csock_write(int fd, const unsigned char *buffer, size_t length);

/// Drops all groups and becomes uid/gid (for testing the proxy-UID/GID exclusions).
int csock_become(unsigned uid, unsigned gid);

/// A TCP socket bound to `address` and a free port but not listening: connecting to it is refused,
/// and no other process can take the port while it is open.
int csock_bind_without_listening(const char *address);

void csock_close(int fd);

#endif
