// oneDNN 2.x C API, plus the pieces Swift cannot import directly.
#ifndef JDRL_CDNNL_SHIM_H
#define JDRL_CDNNL_SHIM_H
#include <dnnl.h>

// DNNL_MEMORY_ALLOCATE is a pointer-cast macro; Swift needs it as a value.
static inline void *jdrl_dnnl_memory_allocate(void) { return DNNL_MEMORY_ALLOCATE; }
static inline void *jdrl_dnnl_memory_none(void) { return DNNL_MEMORY_NONE; }

// Declared here rather than by including omp.h (not on the default include path).
void omp_set_num_threads(int n);
int omp_get_max_threads(void);
#endif
