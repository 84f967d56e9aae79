#ifndef JDRL_COPENBLAS_SHIM_H
#define JDRL_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
