#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>
#include <time.h>
#include "session_cache.h"

// The format of the serialised session is the TLS library's own; a new library means a new magic, so a
// file an earlier build left behind is ignored rather than misread.
static const char magic[8] = "ICNIWSL1";
// magic | identity digest | when it was stored (8 bytes, seconds since the epoch) | the session
enum { header_length = sizeof magic + 32 + 8, maximum_file = header_length + SESSION_CACHE_MAXIMUM };

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

int session_cache_load(const char *path, const unsigned char identity[32], unsigned char *session, size_t capacity, size_t *length,
                       long long *stored_at) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    unsigned char buffer[maximum_file + 1];
    ssize_t total = 0, n;
    while (total < (ssize_t)sizeof buffer && (n = read(fd, buffer + total, sizeof buffer - (size_t)total)) > 0) total += n;
    close(fd);
    if (total <= header_length || total > maximum_file || memcmp(buffer, magic, sizeof magic) != 0 ||
        memcmp(buffer + sizeof magic, identity, 32) != 0) return -1;
    size_t content = (size_t)total - header_length;
    if (content > capacity) return -1;
    memcpy(session, buffer + header_length, content);
    *length = content;
    int64_t when;
    memcpy(&when, buffer + sizeof magic + 32, sizeof when);
    *stored_at = when;
    return 0;
}

void session_cache_store(const char *path, const unsigned char identity[32], const unsigned char *session, size_t length) {
    if (length == 0 || length > SESSION_CACHE_MAXIMUM) return;
    unsigned char buffer[maximum_file];
    memcpy(buffer, magic, sizeof magic);
    memcpy(buffer + sizeof magic, identity, 32);
    int64_t now = (int64_t)time(NULL);
    memcpy(buffer + sizeof magic + 32, &now, sizeof now);
    memcpy(buffer + header_length, session, length);
    char temporary[4096];
    if (snprintf(temporary, sizeof temporary, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof temporary) return;
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return;
    int written = write(fd, buffer, header_length + length) == (ssize_t)(header_length + length);
    if (close(fd) != 0 || !written || rename(temporary, path) != 0) unlink(temporary);
}
