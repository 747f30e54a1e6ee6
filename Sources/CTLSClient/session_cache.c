#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>
#include <mbedtls/platform.h>
#include "session_cache.h"

static const char magic[8] = "ICNITLS1";
enum { header_length = sizeof magic + 32, maximum_file = 16384 };

// The identity only keeps a session from being offered to a differently configured server; it guards
// no secret (resuming still needs the session's master secret), so a fast non-cryptographic digest
// (FNV-1a, four lanes) serves.
static void fnv1a(uint64_t *lane, const unsigned char *data, size_t length) {
    for (size_t i = 0; i < length; i++) lane[i & 3] = (lane[i & 3] ^ data[i]) * 0x100000001b3ULL;
}

void session_identity(const char *host, const char *port, const char *server_name,
                      const unsigned char *ca, size_t ca_length, unsigned char identity[32]) {
    uint64_t lanes[4] = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL, 0xcbf29ce4cbf29ce4ULL, 0x8422232584222325ULL};
    const char *parts[] = {host, port, server_name ? server_name : ""};
    for (int i = 0; i < 3; i++) fnv1a(lanes, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
    if (ca) fnv1a(lanes, ca, ca_length);
    memcpy(identity, lanes, 32);
}

int session_cache_load(const char *path, const unsigned char identity[32], mbedtls_ssl_session *session) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    unsigned char buffer[maximum_file];
    ssize_t length = read(fd, buffer, sizeof buffer);
    close(fd);
    if (length <= header_length || memcmp(buffer, magic, sizeof magic) != 0 ||
        memcmp(buffer + sizeof magic, identity, 32) != 0) return -1;
    return mbedtls_ssl_session_load(session, buffer + header_length, (size_t)length - header_length) == 0 ? 0 : -1;
}

void session_cache_store(const char *path, const unsigned char identity[32], const mbedtls_ssl_context *ssl) {
    mbedtls_ssl_session session;
    mbedtls_ssl_session_init(&session);
    unsigned char buffer[maximum_file];
    size_t length = 0;
    memcpy(buffer, magic, sizeof magic);
    memcpy(buffer + sizeof magic, identity, 32);
    if (mbedtls_ssl_get_session(ssl, &session) != 0) return;
    // Resumption needs the ticket and master secret, not the server's certificate (verified when the
    // session was made); leaving it out keeps the file small and spares every load a certificate parse.
    if (session.peer_cert != NULL) {
        mbedtls_x509_crt_free(session.peer_cert);
        mbedtls_free(session.peer_cert);
        session.peer_cert = NULL;
    }
    if (mbedtls_ssl_session_save(&session, buffer + header_length, sizeof buffer - header_length, &length) != 0) {
        mbedtls_ssl_session_free(&session);
        return;
    }
    mbedtls_ssl_session_free(&session);
    char temporary[4096];
    if (snprintf(temporary, sizeof temporary, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof temporary) return;
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return;
    int written = write(fd, buffer, header_length + length) == (ssize_t)(header_length + length);
    if (close(fd) != 0 || !written || rename(temporary, path) != 0) unlink(temporary);
}
