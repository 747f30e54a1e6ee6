#ifndef CNETNS_SHIM_H
#define CNETNS_SHIM_H

// setns(2) and CLONE_NEWNET are only declared with _GNU_SOURCE, which Swift's Glibc module is built
// without; this target defines it and re-exports the call.

/// Moves the calling thread into the network namespace open at `fd`. Returns 0 or -1 with errno set.
int cnetns_enter_network_namespace(int fd);

#endif
