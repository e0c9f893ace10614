/* op_loss.c */
#include "gptossc.h"

const OpDef ops_loss[] = {
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
