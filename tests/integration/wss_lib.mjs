// Shared helpers for the wss_* integration tests (not a test itself: ctest
// globs *.mjs, so this file exits 0 when run directly).
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUILD = process.env.PT_BUILD_DIR || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build');
export const DRIVER = path.join(BUILD, 'bench', 'wss_fanout');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Starts bench/wss_fanout and resolves once it prints READY.
export function startDriver(port, args = []) {
  return new Promise((resolve, reject) => {
    const p = spawn(DRIVER, ['--port', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error('driver did not start: ' + err)); }, 8000);
    p.stdout.on('data', (d) => {
      out += d;
      if (/READY \d+/.test(out) && !p.ready) { p.ready = true; clearTimeout(t); resolve(p); }
    });
    p.stderr.on('data', (d) => { err += d; if (err.length > 1e5) err = err.slice(-5e4); });
    p.on("error", (e) => { p.exited = true; clearTimeout(t); reject(e); });
    p.on("exit", (code) => { p.exited = true; if (!p.ready) { clearTimeout(t); reject(new Error(`driver exited ${code}: ${err}`)); } });
    p.output = () => out;
    p.errors = () => err;
  });
}

export function stopDriver(p) {
  return new Promise((resolve) => {
    if (!p || p.exited) return resolve();
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    p.on('exit', () => { clearTimeout(t); resolve(); });
    p.kill('SIGTERM');
  });
}

export function request(port, pathname, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout ' + pathname)));
    req.end();
  });
}

export function makeChecker(name) {
  let failed = 0;
  const check = (ok, what, detail) => {
    if (ok) console.log(`ok - ${what}`);
    else { failed++; console.log(`not ok - ${what}${detail !== undefined ? ': ' + JSON.stringify(detail).slice(0, 400) : ''}`); }
    return ok;
  };
  check.failed = () => failed;
  check.done = () => { console.log(failed ? `${name}: ${failed} check(s) failed` : `${name}: all checks passed`); return failed ? 1 : 0; };
  return check;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log('wss_lib.mjs: helper module, nothing to run');
