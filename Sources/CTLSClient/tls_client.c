#include <arpa/inet.h>
#include <dlfcn.h>
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
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include "CTLSClient.h"
#include "certificate_names.h"
#include "session_cache.h"

/// Debian 12's wolfSSL (libwolfssl35), found beside the plugin or in the system's library path.
#define TLSC_LIBRARY "libwolfssl.so.35"

typedef struct {
    int fd;
    long long deadline_us;
    int timed_out;
    int io_errno;
    int peer_closed;
    // A read or write failed (or timed out): the session state is not kept from such a connection.
    int failed;
    int resumed;
    char *session_path;
    unsigned char identity[32];
    // The session as offered, serialised, to tell a renewed ticket from the one we already keep.
    unsigned char *offered;
    int offered_length;
    long long offered_stored_at;
    WOLFSSL_CTX *context;
    WOLFSSL *ssl;
} tls_connection;

// wolfSSL is loaded on the first API lookup, not linked in: its thread-local state (a 47 KiB
// fixed-point ECC cache) would otherwise be zeroed, page by page, for the main thread and the
// namespace thread of every plugin process, API lookup or not (about 25 page faults per ADD). The
// library sits in istio-cni-libs/ beside the plugin (the executable's $ORIGIN rpath), like libmnl.
#define WOLFSSL_FUNCTIONS(X) \
    X(wolfSSL_Init) X(wolfSSLv23_client_method) X(wolfSSL_CTX_new) X(wolfSSL_CTX_free) X(wolfSSL_CTX_SetMinVersion) \
    X(wolfSSL_CTX_SetIORecv) X(wolfSSL_CTX_SetIOSend) X(wolfSSL_CTX_set_verify) X(wolfSSL_CTX_load_verify_buffer) \
    X(wolfSSL_new) X(wolfSSL_free) X(wolfSSL_SetIOReadCtx) X(wolfSSL_SetIOWriteCtx) X(wolfSSL_set_groups) \
    X(wolfSSL_UseSessionTicket) X(wolfSSL_UseSNI) X(wolfSSL_check_domain_name) X(wolfSSL_connect) X(wolfSSL_get_error) \
    X(wolfSSL_session_reused) X(wolfSSL_get_peer_chain) X(wolfSSL_get_chain_count) X(wolfSSL_get_chain_cert) \
    X(wolfSSL_get_chain_length) X(wolfSSL_version) X(wolfSSL_write) X(wolfSSL_read) X(wolfSSL_get_alert_history) \
    X(wolfSSL_alert_desc_string_long) X(wolfSSL_ERR_error_string_n) X(wolfSSL_get1_session) X(wolfSSL_SESSION_is_resumable) \
    X(wolfSSL_i2d_SSL_SESSION) X(wolfSSL_d2i_SSL_SESSION) X(wolfSSL_set_session) X(wolfSSL_SESSION_free) X(wolfSSL_Free)

#define DECLARE_FUNCTION(name) __typeof__(&name) name;
static struct {
    WOLFSSL_FUNCTIONS(DECLARE_FUNCTION)
} wolf;
static const char *library_problem;
static char library_error[256];

