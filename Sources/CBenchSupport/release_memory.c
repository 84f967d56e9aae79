// See include/bench_support.h.
#include <malloc.h>
#include "bench_support.h"

void jdrl_release_free_memory(void) { malloc_trim(0); }
