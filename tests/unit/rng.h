/* rng.h: the kernel unit tests' random numbers (xorshift64, a fixed seed
 * per test file, so every run checks the same cases).  Define RNG_SEED
 * before including. */
static uint64_t rng = RNG_SEED;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* in [lo, hi], inclusive */
static int64_t rndi(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* in [-1, 1) */
static float rndf(void)
{
	return (float)((double)(rnd() >> 11) / 9007199254740992.0 * 2 - 1);
}
