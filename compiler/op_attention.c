/* op_attention.c */
#include "gptossc.h"

const OpDef ops_attention[] = {
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
