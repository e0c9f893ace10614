/* conv.c */
#include "rt.h"
