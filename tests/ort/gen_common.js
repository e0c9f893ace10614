'use strict';
// Shared helpers for ort_generate.js / ort_bench.js.

function die(prog, msg) {
  console.error(`${prog}: ${msg}`);
  process.exit(2);
}

function parseTokens(s) {
  if (s === undefined || s === '') return [];
  return s.split(',').filter((x) => x.trim() !== '').map((x) => {
    const v = Number(x);
    if (!Number.isInteger(v)) throw new Error(`bad token '${x}'`);
    return v;
  });
}

function parseArgs(argv, want, prog) {
  const a = { model: null, tokens: [], steps: 1, threads: 1, T: null, noOpt: false, reps: 10, warmup: 2,
    input: 'in_0', output: 'v_0' };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    const need = () => { if (i + 1 >= argv.length) die(prog, `${x} needs an argument`); return argv[++i]; };
    if (x === '--tokens') a.tokens = parseTokens(need());
    else if (x === '--steps') a.steps = parseInt(need(), 10);
    else if (x === '--threads') a.threads = parseInt(need(), 10);
    else if (x === '--T') a.T = parseInt(need(), 10);
    else if (x === '--reps') a.reps = parseInt(need(), 10);
    else if (x === '--warmup') a.warmup = parseInt(need(), 10);
    else if (x === '--no-opt') a.noOpt = true;
    else if (x === '--input-name') a.input = need();
    else if (x === '--output-name') a.output = need();
    else if (x.startsWith('-')) die(prog, `unknown option ${x}`);
    else if (!a.model) a.model = x;
    else die(prog, `unexpected argument ${x}`);
  }
  if (!a.model) die(prog, 'no model given');
  if (!a.tokens.length) die(prog, '--tokens must list at least one token');
  if (!(a.threads >= 1)) die(prog, '--threads must be >= 1');
  if (want.steps && !(a.steps >= 0)) die(prog, '--steps must be >= 0');
  return a;
}

// Find the token input / logits output and T.
function resolveIO(session, args) {
  const inName = session.inputNames.includes(args.input) ? args.input : session.inputNames[0];
  const outName = session.outputNames.includes(args.output) ? args.output : session.outputNames[0];
  let meta = null;
  if (Array.isArray(session.inputMetadata)) meta = session.inputMetadata.find((m) => m.name === inName) || null;
  let T = args.T;
  if (!T) {
    const shape = meta && meta.isTensor ? meta.shape : null;
    if (shape && shape.length >= 1 && typeof shape[shape.length - 1] === 'number' && shape[shape.length - 1] > 0) {
      T = shape[shape.length - 1];
    } else {
      throw new Error(`cannot read T from the shape of input '${inName}' (${JSON.stringify(shape)}); pass --T`);
    }
  }
  const type = meta && meta.isTensor && meta.type === 'int64' ? 'int64' : 'int32';
  const rank = meta && meta.isTensor && Array.isArray(meta.shape) && meta.shape.length ? meta.shape.length : 1;
  const dims = new Array(rank).fill(1);
  dims[rank - 1] = T;
  return { inName, outName, T, type, dims };
}

function makeFeeds(ort, io, seq) {
  const win = seq.slice(Math.max(0, seq.length - io.T));
  const data = io.type === 'int64' ? new BigInt64Array(io.T) : new Int32Array(io.T);
  for (let i = 0; i < win.length; i++) data[i] = io.type === 'int64' ? BigInt(win[i]) : win[i];
  return { feeds: { [io.inName]: new ort.Tensor(io.type, data, io.dims) }, pos: win.length - 1 };
}

// Greedy argmax of row `pos` of a [.., T, V] logits tensor; lowest index wins ties.
function argmaxRow(tensor, T, pos) {
  const dims = tensor.dims;
  const V = dims[dims.length - 1];
  const data = tensor.data;
  if (data.length !== T * V) throw new Error(`logits have shape [${dims}], expected ${T} rows of V=${V}`);
  const base = pos * V;
  let best = 0, bv = Number(data[base]);
  for (let j = 1; j < V; j++) {
    const v = Number(data[base + j]);
    if (v > bv || (Number.isNaN(bv) && !Number.isNaN(v))) { bv = v; best = j; }
  }
  return best;
}

module.exports = { parseArgs, parseTokens, resolveIO, makeFeeds, argmaxRow };
