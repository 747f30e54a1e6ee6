#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "CTLSClient.h"
#include "server_verifier.h"
#include "trust_anchors.h"

typedef struct {
    int fd;
    long long deadline_us;
    int timed_out;
    int io_errno;
    trust_anchor_list anchors;
    server_verifier verifier;
    br_ssl_client_context client;
    br_sslio_context io;
    unsigned char buffer[BR_SSL_BUFSIZE_BIDI];
} tls_connection;

#define MAX_CONNECTIONS 16
static tls_connection *connections[MAX_CONNECTIONS];
static pthread_mutex_t connections_lock = PTHREAD_MUTEX_INITIALIZER;

long long tlsc_monotonic_us(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

/// Waits until fd is ready for `events` or the deadline passes. Returns 1 ready, 0 timed out, -1 error.
static int wait_ready(int fd, short events, long long deadline_us) {
    for (;;) {
        long long remaining_ms = (deadline_us - tlsc_monotonic_us() + 999) / 1000;
        if (remaining_ms <= 0) return 0;
        struct pollfd p = {fd, events, 0};
        int n = poll(&p, 1, remaining_ms > 60000 ? 60000 : (int)remaining_ms);
        if (n > 0) return 1;
        if (n < 0 && errno != EINTR) return -1;
    }
}

static int socket_read(void *context, unsigned char *data, size_t length) {
    tls_connection *c = context;
    for (;;) {
        ssize_t n = read(c->fd, data, length);
        if (n > 0) return (int)n;
        if (n == 0) return -1;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) { c->io_errno = errno; return -1; }
        int ready = wait_ready(c->fd, POLLIN, c->deadline_us);
        if (ready == 0) { c->timed_out = 1; return -1; }
        if (ready < 0) { c->io_errno = errno; return -1; }
    }
}

static int socket_write(void *context, const unsigned char *data, size_t length) {
    tls_connection *c = context;
    for (;;) {
        ssize_t n = send(c->fd, data, length, MSG_NOSIGNAL);
        if (n > 0) return (int)n;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { c->io_errno = errno; return -1; }
        int ready = wait_ready(c->fd, POLLOUT, c->deadline_us);
        if (ready == 0) { c->timed_out = 1; return -1; }
        if (ready < 0) { c->io_errno = errno; return -1; }
    }
}

static int connect_with_deadline(const char *host, const char *port, long long deadline_us, char *error, size_t error_length) {
    struct addrinfo hints = {0}, *addresses = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int status = getaddrinfo(host, port, &hints, &addresses);
    if (status != 0) {
        snprintf(error, error_length, "cannot resolve %s: %s", host, gai_strerror(status));
        return -1;
    }
    int last_errno = 0, timed_out = 0;
    for (struct addrinfo *a = addresses; a; a = a->ai_next) {
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) { last_errno = errno; continue; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) { freeaddrinfo(addresses); return fd; }
        if (errno == EINPROGRESS) {
            int ready = wait_ready(fd, POLLOUT, deadline_us);
            int socket_error = 0;
            socklen_t size = sizeof socket_error;
            if (ready == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &size) == 0 && socket_error == 0) {
                freeaddrinfo(addresses);
                return fd;
            }
            if (ready == 0) timed_out = 1;
            last_errno = socket_error ? socket_error : errno;
        } else {
            last_errno = errno;
        }
        close(fd);
    }
    freeaddrinfo(addresses);
    if (timed_out) snprintf(error, error_length, "connecting to %s:%s timed out", host, port);
    else snprintf(error, error_length, "connecting to %s:%s failed: %s", host, port, strerror(last_errno));
    return -1;
}

static const char *bearssl_error_text(int code) {
    switch (code) {
    case BR_ERR_X509_NOT_TRUSTED: return "the server certificate is not signed by the configured CA";
    case BR_ERR_X509_EXPIRED: return "the server certificate is expired or not yet valid";
    case BR_ERR_X509_BAD_SERVER_NAME: return "the server certificate does not match the server name or address";
    case BR_ERR_X509_NOT_CA: return "a certificate in the server's chain is not a CA";
    case BR_ERR_X509_FORBIDDEN_KEY_USAGE: return "the server certificate's key usage forbids this use";
    case BR_ERR_X509_WEAK_PUBLIC_KEY: return "the server certificate's key is too weak";
    case BR_ERR_BAD_VERSION: case BR_ERR_UNSUPPORTED_VERSION: return "no common TLS version (this client speaks TLS 1.2)";
    case BR_ERR_BAD_CIPHER_SUITE: return "no common cipher suite";
    case BR_ERR_RECV_FATAL_ALERT: return "the server sent a fatal alert";
    case BR_ERR_IO: return "connection closed during TLS";
    default: return "TLS failure";
    }
}

static void describe_failure(tls_connection *c, const char *what, char *error, size_t error_length) {
    int code = br_ssl_engine_last_error(&c->client.eng);
    if (c->timed_out) snprintf(error, error_length, "%s timed out", what);
    else if (c->io_errno) snprintf(error, error_length, "%s failed: %s", what, strerror(c->io_errno));
    else snprintf(error, error_length, "%s failed: %s (BearSSL error %d)", what, bearssl_error_text(code), code);
}

