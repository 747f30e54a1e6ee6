#ifndef _GNU_SOURCE
#error "CUnixSocketShim must be built with _GNU_SOURCE (struct ucred)"
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "CUnixSocketShim.h"


static long long monotonic_us(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

// Waits for `events` on fd until deadline; 0 when ready, -ETIMEDOUT or -errno otherwise.
static int wait_for(int fd, short events, long long deadline_us) {
    for (;;) {
        long long left = deadline_us - monotonic_us();
        if (left <= 0) return -ETIMEDOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int ready = poll(&p, 1, (int)((left + 999) / 1000));
        if (ready > 0) return 0;
        if (ready == 0) return -ETIMEDOUT;
        if (errno != EINTR) return -errno;
    }
}

int cunix_connect(const char *path, int timeout_ms) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    size_t length = strlen(path);
    if (length >= sizeof address.sun_path) return -ENAMETOOLONG;
    memcpy(address.sun_path, path, length + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) == 0) return fd;
    int error = errno;
    if (error == EINPROGRESS || error == EAGAIN) {
        // A full accept backlog: wait for the agent rather than fail at once.
        int waited = wait_for(fd, POLLOUT, monotonic_us() + (long long)timeout_ms * 1000);
        socklen_t size = sizeof error;
        if (waited == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0) return fd;
        if (waited != 0) error = -waited;
    }
    close(fd);
    return -error;
}

long cunix_write_all(int fd, const unsigned char *buffer, size_t length, long long deadline_us) {
    size_t done = 0;
    while (done < length) {
        ssize_t n = send(fd, buffer + done, length - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN) return -errno;
        int waited = wait_for(fd, POLLOUT, deadline_us);
        if (waited != 0) return waited;
    }
    return (long)done;
}

long cunix_read(int fd, unsigned char *buffer, size_t length, long long deadline_us) {
    for (;;) {
        ssize_t n = recv(fd, buffer, length, 0);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return -errno;
        int waited = wait_for(fd, POLLIN, deadline_us);
        if (waited != 0) return waited;
    }
}

void cunix_close(int fd) {
    close(fd);
}

int cunix_listen(const char *path, int backlog) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    size_t length = strlen(path);
    if (length >= sizeof address.sun_path) return -ENAMETOOLONG;
    memcpy(address.sun_path, path, length + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    unlink(path);
    // Created with no permissions for anyone but root, so no window exists in which others could connect.
    mode_t old = umask(0177);
    int bound = bind(fd, (struct sockaddr *)&address, sizeof address);
    int error = errno;
    umask(old);
    if (bound != 0 || listen(fd, backlog) != 0) {
        if (bound == 0) error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

int cunix_accept(int listen_fd, int wake_fd, int timeout_ms) {
    struct pollfd fds[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = wake_fd, .events = POLLIN}};
    int ready = poll(fds, 2, timeout_ms);
    if (ready < 0) return errno == EINTR ? -EAGAIN : -errno;
    if (ready == 0) return -EAGAIN;
    if (fds[1].revents) return -ECANCELED;
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

long cunix_peer_uid(int fd) {
    struct ucred credentials;
    socklen_t size = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) return -errno;
    return (long)credentials.uid;
}
