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
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include "CTLSClient.h"
#include "certificate_names.h"
#include "pem_certificates.h"
#include "session_cache.h"

typedef struct {
    int fd;
    long long deadline_us;
    int timed_out;
    int io_errno;
    int resumed;
    int certificate_seen;
    unsigned char expected_ip[16];
    size_t expected_ip_length;
    int ip_mismatch;
    mbedtls_x509_crt authority;
    mbedtls_ssl_config config;
    mbedtls_ssl_context ssl;
} tls_connection;

#define MAX_CONNECTIONS 16
static tls_connection *connections[MAX_CONNECTIONS];
static pthread_mutex_t connections_lock = PTHREAD_MUTEX_INITIALIZER;

/// The whole curve list, fastest first: servers that follow the client's order (and Go's, which
/// prefers X25519 itself) then agree on X25519.
static const mbedtls_ecp_group_id curves[] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
                                              MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_NONE};

long long tlsc_monotonic_us(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

/// Randomness straight from the kernel's CSPRNG: no DRBG to seed in a process that lives for one ADD.
static int kernel_random(void *context, unsigned char *output, size_t length) {
    (void)context;
    while (length > 0) {
        ssize_t n = getrandom(output, length, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
        }
        output += n;
        length -= (size_t)n;
    }
    return 0;
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

static int socket_receive(void *context, unsigned char *data, size_t length) {
    tls_connection *c = context;
    for (;;) {
        ssize_t n = read(c->fd, data, length);
        if (n >= 0) return (int)n;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) { c->io_errno = errno; return MBEDTLS_ERR_NET_RECV_FAILED; }
        int ready = wait_ready(c->fd, POLLIN, c->deadline_us);
        if (ready == 0) { c->timed_out = 1; return MBEDTLS_ERR_SSL_TIMEOUT; }
        if (ready < 0) { c->io_errno = errno; return MBEDTLS_ERR_NET_RECV_FAILED; }
    }
}

static int socket_send(void *context, const unsigned char *data, size_t length) {
    tls_connection *c = context;
    for (;;) {
        ssize_t n = send(c->fd, data, length, MSG_NOSIGNAL);
        if (n >= 0) return (int)n;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) { c->io_errno = errno; return MBEDTLS_ERR_NET_SEND_FAILED; }
        int ready = wait_ready(c->fd, POLLOUT, c->deadline_us);
        if (ready == 0) { c->timed_out = 1; return MBEDTLS_ERR_SSL_TIMEOUT; }
        if (ready < 0) { c->io_errno = errno; return MBEDTLS_ERR_NET_SEND_FAILED; }
    }
}

/// mbedTLS 2.28 matches DNS names only; API servers are usually reached by IP (the in-cluster service
/// address), so for an IP-literal host the leaf certificate's IP address entries are checked here,
/// during the handshake, before any request (and so the bearer token) is sent.
static int verify_certificate(void *context, mbedtls_x509_crt *certificate, int depth, uint32_t *flags) {
    tls_connection *c = context;
    c->certificate_seen = 1;
    if (depth == 0 && c->expected_ip_length > 0 &&
        !certificate_has_ip_address(certificate->raw.p, certificate->raw.len, c->expected_ip, c->expected_ip_length)) {
        c->ip_mismatch = 1;
        *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
    return 0;
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

static void describe_failure(tls_connection *c, int code, const char *what, char *error, size_t error_length) {
    if (c->timed_out) { snprintf(error, error_length, "%s timed out", what); return; }
    if (c->io_errno) { snprintf(error, error_length, "%s failed: %s", what, strerror(c->io_errno)); return; }
    if (code == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
        const char *reason = "the server certificate is not trusted";
        if (c->ip_mismatch || (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)) reason = "the server certificate does not match the server name or address";
        else if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE)) reason = "the server certificate is expired or not yet valid";
        else if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) reason = "the server certificate is not signed by the configured CA";
        snprintf(error, error_length, "%s failed: %s", what, reason);
        return;
    }
    char text[160];
    mbedtls_strerror(code, text, sizeof text);
    snprintf(error, error_length, "%s failed: %s", what, text);
}

static void destroy(tls_connection *c) {
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->config);
    mbedtls_x509_crt_free(&c->authority);
    if (c->fd >= 0) close(c->fd);
    free(c);
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

