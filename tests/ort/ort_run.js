#!/usr/bin/env node
'use strict';
// Run an ONNX model once with onnxruntime-node and write every output as a TensorProto.
//
// usage: node tests/ort/ort_run.js MODEL.onnx -i [NAME=]FILE.pb ... -O OUTDIR
//                                  [--threads N] [--no-opt] [--outputs a,b]
//
// -i FILE.pb without NAME= uses the name stored in the TensorProto (or, if that is
// empty, the model input at the same position). Outputs go to OUTDIR/<output name>.pb
// ('/' and '\' in names are replaced by '_'). Errors: message on stderr, exit 1.
const fs = require('fs');
const path = require('path');
const tp = require('./tensorproto');
const { loadOrt, sessionOptions } = require('./ort_load');

function usage(msg) {
  if (msg) console.error(`ort_run: ${msg}`);
  console.error('usage: ort_run.js MODEL.onnx -i [NAME=]FILE.pb ... -O OUTDIR [--threads N] [--no-opt] [--outputs a,b]');
  process.exit(2);
}

function parseArgs(argv) {
  const a = { model: null, inputs: [], outdir: null, threads: 1, noOpt: false, outputs: null };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    const need = () => { if (i + 1 >= argv.length) usage(`${x} needs an argument`); return argv[++i]; };
    if (x === '-i' || x === '--input') {
      const v = need();
      const eq = v.indexOf('=');
      // NAME=FILE unless the part before '=' looks like a path that exists as a whole
      if (eq > 0 && !fs.existsSync(v)) a.inputs.push({ name: v.slice(0, eq), file: v.slice(eq + 1) });
      else a.inputs.push({ name: null, file: v });
    } else if (x === '-O' || x === '--outdir') a.outdir = need();
    else if (x === '--threads') a.threads = parseInt(need(), 10);
    else if (x === '--no-opt') a.noOpt = true;
    else if (x === '--outputs') a.outputs = need().split(',').filter(Boolean);
    else if (x === '-h' || x === '--help') usage();
    else if (x.startsWith('-')) usage(`unknown option ${x}`);
    else if (!a.model) a.model = x;
    else usage(`unexpected argument ${x}`);
  }
  if (!a.model) usage('no model given');
  if (!a.outdir) usage('no -O OUTDIR given');
  if (!(a.threads >= 1)) usage('--threads must be >= 1');
  return a;
}

function safeName(n) {
  return n.replace(/[\/\\]/g, '_');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let ort;
  try {
    ort = loadOrt();
  } catch (e) {
    console.error(`ort_run: ${e.message}`);
    return 1;
  }
  let session;
  try {
    session = await ort.InferenceSession.create(args.model, sessionOptions({ threads: args.threads, noOpt: args.noOpt }));
  } catch (e) {
    console.error(`ort_run: failed to create session for ${args.model}: ${e.message}`);
    return 1;
  }
  const feeds = {};
  try {
    args.inputs.forEach((inp, idx) => {
      const t = tp.readFile(inp.file);
      let name = inp.name || t.name;
      if (!name) {
        if (idx >= session.inputNames.length) throw new Error(`input #${idx} (${inp.file}) has no name and the model has only ${session.inputNames.length} inputs`);
        name = session.inputNames[idx];
      }
      if (feeds[name]) throw new Error(`input '${name}' given twice`);
      feeds[name] = tp.toOrtTensor(ort, t);
    });
  } catch (e) {
    console.error(`ort_run: bad input: ${e.message}`);
    return 1;
  }
  // onnxruntime-node 1.30 aborts the process (V8 OOM) when it returns int4/uint4 tensors:
  // refuse cleanly instead. Also refuse non-tensor outputs (sequence/map/optional).
  const names0 = args.outputs || session.outputNames;
  if (Array.isArray(session.outputMetadata)) {
    for (const m of session.outputMetadata) {
      if (!names0.includes(m.name)) continue;
      if (m.isTensor === false) {
        console.error(`ort_run: output '${m.name}' is not a tensor (unsupported by onnxruntime-node)`);
        return 1;
      }
      if (!tp.ORT_TO_DT[m.type]) {
        console.error(`ort_run: output '${m.name}' has type '${m.type}', which this harness cannot fetch from onnxruntime-node`);
        return 1;
      }
    }
  }
  let results;
  try {
    results = args.outputs ? await session.run(feeds, args.outputs) : await session.run(feeds);
  } catch (e) {
    console.error(`ort_run: run failed: ${e.message}`);
    return 1;
  }
  fs.mkdirSync(args.outdir, { recursive: true });
  const names = args.outputs || session.outputNames;
  for (const name of names) {
    const v = results[name];
    if (!v) {
      console.error(`ort_run: output '${name}' missing from results`);
      return 1;
    }
    try {
      const t = tp.fromOrtTensor(v, name);
      tp.writeFile(path.join(args.outdir, `${safeName(name)}.pb`), t);
    } catch (e) {
      console.error(`ort_run: cannot write output '${name}': ${e.message}`);
      return 1;
    }
  }
  if (session.release) await session.release();
  return 0;
}

main().then((rc) => { process.exitCode = rc; }, (e) => {
  console.error(`ort_run: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 1;
});
