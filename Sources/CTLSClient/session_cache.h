#ifndef CTLS_SESSION_CACHE_H
#define CTLS_SESSION_CACHE_H
#include <mbedtls/ssl.h>

// A TLS session (ticket and master secret) shared by successive plugin processes, so most ADDs resume
// instead of repeating the certificate exchange and key agreement. The file is written atomically
// with mode 0600 and carries a digest of the server's identity (address, name, CA); a session for a
// different server or CA is never offered.

/// Digest of everything that identifies the server the session belongs to.
void session_identity(const char *host, const char *port, const char *server_name,
                      const unsigned char *ca, size_t ca_length, unsigned char identity[32]);

/// Loads a session for `identity` from `path` into `session`; returns 0 when one was loaded.
int session_cache_load(const char *path, const unsigned char identity[32], mbedtls_ssl_session *session);

/// Saves the connection's current session for `identity`; failures are ignored (the cache is an
/// optimisation only).
void session_cache_store(const char *path, const unsigned char identity[32], const mbedtls_ssl_context *ssl);
#endif
