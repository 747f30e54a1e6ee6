#ifndef CNETNS_SHIM_H
#define CNETNS_SHIM_H

#include <stddef.h>

// setns(2), clone(2) and CLONE_NEWNET are only declared with _GNU_SOURCE, which Swift's Glibc module is
// built without; this target defines them and wraps the calls.

/// Moves the calling thread into the network namespace open at `fd`. Returns 0 or -1 with errno set.
int cnetns_enter_network_namespace(int fd);

/// What a command run by `cnetns_run` printed, and how it ended (a waitpid status).
struct cnetns_output {
    char *out;
    size_t out_length;
    char *err;
    size_t err_length;
    int wait_status;
};

/// Runs the executable `path` with `argv` and `envp` (NULL-terminated, as for execve) in the network namespace open at `netns_fd`: the child enters it before exec,
/// so no thread of the caller ever changes namespace. `input` is written to the child's stdin; its
/// stdout and stderr are collected into `output` (free with `cnetns_output_free`). The child is killed
/// after `timeout_ms`. No shell is involved. Returns 0, or -errno (-ETIMEDOUT after a kill; exec
/// failures, including a failed setns, come back as their errno).
int cnetns_run(int netns_fd, const char *path, char *const argv[], char *const envp[],
               const char *input, size_t input_length, int timeout_ms, struct cnetns_output *output);

void cnetns_output_free(struct cnetns_output *output);

#endif
