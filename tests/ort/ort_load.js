'use strict';
// Locate and load onnxruntime-node:
//   1. $ORT_NODE_MODULES/onnxruntime-node   (ORT_NODE_MODULES = a node_modules directory)
//   2. <repo>/build/npm/node_modules/onnxruntime-node
//   3. normal require('onnxruntime-node') resolution
const fs = require('fs');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..');

function candidates() {
  const c = [];
  if (process.env.ORT_NODE_MODULES) c.push(path.resolve(process.env.ORT_NODE_MODULES, 'onnxruntime-node'));
  c.push(path.join(REPO, 'build', 'npm', 'node_modules', 'onnxruntime-node'));
  return c;
}

let cached = null;
function loadOrt() {
  if (cached) return cached;
  const tried = [];
  for (const dir of candidates()) {
    tried.push(dir);
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      cached = require(dir);
      return cached;
    }
  }
  try {
    cached = require('onnxruntime-node');
    return cached;
  } catch (e) {
    const msg = `cannot load onnxruntime-node (tried ${tried.join(', ')} and require resolution): ${e.message}\n` +
      'set ORT_NODE_MODULES to a node_modules directory containing onnxruntime-node';
    const err = new Error(msg);
    err.code = 'ORT_NOT_FOUND';
    throw err;
  }
}

function sessionOptions({ threads = 1, noOpt = false } = {}) {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: noOpt ? 'disabled' : 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
  };
}

function peakRssKb() {
  try {
    const m = /VmHWM:\s*(\d+)\s*kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch (_) {
    return null;
  }
}

module.exports = { loadOrt, sessionOptions, peakRssKb, REPO };
