// libmnl is linked dynamically (Debian ships no libmnl.a); the release build carries libmnl.so.0
// beside the plugin and finds it through an $ORIGIN rpath (see scripts/build-dist.sh).
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
