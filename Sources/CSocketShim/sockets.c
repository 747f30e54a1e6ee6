#ifndef _GNU_SOURCE
#error "CSocketShim must be built with _GNU_SOURCE"
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "CSocketShim.h"

static int format_address(const struct sockaddr_storage *address, char *text, size_t length) {
    char host[INET6_ADDRSTRLEN];
    unsigned short port;
    if (address->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const void *)address;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        port = ntohs(v4->sin_port);
        snprintf(text, length, "%s:%u", host, port);
    } else {
        const struct sockaddr_in6 *v6 = (const void *)address;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        port = ntohs(v6->sin6_port);
        snprintf(text, length, "[%s]:%u", host, port);
    }
    return 0;
}

int csock_listen(const char *bind_address, int family, int type, unsigned short port) {
    int domain = family == 6 ? AF_INET6 : AF_INET;
    int fd = socket(domain, (type == CSOCK_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_storage address = {0};
    socklen_t size;
    if (domain == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        struct sockaddr_in6 *v6 = (void *)&address;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        v6->sin6_addr = in6addr_any;
        if (bind_address && inet_pton(AF_INET6, bind_address, &v6->sin6_addr) != 1) { close(fd); return -EINVAL; }
        size = sizeof *v6;
    } else {
        struct sockaddr_in *v4 = (void *)&address;
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        v4->sin_addr.s_addr = htonl(INADDR_ANY);
        if (bind_address && inet_pton(AF_INET, bind_address, &v4->sin_addr) != 1) { close(fd); return -EINVAL; }
        size = sizeof *v4;
    }
    if (bind(fd, (struct sockaddr *)&address, size) != 0 || (type == CSOCK_TCP && listen(fd, 64) != 0)) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

int csock_wait_any(const int *fds, int count, int timeout_ms) {
    struct pollfd polls[8];
    if (count > 8) count = 8;
    for (int i = 0; i < count; i++) { polls[i].fd = fds[i]; polls[i].events = POLLIN; polls[i].revents = 0; }
    int n = poll(polls, count, timeout_ms);
    if (n < 0) return -errno;
    if (n == 0) return -ETIMEDOUT;
    for (int i = 0; i < count; i++) if (polls[i].revents) return i;
    return -EIO;
}

int csock_accept(int listen_fd) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int csock_original_destination(int fd, int family, char *text, size_t length) {
    struct sockaddr_storage address = {0};
    socklen_t size = sizeof address;
    int result = family == 6 ? getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &address, &size)
                             : getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &address, &size);
    if (result != 0) return -errno;
    return format_address(&address, text, length);
}

int csock_peer(int fd, char *text, size_t length) {
    struct sockaddr_storage address = {0};
    socklen_t size = sizeof address;
    if (getpeername(fd, (struct sockaddr *)&address, &size) != 0) return -errno;
    return format_address(&address, text, length);
}

int csock_connect_from(const char *source, const char *host, unsigned short port, int type, int timeout_ms) {
    struct addrinfo hints = {0}, *result = NULL, *local = NULL;
    hints.ai_flags = AI_NUMERICHOST;
    hints.ai_socktype = type == CSOCK_UDP ? SOCK_DGRAM : SOCK_STREAM;
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    if (getaddrinfo(host, service, &hints, &result) != 0 || !result) return -EINVAL;
    if (source && (getaddrinfo(source, "0", &hints, &local) != 0 || !local || local->ai_family != result->ai_family)) {
        freeaddrinfo(result);
        if (local) freeaddrinfo(local);
        return -EINVAL;
    }
    int fd = socket(result->ai_family, result->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) { freeaddrinfo(result); if (local) freeaddrinfo(local); return -errno; }
    struct timeval timeout = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    int status = local ? bind(fd, local->ai_addr, local->ai_addrlen) : 0;
    if (status == 0) status = connect(fd, result->ai_addr, result->ai_addrlen);
    int error = errno;
    freeaddrinfo(result);
    if (local) freeaddrinfo(local);
    if (status != 0) { close(fd); return error == EINPROGRESS ? -ETIMEDOUT : -error; }
    return fd;
}

int csock_connect(const char *host, unsigned short port, int type, int timeout_ms) {
    return csock_connect_from(NULL, host, port, type, timeout_ms);
}

int csock_answer_datagram(int fd, const char *reply, char *from, size_t from_length) {
    unsigned char buffer[2048];
    struct sockaddr_storage sender = {0};
    socklen_t size = sizeof sender;
    ssize_t n = recvfrom(fd, buffer, sizeof buffer, 0, (struct sockaddr *)&sender, &size);
    if (n < 0) return -errno;
    format_address(&sender, from, from_length);
    if (sendto(fd, reply, strlen(reply), 0, (struct sockaddr *)&sender, size) < 0) return -errno;
    return (int)n;
}

long csock_read(int fd, unsigned char *buffer, size_t length, int timeout_ms) {
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, timeout_ms);
    if (n == 0) return -ETIMEDOUT;
    if (n < 0) return -errno;
    ssize_t count = read(fd, buffer, length);
    return count < 0 ? -errno : count;
}

long csock_write(int fd, const unsigned char *buffer, size_t length) {
    ssize_t count = send(fd, buffer, length, MSG_NOSIGNAL);
    return count < 0 ? -errno : count;
}

int csock_become(unsigned uid, unsigned gid) {
    if (setgroups(0, NULL) != 0) return -errno;
    if (setresgid(gid, gid, gid) != 0) return -errno;
    if (setresuid(uid, uid, uid) != 0) return -errno;
    return 0;
}

void csock_close(int fd) {
    close(fd);
}

int csock_make_transparent(int fd, int family) {
    int one = 1;
    int result = family == 6 ? setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one)
                             : setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one);
    return result == 0 ? 0 : -errno;
}

int csock_local(int fd, char *text, size_t length) {
    struct sockaddr_storage address = {0};
    socklen_t size = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &size) != 0) return -errno;
    return format_address(&address, text, length);
}

int csock_bind_without_listening(const char *address) {
    int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (tcp < 0) return -errno;
    struct sockaddr_in v4 = {0};
    v4.sin_family = AF_INET;
    v4.sin_port = 0;
    if (inet_pton(AF_INET, address, &v4.sin_addr) != 1) { close(tcp); return -EINVAL; }
    if (bind(tcp, (struct sockaddr *)&v4, sizeof v4) != 0) {
        int error = errno;
        close(tcp);
        return -error;
    }
    return tcp;
}
