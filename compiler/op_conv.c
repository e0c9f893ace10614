/* op_conv.c */
#include "gptossc.h"

const OpDef ops_conv[] = {
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
