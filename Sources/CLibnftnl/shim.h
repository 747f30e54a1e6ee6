// libnftnl plus the kernel uapi headers it speaks. No `link` directive: the library is linked
// statically through the NFTables target's linker settings, so the installed plugin needs no libnftnl.so.
// glibc's socket headers first: linux/libc-compat.h then skips the uapi copies of the same structs,
// so this module and Glibc/Foundation agree on sockaddr_in and friends.
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <libnftnl/common.h>
#include <libnftnl/batch.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
