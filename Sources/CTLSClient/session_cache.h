#ifndef CTLS_SESSION_CACHE_H
#define CTLS_SESSION_CACHE_H
#include <stddef.h>

// A TLS session (its ticket and resumption secret, serialised by the TLS library) shared by successive
// plugin processes, so most ADDs resume instead of repeating the certificate exchange. The file is
// written atomically with mode 0600 and carries a digest of the server's identity (address, name,
// CA); a session for a different server or CA is never offered.

enum { SESSION_CACHE_MAXIMUM = 16384 };

/// Digest of everything that identifies the server the session belongs to.
void session_identity(const char *host, const char *port, const char *server_name,
                      const unsigned char *ca, size_t ca_length, unsigned char identity[32]);

/// Reads the session kept for `identity` from `path` into `session` (at most `capacity` bytes);
/// returns 0 and sets `length` and `stored_at` (seconds since the epoch) when there is one.
int session_cache_load(const char *path, const unsigned char identity[32], unsigned char *session, size_t capacity, size_t *length,
                       long long *stored_at);

/// Replaces the kept session; failures are ignored (the cache is an optimisation only).
void session_cache_store(const char *path, const unsigned char identity[32], const unsigned char *session, size_t length);
#endif