static int store(tls_connection *c) {
    pthread_mutex_lock(&connections_lock);
    for (int i = 0; i < MAX_CONNECTIONS; i++) {
        if (!connections[i]) { connections[i] = c; pthread_mutex_unlock(&connections_lock); return i; }
    }
    pthread_mutex_unlock(&connections_lock);
    return -1;
}

static tls_connection *lookup(int handle) {
    if (handle < 0 || handle >= MAX_CONNECTIONS) return NULL;
    pthread_mutex_lock(&connections_lock);
    tls_connection *c = connections[handle];
    pthread_mutex_unlock(&connections_lock);
    return c;
}

static void destroy(tls_connection *c) {
    if (c->fd >= 0) close(c->fd);
    server_verifier_free(&c->verifier);
    trust_anchors_free(&c->anchors);
    free(c);
}

int tlsc_open(const char *host, const char *port, const char *server_name,
              const unsigned char *ca_pem, size_t ca_pem_length, int insecure,
              long long deadline_us, char *error, size_t error_length) {
    tls_connection *c = calloc(1, sizeof *c);
    if (!c) { snprintf(error, error_length, "out of memory"); return -1; }
    c->fd = -1;
    c->deadline_us = deadline_us;
    if (!insecure && trust_anchors_from_pem(ca_pem, ca_pem_length, &c->anchors, error, error_length) != 0) {
        destroy(c);
        return -1;
    }
    unsigned char ip[16];
    size_t ip_length = 0;
    if (!server_name) {
        if (inet_pton(AF_INET, host, ip) == 1) ip_length = 4;
        else if (inet_pton(AF_INET6, host, ip) == 1) ip_length = 16;
        else server_name = host;
    }
    br_ssl_client_init_full(&c->client, &c->verifier.minimal, c->anchors.anchors, c->anchors.count);
    server_verifier_init(&c->verifier, c->anchors.anchors, c->anchors.count, insecure, ip, ip_length);
    br_ssl_engine_set_x509(&c->client.eng, &c->verifier.vtable);
    br_ssl_engine_set_versions(&c->client.eng, BR_TLS12, BR_TLS12);
    br_ssl_engine_set_buffer(&c->client.eng, c->buffer, sizeof c->buffer, 1);
    if (!br_ssl_client_reset(&c->client, server_name, 0)) {
        describe_failure(c, "TLS setup", error, error_length);
        destroy(c);
        return -1;
    }
    c->fd = connect_with_deadline(host, port, deadline_us, error, error_length);
    if (c->fd < 0) { destroy(c); return -1; }
    br_sslio_init(&c->io, &c->client.eng, socket_read, c, socket_write, c);
    // Flushing with nothing to send runs the handshake to completion, so the certificate is verified
    // before any request bytes (and so the bearer token) are written.
    br_sslio_flush(&c->io);
    if (!(br_ssl_engine_current_state(&c->client.eng) & BR_SSL_SENDAPP)) {
        char what[300];
        snprintf(what, sizeof what, "TLS handshake with %s:%s", host, port);
        describe_failure(c, what, error, error_length);
        destroy(c);
        return -1;
    }
    int handle = store(c);
    if (handle < 0) { snprintf(error, error_length, "too many open connections"); destroy(c); }
    return handle;
}

int tlsc_write_all(int handle, const unsigned char *data, size_t length, char *error, size_t error_length) {
    tls_connection *c = lookup(handle);
    if (!c) { snprintf(error, error_length, "invalid connection"); return -1; }
    if (br_sslio_write_all(&c->io, data, length) != 0 || br_sslio_flush(&c->io) != 0) {
        describe_failure(c, "sending the request", error, error_length);
        return -1;
    }
    return 0;
}

long tlsc_read(int handle, unsigned char *buffer, size_t capacity, char *error, size_t error_length) {
    tls_connection *c = lookup(handle);
    if (!c) { snprintf(error, error_length, "invalid connection"); return -1; }
    int n = br_sslio_read(&c->io, buffer, capacity);
    if (n > 0) return n;
    int code = br_ssl_engine_last_error(&c->client.eng);
    if (code == BR_ERR_OK && !c->timed_out && !c->io_errno) return 0;
    // A server that closes without close_notify after a complete response is common (Go does so for
    // `Connection: close`); the caller decides from the HTTP framing whether data is missing.
    if (code == BR_ERR_IO && !c->timed_out && !c->io_errno) return 0;
    describe_failure(c, "reading the response", error, error_length);
    return -1;
}

void tlsc_close(int handle) {
    if (handle < 0 || handle >= MAX_CONNECTIONS) return;
    pthread_mutex_lock(&connections_lock);
    tls_connection *c = connections[handle];
    connections[handle] = NULL;
    pthread_mutex_unlock(&connections_lock);
    if (c) destroy(c);
}
