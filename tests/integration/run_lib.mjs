// Helpers for the live-session tests (run_*.mjs, demo_*.mjs): start
// papertrader processes, read their stdout lines, talk HTTP and WebSocket to
// the dashboard, compare recordings with their source, and check the parity
// guarantee (backtest on DIR/candles gives the same trades.csv bytes).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

export const BIN = process.env.PT_BIN;
export const DATA = process.env.PT_SHARED_DATA || '/work/shared/data';
export const SRC = process.env.PT_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

let pass = 0, fail = 0;
export function ok(c, what, extra = '') {
  if (c) { pass++; console.log(`ok - ${what}`); } else { fail++; console.log(`not ok - ${what} ${extra}`.trim()); }
}
export function finish() {
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail ? 1 : 0);
}
export function deadline(ms) {
  setTimeout(() => { console.log('not ok - timed out'); process.exit(1); }, ms).unref();
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const tmpdir = (p) => fs.mkdtempSync(path.join(os.tmpdir(), p));

// A child process with its stdout split into lines; wait(re) resolves with
// the first line matching re (already seen or future).
export function start(args, env = {}) {
  const p = spawn(BIN, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const st = { p, lines: [], err: '', waiters: [], code: null, signal: null };
  let buf = '';
  p.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      st.lines.push(line);
      st.waiters = st.waiters.filter((w) => { const m = line.match(w.re); if (m) w.res(m); return !m; });
    }
  });
  p.stderr.on('data', (d) => { st.err += d; if (st.err.length > 4e6) st.err = st.err.slice(-2e6); });
  st.exited = new Promise((res) => p.on('close', (code, signal) => { st.code = code; st.signal = signal; res(code); }));
  st.wait = (re, ms = 10000) => new Promise((res, rej) => {
    for (const l of st.lines) { const m = l.match(re); if (m) return res(m); }
    const t = setTimeout(() => rej(new Error(`no line ${re} within ${ms} ms; stderr: ${st.err.slice(-800)}`)), ms);
    st.waiters.push({ re, res: (m) => { clearTimeout(t); res(m); } });
    st.exited.then(() => rej(new Error(`exited (${st.code}) before ${re}; stderr: ${st.err.slice(-800)}`)));
  });
  st.stop = async (sig = 'SIGTERM', ms = 10000) => {
    p.kill(sig);
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    await st.exited;
    clearTimeout(t);
    return st.code;
  };
  return st;
}

export function get(port, pth) {
  return new Promise((res) => {
    const rq = http.get({ host: '127.0.0.1', port, path: pth, timeout: 3000 }, (r) => {
      let body = '';
      r.on('data', (d) => { body += d; });
      r.on('end', () => res({ status: r.statusCode, body }));
    });
    rq.on('error', (e) => res({ status: 0, body: String(e) }));
    rq.on('timeout', () => rq.destroy(new Error('timeout')));
  });
}

// A dashboard client as a browser would connect (same-origin Origin header).
export function dashboard(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { origin: `http://127.0.0.1:${port}` });
  const c = { ws, msgs: [], closeCode: null };
  c.opened = new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  ws.on('message', (d) => { try { c.msgs.push(JSON.parse(String(d))); } catch { c.msgs.push({ bad: String(d) }); } });
  c.closed = new Promise((res) => ws.on('close', (code) => { c.closeCode = code; res(code); }));
  return c;
}

export function loadRows(file) {
  return fs.readFileSync(file, 'utf8').split('\n').slice(1).filter((l) => l.trim()).map((l) => {
    const f = l.split(',');
    return { t: Number(f[0]), o: Number(f[1]), h: Number(f[2]), l: Number(f[3]), c: Number(f[4]), v: Number(f[5]) };
  });
}

// Every source row within the recorded range is recorded exactly once, in
// order, with the same values. Returns null or the first difference.
export function exactlyOnce(rec, src) {
  if (!rec.length) return 'nothing recorded';
  for (let i = 1; i < rec.length; i++) if (!(rec[i].t > rec[i - 1].t)) return `row ${i}: ts ${rec[i].t} not increasing`;
  const first = rec[0].t, last = rec[rec.length - 1].t;
  const want = src.filter((r) => r.t >= first && r.t <= last);
  if (want.length !== rec.length) return `recorded ${rec.length} rows, source has ${want.length} in [${first}, ${last}]`;
  for (let i = 0; i < want.length; i++)
    for (const k of ['t', 'o', 'h', 'l', 'c', 'v'])
      if (rec[i][k] !== want[i][k]) return `row ${i} ${k}: ${rec[i][k]} != ${want[i][k]}`;
  return null;
}

// backtest on DIR/candles/<SYM>.csv with the same engine options.
// src: the session folder when dir is only where the replay goes.
export function parity(dir, sym, engineArgs = [], src = dir) {
  const bt = path.join(dir, 'bt');
  const r = spawnSync(BIN, ['backtest', '--quiet', '--out', bt, ...engineArgs, path.join(src, 'candles', `${sym}.csv`)],
    { encoding: 'utf8' });
  if (r.status !== 0) return `backtest exit ${r.status}: ${r.stderr.slice(-400)}`;
  const a = fs.readFileSync(path.join(src, 'trades.csv')), b = fs.readFileSync(path.join(bt, 'trades.csv'));
  return a.equals(b) ? null : `trades.csv differs (${a.length} vs ${b.length} bytes)`;
}