int tlsc_open(const char *host, const char *port, const char *server_name,
              const unsigned char *ca_pem, size_t ca_pem_length, int insecure, const char *session_path,
              long long deadline_us, char *error, size_t error_length) {
    tls_connection *c = calloc(1, sizeof *c);
    if (!c) { snprintf(error, error_length, "out of memory"); return -1; }
    c->fd = -1;
    c->deadline_us = deadline_us;
    mbedtls_x509_crt_init(&c->authority);
    mbedtls_ssl_config_init(&c->config);
    mbedtls_ssl_init(&c->ssl);
    int code;
    if (!insecure) {
        code = parse_pem_certificates(&c->authority, ca_pem, ca_pem_length);
        if (code <= 0) {
            char text[160];
            mbedtls_strerror(code, text, sizeof text);
            snprintf(error, error_length, "CA data is not a PEM certificate bundle: %s", code ? text : "no certificate");
            destroy(c);
            return -1;
        }
    }
    if (!server_name) {
        if (inet_pton(AF_INET, host, c->expected_ip) == 1) c->expected_ip_length = 4;
        else if (inet_pton(AF_INET6, host, c->expected_ip) == 1) c->expected_ip_length = 16;
        else server_name = host;
    }
    mbedtls_ssl_config_defaults(&c->config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_min_version(&c->config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_rng(&c->config, kernel_random, NULL);
    mbedtls_ssl_conf_curves(&c->config, curves);
    mbedtls_ssl_conf_session_tickets(&c->config, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
    mbedtls_ssl_conf_authmode(&c->config, insecure ? MBEDTLS_SSL_VERIFY_NONE : MBEDTLS_SSL_VERIFY_REQUIRED);
    if (!insecure) mbedtls_ssl_conf_ca_chain(&c->config, &c->authority, NULL);
    mbedtls_ssl_conf_verify(&c->config, verify_certificate, c);
    if ((code = mbedtls_ssl_setup(&c->ssl, &c->config)) != 0 ||
        (server_name && (code = mbedtls_ssl_set_hostname(&c->ssl, server_name)) != 0)) {
        describe_failure(c, code, "TLS setup", error, error_length);
        destroy(c);
        return -1;
    }
    unsigned char identity[32];
    session_identity(host, port, server_name, insecure ? NULL : ca_pem, insecure ? 0 : ca_pem_length, identity);
    int offered = 0;
    unsigned char offered_ticket[2048];
    size_t offered_ticket_length = 0;
    if (session_path) {
        mbedtls_ssl_session cached;
        mbedtls_ssl_session_init(&cached);
        offered = session_cache_load(session_path, identity, &cached) == 0 && mbedtls_ssl_set_session(&c->ssl, &cached) == 0;
        if (offered && cached.ticket_len <= sizeof offered_ticket) {
            memcpy(offered_ticket, cached.ticket, cached.ticket_len);
            offered_ticket_length = cached.ticket_len;
        }
        mbedtls_ssl_session_free(&cached);
    }
    c->fd = connect_with_deadline(host, port, deadline_us, error, error_length);
    if (c->fd < 0) { destroy(c); return -1; }
    mbedtls_ssl_set_bio(&c->ssl, c, socket_send, socket_receive, NULL);
    // The handshake completes (certificate verified) before any request bytes, and so the bearer
    // token, are written.
    while ((code = mbedtls_ssl_handshake(&c->ssl)) != 0) {
        if (code != MBEDTLS_ERR_SSL_WANT_READ && code != MBEDTLS_ERR_SSL_WANT_WRITE) {
            char what[300];
            snprintf(what, sizeof what, "TLS handshake with %s:%s", host, port);
            describe_failure(c, code, what, error, error_length);
            destroy(c);
            return -1;
        }
    }
    // A resumed handshake skips the certificate, so the verify callback never ran.
    c->resumed = offered && !c->certificate_seen;
    if (session_path) {
        // Keep the session when it is new (full handshake) or the server renewed its ticket.
        mbedtls_ssl_session current;
        mbedtls_ssl_session_init(&current);
        if (mbedtls_ssl_get_session(&c->ssl, &current) == 0 && current.ticket_len > 0 &&
            (!c->resumed || current.ticket_len != offered_ticket_length ||
             memcmp(current.ticket, offered_ticket, offered_ticket_length) != 0)) {
            session_cache_store(session_path, identity, &c->ssl);
        }
        mbedtls_ssl_session_free(&current);
    }
    int handle = store(c);
    if (handle < 0) { snprintf(error, error_length, "too many open connections"); destroy(c); }
    return handle;
}

int tlsc_resumed(int handle) {
    tls_connection *c = lookup(handle);
    return c ? c->resumed : 0;
}

int tlsc_write_all(int handle, const unsigned char *data, size_t length, char *error, size_t error_length) {
    tls_connection *c = lookup(handle);
    if (!c) { snprintf(error, error_length, "invalid connection"); return -1; }
    while (length > 0) {
        int n = mbedtls_ssl_write(&c->ssl, data, length);
        if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if (n < 0) { describe_failure(c, n, "sending the request", error, error_length); return -1; }
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

long tlsc_read(int handle, unsigned char *buffer, size_t capacity, char *error, size_t error_length) {
    tls_connection *c = lookup(handle);
    if (!c) { snprintf(error, error_length, "invalid connection"); return -1; }
    for (;;) {
        int n = mbedtls_ssl_read(&c->ssl, buffer, capacity);
        if (n >= 0) return n;
        if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        // A close without close_notify after a complete response is common; the caller decides from
        // the HTTP framing whether data is missing.
        if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || n == MBEDTLS_ERR_NET_CONN_RESET) return 0;
        describe_failure(c, n, "reading the response", error, error_length);
        return -1;
    }
}

void tlsc_close(int handle) {
    if (handle < 0 || handle >= MAX_CONNECTIONS) return;
    pthread_mutex_lock(&connections_lock);
    tls_connection *c = connections[handle];
    connections[handle] = NULL;
    pthread_mutex_unlock(&connections_lock);
    if (c) destroy(c);
}
