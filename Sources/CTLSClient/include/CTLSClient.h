#ifndef CTLS_CLIENT_H
#define CTLS_CLIENT_H

#include <stddef.h>

// A small blocking TLS client over wolfSSL (TLS 1.2 and 1.3) for the plugin's one API call per ADD. Connections are
// named by small integer handles so Swift code never holds C pointers. Every call is bounded by an
// absolute CLOCK_MONOTONIC deadline in microseconds; errors are written as text into `error`.

/// Microseconds on CLOCK_MONOTONIC, the clock all deadlines use.
long long tlsc_monotonic_us(void);

/// Connects to host:port and completes the TLS handshake. `server_name` is the name verified against
/// the certificate (and sent as SNI); NULL with an IP-literal host verifies the certificate's IP
/// address entries instead. With `insecure` nonzero the certificate is not verified at all.
/// `session_path`, when not NULL, names a file holding a TLS session ticket from an earlier process:
/// it is offered for resumption, and replaced at close by a newer ticket the server sent.
/// Returns a handle >= 0, or -1 with `error` filled (-2: the TLS library itself cannot be loaded).
int tlsc_open(const char *host, const char *port, const char *server_name,
              const unsigned char *ca_pem, size_t ca_pem_length, int insecure, const char *session_path,
              long long deadline_us, char *error, size_t error_length);

/// 1 when the connection resumed a cached session (no certificate exchange), else 0.
int tlsc_resumed(int handle);

/// 13 for TLS 1.3, 12 for TLS 1.2, 0 for an unknown handle.
int tlsc_protocol_version(int handle);

/// Sends all of `data`. Returns 0 or -1 with `error` filled.
int tlsc_write_all(int handle, const unsigned char *data, size_t length, char *error, size_t error_length);

/// Reads up to `capacity` bytes. Returns the count, 0 at end of stream, or -1 with `error` filled.
long tlsc_read(int handle, unsigned char *buffer, size_t capacity, char *error, size_t error_length);

/// Keeps a newer session (see `tlsc_open`) and closes the connection.
void tlsc_close(int handle);

#endif
