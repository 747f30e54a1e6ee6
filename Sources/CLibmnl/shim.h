// libmnl is linked dynamically (Debian ships no libmnl.a); the release build carries libmnl.so.0
// beside the plugin and finds it through an $ORIGIN rpath (see scripts/build-dist.sh).
// glibc's socket headers first: linux/libc-compat.h then skips the uapi copies of the same structs,
// so this module and Glibc/Foundation agree on sockaddr_in and friends.
#include <sys/socket.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <linux/fib_rules.h>
