/* loss.c */
#include "rt.h"
