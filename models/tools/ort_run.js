// Run an ONNX model with onnxruntime-node and dump every output as raw little-endian
// binary (<name>.bin) plus <dir>/meta.json (names, dtypes, dims).
// usage: node models/tools/ort_run.js MODEL.onnx 1,2,3,... OUTDIR
const ort = require(process.env.ORT_NODE || '/tmp/ortnpm/node_modules/onnxruntime-node');
const fs = require('fs');
const path = require('path');
(async () => {
  const [model, toks, outdir] = process.argv.slice(2);
  let s;
  try {
    s = await ort.InferenceSession.create(model);
  } catch (e) {
    console.log('LOAD_ERROR: ' + e.message);
    process.exit(3);
  }
  const tokens = toks.split(',').filter(x => x.length).map(Number);
  const out = await s.run({ in_0: new ort.Tensor('int32', Int32Array.from(tokens), [tokens.length]) });
  fs.mkdirSync(outdir, { recursive: true });
  const meta = {};
  for (const [name, t] of Object.entries(out)) {
    const d = t.data;
    fs.writeFileSync(path.join(outdir, name + '.bin'), Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    meta[name] = { type: t.type, dims: t.dims };
  }
  fs.writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(meta));
  console.log('OK ' + Object.keys(meta).length + ' outputs');
})();
