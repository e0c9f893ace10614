"""Parity of a lossy weight format (--weights q8) against the numpy reference.

    /usr/bin/python3 tests/gptoss/compare_lossy.py REF_DIR GOT_DIR LABEL REL_BAR MIN_ARGMAX

Prints the logits' max |diff|, relative to the largest |logit|, and the
share of rows whose argmax (the greedy token) is unchanged; fails when the
relative difference exceeds REL_BAR or the share is below MIN_ARGMAX.
"""
import os
import sys

import numpy as np

from compare import load  # tests/gptoss/compare.py


def main():
    ref_dir, got_dir, label = sys.argv[1], sys.argv[2], sys.argv[3]
    rel_bar, min_argmax = float(sys.argv[4]), float(sys.argv[5])
    r = load(os.path.join(ref_dir, "v_0.pb")).astype(np.float64)
    g = load(os.path.join(got_dir, "v_0.pb")).astype(np.float64)
    if r.shape != g.shape:
        print(f"FAIL {label}: logits shape {g.shape}, expected {r.shape}")
        return 1
    diff = float(np.abs(r - g).max())
    rel = diff / float(np.abs(r).max())
    same = float((r.reshape(-1, r.shape[-1]).argmax(-1) == g.reshape(-1, g.shape[-1]).argmax(-1)).mean())
    ok = np.isfinite(g).all() and rel <= rel_bar and same >= min_argmax
    print(f"{'ok' if ok else 'FAIL'} {label}: logits max|diff| {diff:.3g} ({100 * rel:.2f}% of the largest, "
          f"bar {100 * rel_bar:.0f}%), argmax unchanged on {100 * same:.1f}% of rows (bar {100 * min_argmax:.0f}%)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
