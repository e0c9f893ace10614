#!/usr/bin/env python3
"""Summarise build/bench/raw.jsonl (written by tests/bench/run.sh) as a table.

usage: report.py RAW.jsonl RESULTS.md

Each line of RAW is one record {"kind": ..., ...}:
  bw       {"threads", "data": bandwidth.c JSON}
  ort      {"config", "threads", "round", "data": ort_bench.js JSON}
  gptossc  {"config", "threads", "round", "gthreads", "data": bench_main.c JSON}
  decode   {"config", "steps", "ms_per_token", "token_bytes", "blob_bytes"}
  fail     {"config", "threads", "what", "detail"}
  info     {"key", "value"}
Prints the table on stdout and writes it, with the machine and date, as markdown to RESULTS.md.
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def human_bytes(b):
    if not b:
        return "-"
    for unit, k in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if b >= k:
            return "%.2f %s" % (b / k, unit)
    return "%d B" % b


def num(x):
    """3 significant digits or more"""
    if x is None:
        return "-"
    return "%.3g" % x if abs(x) < 100 else "%.0f" % x


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.split(":")[0].strip() in ("model name", "Processor", "cpu model"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    raw, md_path = sys.argv[1], sys.argv[2]
    recs = []
    with open(raw) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    pass
    info = {r["key"]: r["value"] for r in recs if r["kind"] == "info"}
    bw = {r["threads"]: r["data"]["gbps"] for r in recs if r["kind"] == "bw"}
    bw1 = bw.get(1)
    bwd = bw[max(bw)] if bw else None  # decode runs the build of the last (largest) thread count
    cases = []
    for r in recs:
        if r["kind"] in ("ort", "gptossc", "fail") and "threads" in r:
            k = (r["config"], r["threads"])
            if k not in cases:
                cases.append(k)

    head = ["config", "thr", "ORT ms", "gptossc ms", "speedup", "best-run speedup", "ORT RSS MB", "gptossc RSS MB",
            "RSS ratio", "GB/s", "% of BW", "GFLOP/s", "status"]
    rows = []
    for cfg, th in cases:
        ort = [r["data"] for r in recs if r["kind"] == "ort" and r["config"] == cfg and r["threads"] == th]
        gp = [r for r in recs if r["kind"] == "gptossc" and r["config"] == cfg and r["threads"] == th]
        gd = [r["data"] for r in gp]
        fails = [r for r in recs if r["kind"] == "fail" and r["config"] == cfg and r["threads"] == th]
        o_ms = med([d.get("median_ms") for d in ort])
        g_ms = med([d.get("median_ms") for d in gd])
        o_min = min([d["min_ms"] for d in ort if d.get("min_ms")] or [0]) or None
        g_min = min([d["min_ms"] for d in gd if d.get("min_ms")] or [0]) or None
        o_rss = med([d.get("peak_rss_kb") for d in ort])
        g_rss = med([d.get("peak_rss_kb") for d in gd])
        gbps = med([d.get("gbps") for d in gd])
        gfl = med([d.get("gflops") or None for d in gd])
        gth = gp[0].get("gthreads", 1) if gp else None
        gcol = fmt(g_ms, ".3f")
        if g_ms is not None and gth != th:
            gcol += " (%dt)" % gth
        status = "ok" if not fails else "FAIL: " + ", ".join(sorted({f["what"] for f in fails}))
        rows.append([
            cfg, str(th), fmt(o_ms, ".3f"), gcol,
            fmt(o_ms / g_ms if o_ms and g_ms else None, ".2f") + ("x" if o_ms and g_ms else ""),
            fmt(o_min / g_min if o_min and g_min else None, ".2f") + ("x" if o_min and g_min else ""),
            fmt(o_rss / 1024 if o_rss else None, ".1f"), fmt(g_rss / 1024 if g_rss else None, ".1f"),
            fmt(o_rss / g_rss if o_rss and g_rss else None, ".2f"),
            fmt(gbps, ".2f"), fmt(100 * gbps / bw1 if gbps and bw1 else None, ".0f"),
            fmt(gfl, ".2f"), status,
        ])

    dec = [r for r in recs if r["kind"] == "decode"]
    # ORT's decode is the seeds' loop: one full window per token, so its ms/token is its full-window time
    ort_full = {}
    for r in recs:
        if r["kind"] == "ort" and r.get("threads") == 1:
            ort_full.setdefault(r["config"], []).append(r["data"].get("median_ms"))
    dhead = ["config", "mode", "steps", "first token ms", "ms/token", "tokens/s", "vs ORT (full window/token, 1 thr)",
             "bound tok/s (KV-cache step)", "bound tok/s (full window)", "token bytes", "blob bytes"]
    drows = []
    for r in dec:
        tb, bb, ms = r.get("token_bytes"), r.get("blob_bytes"), r.get("ms_per_token")
        o = [x for x in ort_full.get(r["config"], []) if x]
        o_ms = sorted(o)[len(o) // 2] if o else None
        drows.append([
            r["config"], r.get("mode", "full"), str(r.get("steps")), num(r.get("first_ms")), num(ms),
            num(1e3 / ms if ms else None),
            (fmt(o_ms / ms, ".2f") + "x") if o_ms and ms else "-",
            num(bwd * 1e9 / tb if bwd and tb else None), num(bwd * 1e9 / bb if bwd and bb else None),
            human_bytes(tb), human_bytes(bb),
        ])

    def table(h, rs):
        w = [max(len(h[i]), *(len(r[i]) for r in rs)) if rs else len(h[i]) for i in range(len(h))]
        lines = ["  ".join(h[i].ljust(w[i]) for i in range(len(h)))]
        lines += ["  ".join(r[i].ljust(w[i]) for i in range(len(h))) for r in rs]
        return "\n".join(lines)

    def mdtable(h, rs):
        out = ["| " + " | ".join(h) + " |", "|" + "---|" * len(h)]
        out += ["| " + " | ".join(r) + " |" for r in rs]
        return "\n".join(out)

    bw_txt = ", ".join("%d thread%s %.2f GB/s" % (t, "" if t == 1 else "s", g) for t, g in sorted(bw.items()))
    notes = [
        "ORT: onnxruntime-node %s, intraOpNumThreads = thr, graph optimisations on, same ONNX file "
        "(flat-unique layout) and tokens." % info.get("ort_version", "?"),
        "gptossc: `--weights %s`, the generated C built with `%s`; %s" % (
            info.get("weights", "auto"), info.get("cc", "cc -O2 -march=native"),
            "the generated code takes a thread count (gptossc --threads)." if info.get("gptossc_threads") == "1"
            else "the generated code is single-threaded, so every gptossc column is one thread "
                 "(marked (1t) in the 2-thread rows) while ORT uses thr threads."),
        "ms: median over rounds of each process's median of reps runs (rounds alternate ORT and gptossc; "
        "%s rounds x %s reps, %s warm-up). speedup: of those medians. best-run speedup: ORT's fastest run "
        "over gptossc's fastest, each over all its rounds; on a shared host, whose bursts of load slow "
        "whichever engine runs then, the fastest runs show each engine's own speed." % (
            info.get("rounds", "?"), info.get("reps", "?"), info.get("warmup", "?")),
        "RSS: peak resident set (VmHWM) of the whole process: node + ORT for ORT, the bench harness with the "
        "weight blob read into memory and the arena for gptossc.",
        "GB/s: blob bytes (an upper bound of the weights one run reads) / median time; % of BW against "
        "the 1-thread streaming-read probe. GFLOP/s: 2 x T x matmul weight elements one token uses "
        "(K of E experts) + attention, / median time (tests/bench/model_stats.py).",
        "Memory bandwidth (tests/bench/bandwidth.c, best of passes, %s MB buffer): %s." % (
            info.get("bw_mb", "?"), bw_txt or "not measured"),
    ]
    if dec:
        notes.append("Decode: the `gptossc --main` driver (the build of the last thread count), a 3-token prompt "
                     "then `steps` tokens: mode kv runs the prompt as one window (NAME_prefill) and each later "
                     "token as one NAME_step; mode full (--full) recomputes the whole T-token window per token, "
                     "as the seeds' loop does. 'first token ms' includes the prompt; 'ms/token' is the mean over "
                     "the later tokens. 'vs ORT' = ORT's 1-thread full-window time (its loop's cost per "
                     "token) / ms/token. 'bound (KV-cache step)' = bandwidth (of the largest thread count) / weight bytes one "
                     "token must read (K experts MXFP4, the rest bf16, one embedding row; "
                     "tests/bench/model_stats.py); 'bound (full window)' = bandwidth / blob bytes.")

    date = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    arch = platform.machine()
    try:
        arch = subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip() or arch
    except OSError:
        pass
    cpu = cpu_model()
    ncpu = os.cpu_count()

    print("machine: %s, %s, %s cpus; %s" % (arch, cpu, ncpu, date))
    print("memory bandwidth: %s" % (bw_txt or "not measured"))
    print()
    print(table(head, rows))
    if drows:
        print()
        print(table(dhead, drows))
    print()
    for n in notes:
        print("- " + n)

    md = ["# gptossc benchmark", "", "- date: %s" % date, "- machine: `%s`, %s, %s cpus" % (arch, cpu, ncpu),
          "- git: %s" % info.get("git", "?"), "", mdtable(head, rows), ""]
    if drows:
        md += ["## Decode throughput", "", mdtable(dhead, drows), ""]
    md += ["## Notes", ""] + ["- " + n for n in notes] + [""]
    with open(md_path, "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
