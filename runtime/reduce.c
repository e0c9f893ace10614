/* reduce.c: reductions, Softmax, TopK, normalisations. */
#include "rt.h"
