/* op_reduce.c: reductions, Softmax, TopK, normalisations. */
#include "gptossc.h"

const OpDef ops_reduce[] = {
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
