#include <malloc.h>
#include "CHeapTuning.h"

void heap_keep_large_blocks(void) {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
}
