#ifndef CFUZZDRIVER_H
#define CFUZZDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver with the process's arguments, calling `one_input` for every input.
/// Only in builds with -DFUZZING (scripts/fuzz.sh), where libFuzzer is linked; elsewhere returns 2.
int cfuzz_run(int argc, char **argv, int (*one_input)(const uint8_t *data, size_t size));

#endif
