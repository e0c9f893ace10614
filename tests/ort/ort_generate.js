#!/usr/bin/env node
'use strict';
// Greedy generation loop over onnxruntime-node (mirrors the seeds' loop).
//
// usage: node tests/ort/ort_generate.js MODEL.onnx --tokens 1,2,3 --steps N
//                                       [--threads N] [--T T] [--no-opt]
//
// Model: input in_0 int32 [T] (int64 also accepted), output v_0 float [T,V]
// (any shape whose last dim is V and which has T rows). Each step: window = last T
// tokens, right-padded with 0 to T; run; take logits row len(window)-1; argmax with
// the lowest index winning ties; append. Prints the new token ids comma-separated.
const { loadOrt, sessionOptions } = require('./ort_load');
const gen = require('./gen_common');

async function main() {
  const args = gen.parseArgs(process.argv.slice(2), { steps: true }, 'ort_generate');
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(args.model, sessionOptions({ threads: args.threads, noOpt: args.noOpt }));
  const io = gen.resolveIO(session, args);
  const seq = args.tokens.slice();
  const out = [];
  for (let s = 0; s < args.steps; s++) {
    const { feeds, pos } = gen.makeFeeds(ort, io, seq);
    const res = await session.run(feeds, [io.outName]);
    const next = gen.argmaxRow(res[io.outName], io.T, pos);
    seq.push(next);
    out.push(next);
  }
  process.stdout.write(out.join(',') + '\n');
  return 0;
}

main().then((rc) => { process.exitCode = rc; }, (e) => {
  console.error(`ort_generate: ${e && e.message ? e.message : e}`);
  process.exitCode = 1;
});
