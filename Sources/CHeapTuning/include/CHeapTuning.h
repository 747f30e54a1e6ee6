#ifndef CHEAP_TUNING_H
#define CHEAP_TUNING_H

// glibc's malloc tunables are not in Swift's Glibc module (malloc.h is not part of it).

/// Serves large blocks from the heap instead of one fresh mmap each, and keeps freed memory: a
/// short-lived process that builds and drops multi-megabyte arrays then faults each page in once.
void heap_keep_large_blocks(void);

#endif
