/* attention.c */
#include "rt.h"
