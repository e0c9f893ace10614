#!/usr/bin/env node
'use strict';
// Time one forward pass of a token model with onnxruntime-node.
//
// usage: node tests/ort/ort_bench.js MODEL.onnx --tokens 1,2,3 [--threads N] [--reps R]
//                                    [--warmup W] [--T T] [--no-opt]
// Input is built as in ort_generate.js (last T tokens, right-padded with 0).
// Prints JSON {"median_ms", "min_ms", "runs":[...], "peak_rss_kb", "session_ms", "threads", "T"}
// (peak_rss_kb = VmHWM of this process at the end).
const { loadOrt, sessionOptions, peakRssKb } = require('./ort_load');
const gen = require('./gen_common');

function ms(t0, t1) { return Number(t1 - t0) / 1e6; }

async function main() {
  const args = gen.parseArgs(process.argv.slice(2), {}, 'ort_bench');
  if (!(args.reps >= 1)) throw new Error('--reps must be >= 1');
  if (!(args.warmup >= 0)) throw new Error('--warmup must be >= 0');
  const ort = loadOrt();
  const s0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(args.model, sessionOptions({ threads: args.threads, noOpt: args.noOpt }));
  const s1 = process.hrtime.bigint();
  const io = gen.resolveIO(session, args);
  const { feeds } = gen.makeFeeds(ort, io, args.tokens);
  for (let i = 0; i < args.warmup; i++) await session.run(feeds, [io.outName]);
  const runs = [];
  for (let i = 0; i < args.reps; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds, [io.outName]);
    runs.push(ms(t0, process.hrtime.bigint()));
  }
  const sorted = runs.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const r3 = (x) => Math.round(x * 1000) / 1000;
  process.stdout.write(JSON.stringify({
    median_ms: r3(median), min_ms: r3(sorted[0]), runs: runs.map(r3),
    peak_rss_kb: peakRssKb(), session_ms: r3(ms(s0, s1)), threads: args.threads, T: io.T,
  }) + '\n');
  return 0;
}

main().then((rc) => { process.exitCode = rc; }, (e) => {
  console.error(`ort_bench: ${e && e.message ? e.message : e}`);
  process.exitCode = 1;
});
