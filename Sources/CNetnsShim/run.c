#ifndef _GNU_SOURCE
#error "CNetnsShim must be built with _GNU_SOURCE (clone, setns, pipe2)"
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "CNetnsShim.h"

struct child_setup {
    int netns_fd;
    const char *path;
    char *const *argv;
    char *const *envp;
    int fds[3];
    volatile int exec_errno;
};

// Runs in the clone child, which shares the caller's memory until it execs (CLONE_VFORK holds the
// caller until then), so it only makes system calls and records why it failed.
static int child_main(void *argument) {
    struct child_setup *setup = argument;
    struct sigaction defaults = {0};
    defaults.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &defaults, NULL);
    sigset_t none;
    sigemptyset(&none);
    if (setns(setup->netns_fd, CLONE_NEWNET) != 0) goto failed;
    for (int target = 0; target < 3; target++) {
        if (dup2(setup->fds[target], target) < 0) goto failed;
    }
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(setup->path, setup->argv, setup->envp);
failed:
    setup->exec_errno = errno ? errno : EINVAL;
    _exit(127);
}

static long long now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int append(char **buffer, size_t *length, const char *bytes, size_t count) {
    char *grown = realloc(*buffer, *length + count + 1);
    if (!grown) return -ENOMEM;
    memcpy(grown + *length, bytes, count);
    *length += count;
    grown[*length] = 0;
    *buffer = grown;
    return 0;
}

static void close_all(int *fds, int count) {
    for (int i = 0; i < count; i++) {
        if (fds[i] >= 0) close(fds[i]);
        fds[i] = -1;
    }
}

// Feeds stdin and drains stdout/stderr until both close or the deadline passes.
static int pump(int in_fd, int out_fd, int err_fd, const char *input, size_t input_length, long long deadline,
                struct cnetns_output *output) {
    size_t written = 0;
    int open_fds[3] = {input_length > 0 ? in_fd : -1, out_fd, err_fd};
    if (input_length == 0) close(in_fd);
    char chunk[16384];
    while (open_fds[1] >= 0 || open_fds[2] >= 0) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            close_all(open_fds, 3);
            return -ETIMEDOUT;
        }
        struct pollfd polls[3];
        for (int i = 0; i < 3; i++) {
            polls[i].fd = open_fds[i];
            polls[i].events = i == 0 ? POLLOUT : POLLIN;
            polls[i].revents = 0;
        }
        int ready = poll(polls, 3, (int)left);
        if (ready < 0 && errno != EINTR) {
            int code = errno;
            close_all(open_fds, 3);
            return -code;
        }
        if (ready <= 0) continue;
        if (open_fds[0] >= 0 && polls[0].revents) {
            ssize_t count = write(open_fds[0], input + written, input_length - written);
            if (count > 0) written += (size_t)count;
            if (count < 0 && errno != EAGAIN && errno != EINTR) written = input_length;  // the child stopped reading
            if (written == input_length) {
                close(open_fds[0]);
                open_fds[0] = -1;
            }
        }
        for (int i = 1; i < 3; i++) {
            if (open_fds[i] < 0 || !polls[i].revents) continue;
            ssize_t count = read(open_fds[i], chunk, sizeof chunk);
            if (count > 0) {
                int status = i == 1 ? append(&output->out, &output->out_length, chunk, (size_t)count)
                                    : append(&output->err, &output->err_length, chunk, (size_t)count);
                if (status != 0) {
                    close_all(open_fds, 3);
                    return status;
                }
            } else if (count == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(open_fds[i]);
                open_fds[i] = -1;
            }
        }
    }
    close_all(open_fds, 1);
    return 0;
}

int cnetns_run(int netns_fd, const char *path, char *const argv[], char *const envp[],
               const char *input, size_t input_length, int timeout_ms, struct cnetns_output *output) {
    memset(output, 0, sizeof *output);
    if (!argv || !argv[0] || !envp) return -EINVAL;
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) != 0) return -errno;
    if (pipe2(out_pipe, O_CLOEXEC) != 0) {
        int code = errno;
        close_all(in_pipe, 2);
        return -code;
    }
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        int code = errno;
        close_all(in_pipe, 2);
        close_all(out_pipe, 2);
        return -code;
    }
    struct child_setup setup = {
        .netns_fd = netns_fd, .path = path,
        .argv = argv, .envp = envp,
        .fds = {in_pipe[0], out_pipe[1], err_pipe[1]}, .exec_errno = 0,
    };
    const size_t stack_size = 64 * 1024;
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    int result = 0;
    pid_t pid = -1;
    if (stack == MAP_FAILED) {
        result = -ENOMEM;
    } else {
        pid = clone(child_main, (char *)stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &setup);
        if (pid < 0) result = -errno;
    }
    if (stack != MAP_FAILED) munmap(stack, stack_size);
    int child_ends[3] = {in_pipe[0], out_pipe[1], err_pipe[1]};
    close_all(child_ends, 3);
    if (result != 0) {
        int ours[3] = {in_pipe[1], out_pipe[0], err_pipe[0]};
        close_all(ours, 3);
        return result;
    }
    if (setup.exec_errno != 0) {
        int ours[3] = {in_pipe[1], out_pipe[0], err_pipe[0]};
        close_all(ours, 3);
        waitpid(pid, &output->wait_status, 0);
        return -setup.exec_errno;
    }
    // A child that exits before reading all of stdin must not kill us with SIGPIPE: block it while
    // writing and discard one that arrived, then restore the caller's mask.
    sigset_t pipe_only, previous;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    result = pump(in_pipe[1], out_pipe[0], err_pipe[0], input, input_length, now_ms() + timeout_ms, output);
    if (result != 0) kill(pid, SIGKILL);
    while (waitpid(pid, &output->wait_status, 0) < 0 && errno == EINTR) {}
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_only, NULL, &zero) > 0) {}
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    return result;
}

void cnetns_output_free(struct cnetns_output *output) {
    free(output->out);
    free(output->err);
    output->out = output->err = NULL;
    output->out_length = output->err_length = 0;
}
