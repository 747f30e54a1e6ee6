#ifndef _GNU_SOURCE
#error "CSpawnShim must be built with _GNU_SOURCE (pipe2)"
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "CSpawnShim.h"

extern char **environ;

int cspawn_pipe(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

// Pointers to each string of a NUL-separated block, plus the terminating NULL.
static char **split_block(const char *block, int count) {
    char **vector = calloc((size_t)count + 1, sizeof *vector);
    if (!vector) return NULL;
    const char *cursor = block;
    for (int i = 0; i < count; i++) {
        vector[i] = (char *)cursor;
        cursor += strlen(cursor) + 1;
    }
    return vector;
}

static int redirect(posix_spawn_file_actions_t *actions, int fd, int target, int flags) {
    if (fd >= 0) return posix_spawn_file_actions_adddup2(actions, fd, target);
    return posix_spawn_file_actions_addopen(actions, target, "/dev/null", flags, 0);
}

pid_t cspawn_spawn(const char *arguments, int argument_count, const char *environment, int environment_count,
                   int in_fd, int out_fd, int err_fd) {
    if (argument_count < 1) {
        errno = EINVAL;
        return -1;
    }
    char **argv = split_block(arguments, argument_count);
    char **envp = environment_count >= 0 ? split_block(environment, environment_count) : environ;
    if (!argv || !envp) {
        free(argv);
        errno = ENOMEM;
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int status = redirect(&actions, in_fd, 0, O_RDONLY);
    if (status == 0) status = redirect(&actions, out_fd, 1, O_WRONLY);
    if (status == 0) status = redirect(&actions, err_fd, 2, O_WRONLY);
    pid_t pid = -1;
    if (status == 0) status = posix_spawnp(&pid, argv[0], &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    free(argv);
    if (envp != environ) free(envp);
    if (status != 0) {
        errno = status;
        return -1;
    }
    return pid;
}
