#ifndef _GNU_SOURCE
#error "CNetnsShim must be built with _GNU_SOURCE (setns, CLONE_NEWNET)"
#endif
#include <sched.h>
#include "CNetnsShim.h"

int cnetns_enter_network_namespace(int fd) {
    return setns(fd, CLONE_NEWNET);
}