static void load_library(void) {
    void *library = dlopen(TLSC_LIBRARY, RTLD_LAZY | RTLD_LOCAL);
    if (!library) {
        snprintf(library_error, sizeof library_error, "the TLS library %s cannot be loaded (it belongs in istio-cni-libs/ beside the "
                 "plugin): %s", TLSC_LIBRARY, dlerror());
        library_problem = library_error;
        return;
    }
#define LOAD_FUNCTION(name) \
    if (!(wolf.name = (__typeof__(&name))dlsym(library, #name))) { \
        snprintf(library_error, sizeof library_error, "the TLS library %s has no %s", TLSC_LIBRARY, #name); \
        library_problem = library_error; \
        return; \
    }
    WOLFSSL_FUNCTIONS(LOAD_FUNCTION)
    wolf.wolfSSL_Init();
}

#define MAX_CONNECTIONS 16
enum { SESSION_REFRESH_SECONDS = 3600 };
static tls_connection *connections[MAX_CONNECTIONS];
static pthread_mutex_t connections_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t library_once = PTHREAD_ONCE_INIT;

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

// wolfSSL's I/O goes through these so that every read and write is bounded by the connection's
// deadline (the socket is non-blocking; poll waits for the rest of the budget).
static int socket_receive(WOLFSSL *ssl, char *data, int length, void *context) {
    (void)ssl;
    tls_connection *c = context;
    for (;;) {
        ssize_t n = read(c->fd, data, (size_t)length);
        if (n > 0) return (int)n;
        if (n == 0) { c->peer_closed = 1; return WOLFSSL_CBIO_ERR_CONN_CLOSE; }
        if (errno == EINTR) continue;
        if (errno == ECONNRESET) { c->peer_closed = 1; return WOLFSSL_CBIO_ERR_CONN_RST; }
        if (errno != EAGAIN && errno != EWOULDBLOCK) { c->io_errno = errno; return WOLFSSL_CBIO_ERR_GENERAL; }
        int ready = wait_ready(c->fd, POLLIN, c->deadline_us);
        if (ready == 0) { c->timed_out = 1; return WOLFSSL_CBIO_ERR_TIMEOUT; }
        if (ready < 0) { c->io_errno = errno; return WOLFSSL_CBIO_ERR_GENERAL; }
    }
}

static int socket_send(WOLFSSL *ssl, char *data, int length, void *context) {
    (void)ssl;
    tls_connection *c = context;
    for (;;) {
        ssize_t n = send(c->fd, data, (size_t)length, MSG_NOSIGNAL);
        if (n >= 0) return (int)n;
        if (errno == EINTR) continue;
        if (errno == EPIPE || errno == ECONNRESET) { c->peer_closed = 1; return WOLFSSL_CBIO_ERR_CONN_CLOSE; }
        if (errno != EAGAIN && errno != EWOULDBLOCK) { c->io_errno = errno; return WOLFSSL_CBIO_ERR_GENERAL; }
        int ready = wait_ready(c->fd, POLLOUT, c->deadline_us);
        if (ready == 0) { c->timed_out = 1; return WOLFSSL_CBIO_ERR_TIMEOUT; }
        if (ready < 0) { c->io_errno = errno; return WOLFSSL_CBIO_ERR_GENERAL; }
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

/// What went wrong, in the terms an operator looks for: the protocol version, the certificate's name,
/// an unknown CA, an expired certificate, an alert from the server, or the socket.
static void describe_failure(tls_connection *c, int code, const char *what, char *error, size_t error_length) {
    if (c->timed_out) { snprintf(error, error_length, "%s timed out", what); return; }
    if (c->io_errno) { snprintf(error, error_length, "%s failed: %s", what, strerror(c->io_errno)); return; }
    WOLFSSL_ALERT_HISTORY alerts;
    memset(&alerts, 0, sizeof alerts);
    if (c->ssl) wolf.wolfSSL_get_alert_history(c->ssl, &alerts);
    int received = alerts.last_rx.level == alert_fatal ? alerts.last_rx.code : -1;
    const char *reason = NULL;
    switch (code) {
    case VERSION_ERROR:
    case SOCKET_PEER_CLOSED_E:
        if (code == VERSION_ERROR || received == protocol_version)
            reason = "protocol version: the server and istio-cni share no TLS version (istio-cni speaks TLS 1.2 and TLS 1.3)";
        break;
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
        reason = "certificate name: the server certificate does not match the server name or address";
        break;
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
        reason = "unknown CA: the server certificate is not signed by the configured CA";
        break;
    case ASN_AFTER_DATE_E:
        reason = "the server certificate has expired";
        break;
    case ASN_BEFORE_DATE_E:
        reason = "the server certificate is not valid yet";
        break;
    case ASN_SIG_CONFIRM_E:
        // A CA of the same name but another key (a cluster CA that was rotated, another cluster's).
        reason = "unknown CA: the server certificate is not signed by the configured CA (its signature does not verify against the CA of that name)";
        break;
    default:
        break;
    }
    if (!reason && received == protocol_version)
        reason = "protocol version: the server and istio-cni share no TLS version (istio-cni speaks TLS 1.2 and TLS 1.3)";
    if (reason) { snprintf(error, error_length, "%s failed: %s", what, reason); return; }
    if (received >= 0) {
        snprintf(error, error_length, "%s failed: the server sent the alert %s (%d)", what,
                 wolf.wolfSSL_alert_desc_string_long(received), received);
        return;
    }
    if (c->peer_closed) { snprintf(error, error_length, "%s failed: the server closed the connection", what); return; }
    char text[WOLFSSL_MAX_ERROR_SZ];
    wolf.wolfSSL_ERR_error_string_n((unsigned long)(code < 0 ? -code : code), text, sizeof text);
    snprintf(error, error_length, "%s failed: %s (%d)", what, text, code);
}

static int error_code(tls_connection *c, int result) {
    return wolf.wolfSSL_get_error(c->ssl, result);
}

/// Keeps the connection's session for the next process after a full handshake (TLS 1.2 carries its
/// ticket in the handshake, TLS 1.3 sends tickets after it, so this runs at close), and only for a
/// connection whose reads and writes all succeeded: a read cut short by the deadline can leave a
/// half-processed ticket that the server then refuses. A resumed session is kept as it is (servers
/// accept a ticket more than once outside 0-RTT) until it is an hour old, so most ADDs write nothing.
static void keep_session(tls_connection *c) {
    if (!c->session_path || !c->ssl || c->failed) return;
    if (c->resumed && (long long)time(NULL) - c->offered_stored_at < SESSION_REFRESH_SECONDS) return;
    WOLFSSL_SESSION *session = wolf.wolfSSL_get1_session(c->ssl);
    if (!session) return;
    if (wolf.wolfSSL_SESSION_is_resumable(session)) {
        unsigned char *bytes = NULL;
        int length = wolf.wolfSSL_i2d_SSL_SESSION(session, &bytes);
        if (length > 0 && bytes &&
            !(c->offered && length == c->offered_length && memcmp(bytes, c->offered, (size_t)length) == 0)) {
            session_cache_store(c->session_path, c->identity, bytes, (size_t)length);
        }
        if (bytes) wolf.wolfSSL_Free(bytes);
    }
    wolf.wolfSSL_SESSION_free(session);
}

static void destroy(tls_connection *c) {
    if (c->ssl) wolf.wolfSSL_free(c->ssl);
    if (c->context) wolf.wolfSSL_CTX_free(c->context);
    if (c->fd >= 0) close(c->fd);
    free(c->offered);
    free(c->session_path);
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

/// Offers the session kept by an earlier process, if it was made for this server.
static void offer_session(tls_connection *c) {
    unsigned char bytes[SESSION_CACHE_MAXIMUM];
    size_t length = 0;
    if (session_cache_load(c->session_path, c->identity, bytes, sizeof bytes, &length, &c->offered_stored_at) != 0) return;
    const unsigned char *cursor = bytes;
    WOLFSSL_SESSION *session = wolf.wolfSSL_d2i_SSL_SESSION(NULL, &cursor, (long)length);
    if (!session) return;
    if (wolf.wolfSSL_SESSION_is_resumable(session) && wolf.wolfSSL_set_session(c->ssl, session) == WOLFSSL_SUCCESS) {
        c->offered = malloc(length);
        if (c->offered) { memcpy(c->offered, bytes, length); c->offered_length = (int)length; }
    }
    wolf.wolfSSL_SESSION_free(session);
}

int tlsc_open(const char *host, const char *port, const char *server_name,
              const unsigned char *ca_pem, size_t ca_pem_length, int insecure, const char *session_path,
              long long deadline_us, char *error, size_t error_length) {
    pthread_once(&library_once, load_library);
    if (library_problem) { snprintf(error, error_length, "%s", library_problem); return -2; }
    tls_connection *c = calloc(1, sizeof *c);
    if (!c) { snprintf(error, error_length, "out of memory"); return -1; }
    c->fd = -1;
    c->deadline_us = deadline_us;
    // The caller's string lives only for this call; the session is kept at close.
    c->session_path = session_path ? strdup(session_path) : NULL;
    unsigned char expected_ip[16];
    size_t expected_ip_length = 0;
    if (!server_name) {
        if (inet_pton(AF_INET, host, expected_ip) == 1) expected_ip_length = 4;
        else if (inet_pton(AF_INET6, host, expected_ip) == 1) expected_ip_length = 16;
        else server_name = host;
    }
    c->context = wolf.wolfSSL_CTX_new(wolf.wolfSSLv23_client_method());
    if (!c->context || wolf.wolfSSL_CTX_SetMinVersion(c->context, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
        snprintf(error, error_length, "TLS setup failed");
        destroy(c);
        return -1;
    }
    wolf.wolfSSL_CTX_SetIORecv(c->context, socket_receive);
    wolf.wolfSSL_CTX_SetIOSend(c->context, socket_send);
    if (insecure) {
        wolf.wolfSSL_CTX_set_verify(c->context, WOLFSSL_VERIFY_NONE, NULL);
    } else {
        wolf.wolfSSL_CTX_set_verify(c->context, WOLFSSL_VERIFY_PEER, NULL);
        int loaded = ca_pem_length > 0 ? wolf.wolfSSL_CTX_load_verify_buffer(c->context, ca_pem, (long)ca_pem_length, WOLFSSL_FILETYPE_PEM) : 0;
        if (loaded != WOLFSSL_SUCCESS) {
            snprintf(error, error_length, "CA data is not a PEM certificate bundle (%s)", ca_pem_length ? "no certificate could be read" : "empty");
            destroy(c);
            return -1;
        }
    }
    c->ssl = wolf.wolfSSL_new(c->context);
    if (!c->ssl) { snprintf(error, error_length, "TLS setup failed: out of memory"); destroy(c); return -1; }
    wolf.wolfSSL_SetIOReadCtx(c->ssl, c);
    wolf.wolfSSL_SetIOWriteCtx(c->ssl, c);
    // X25519 first: Go's and BoringSSL's servers take it, so TLS 1.3 needs no HelloRetryRequest; P-256
    // and P-384 stay offered for servers (FIPS builds) that do not.
    int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_SECP384R1};
    wolf.wolfSSL_set_groups(c->ssl, groups, 3);
    wolf.wolfSSL_UseSessionTicket(c->ssl);
    if (server_name) {
        wolf.wolfSSL_UseSNI(c->ssl, WOLFSSL_SNI_HOST_NAME, server_name, (unsigned short)strlen(server_name));
        if (!insecure) wolf.wolfSSL_check_domain_name(c->ssl, server_name);
    }
    session_identity(host, port, server_name, insecure ? NULL : ca_pem, insecure ? 0 : ca_pem_length, c->identity);
    if (session_path) offer_session(c);
    c->fd = connect_with_deadline(host, port, deadline_us, error, error_length);
    if (c->fd < 0) { destroy(c); return -1; }
    // The handshake completes (certificate verified) before any request bytes, and so the bearer
    // token, are written.
    int result = wolf.wolfSSL_connect(c->ssl);
    if (result != WOLFSSL_SUCCESS) {
        char what[300];
        snprintf(what, sizeof what, "TLS handshake with %s:%s", host, port);
        describe_failure(c, error_code(c, result), what, error, error_length);
        // A server that refuses the offered session would refuse it from every later process too:
        // drop it, so the next attempt makes a full handshake.
        if (c->offered && !c->timed_out && !c->io_errno) unlink(session_path);
        destroy(c);
        return -1;
    }
    c->resumed = wolf.wolfSSL_session_reused(c->ssl) != 0;
    // API servers are usually reached by IP (the in-cluster service address): check the leaf
    // certificate's IP address entries. A resumed session was verified when it was made.
    if (!insecure && expected_ip_length > 0 && !c->resumed) {
        WOLFSSL_X509_CHAIN *chain = wolf.wolfSSL_get_peer_chain(c->ssl);
        unsigned char *leaf = chain && wolf.wolfSSL_get_chain_count(chain) > 0 ? wolf.wolfSSL_get_chain_cert(chain, 0) : NULL;
        int leaf_length = leaf ? wolf.wolfSSL_get_chain_length(chain, 0) : 0;
        if (!leaf || !certificate_has_ip_address(leaf, (size_t)leaf_length, expected_ip, expected_ip_length)) {
            snprintf(error, error_length, "TLS handshake with %s:%s failed: certificate name: the server certificate does not "
                     "match the server name or address (its subjectAltName does not list %s)", host, port, host);
            destroy(c);
            return -1;
        }
    }
    int handle = store(c);
    if (handle < 0) { snprintf(error, error_length, "too many open connections"); destroy(c); }
    return handle;
}

int tlsc_resumed(int handle) {
    tls_connection *c = lookup(handle);
    return c ? c->resumed : 0;
}

int tlsc_protocol_version(int handle) {
    tls_connection *c = lookup(handle);
    if (!c) return 0;
    switch (wolf.wolfSSL_version(c->ssl)) {
    case TLS1_3_VERSION: return 13;
    case TLS1_2_VERSION: return 12;
    default: return 0;
    }
}

int tlsc_write_all(int handle, const unsigned char *data, size_t length, char *error, size_t error_length) {
    tls_connection *c = lookup(handle);
    if (!c) { snprintf(error, error_length, "invalid connection"); return -1; }
    while (length > 0) {
        int chunk = length > 16384 ? 16384 : (int)length;
        int n = wolf.wolfSSL_write(c->ssl, data, chunk);
        if (n <= 0) {
            int code = error_code(c, n);
            if (code == WOLFSSL_ERROR_WANT_READ || code == WOLFSSL_ERROR_WANT_WRITE) continue;
            c->failed = 1;
            describe_failure(c, code, "sending the request", error, error_length);
            return -1;
        }
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

long tlsc_read(int handle, unsigned char *buffer, size_t capacity, char *error, size_t error_length) {
    tls_connection *c = lookup(handle);
    if (!c) { snprintf(error, error_length, "invalid connection"); return -1; }
    int wanted = capacity > 16384 ? 16384 : (int)capacity;
    for (;;) {
        int n = wolf.wolfSSL_read(c->ssl, buffer, wanted);
        if (n > 0) return n;
        int code = error_code(c, n);
        if (code == WOLFSSL_ERROR_WANT_READ || code == WOLFSSL_ERROR_WANT_WRITE) continue;
        // A close, with or without close_notify, after a complete response is common; the caller
        // decides from the HTTP framing whether data is missing.
        if (code == WOLFSSL_ERROR_ZERO_RETURN || c->peer_closed) return 0;
        c->failed = 1;
        describe_failure(c, code, "reading the response", error, error_length);
        return -1;
    }
}

void tlsc_close(int handle) {
    if (handle < 0 || handle >= MAX_CONNECTIONS) return;
    pthread_mutex_lock(&connections_lock);
    tls_connection *c = connections[handle];
    connections[handle] = NULL;
    pthread_mutex_unlock(&connections_lock);
    if (!c) return;
    keep_session(c);
    destroy(c);
}
