// Fault injection against the dashboard server (fast tier, docs/faults.md):
// S7 (client cap, slowloris, fd count), S8 at scale
// (100 clients, 10 stalled), S9 (raw malformed frames via tests/peers/ws_raw.mjs),
// S10 (HTTP surface edge cases not in wss_protocol.mjs) and S4 (real-browser
// CSWSH + DNS rebinding); S11 only on the input side (see s11Input). Three
// bench/wss_fanout drivers on free ports run two groups in parallel: about
// 40 s (the 2^63-1 stalled frame needs the 40 s idle reap), hard stop 85 s.
// Env: PT_BUILD_DIR (driver), PT_BIN (S11), PT_SANITIZE=1 (waits x3).
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { freePort, startDriver, stopDriver, request, sleep } from './wss_lib.mjs';
import { OP, frame, closePayload, rawConnect } from '../peers/ws_raw.mjs';

// Waits scale by K under sanitizers (PT_SANITIZE=1: the ASan build is 2-3x
// slower) and stay generous for a loaded 2-core CI machine; every wait is
// bounded and the hard stop ends the file before 90 s whatever happens.
const K = /^(1|on|true|yes)$/i.test(process.env.PT_SANITIZE || "") ? 3 : 1;
const HARD_STOP_MS = 85000;
let passed = 0, failed = 0;
const check = (ok, what, detail) => {
  if (ok) { passed++; console.log(`ok - ${what}`); }
  else { failed++; console.log(`not ok - ${what}${detail !== undefined ? ': ' + JSON.stringify(detail).slice(0, 400) : ''}`); }
  return ok;
};
const note = (s) => console.log('# ' + s);
const finish = () => { console.log(`${passed} passed, ${failed} failed`); process.exit(failed ? 1 : 0); };
const drivers = [];
const hardStop = setTimeout(() => {
  check(false, `whole test finished within ${HARD_STOP_MS / 1000} s`);
  drivers.forEach((d) => { if (!d.exited) d.kill('SIGKILL'); });
  finish();
}, HARD_STOP_MS);

const fdCount = (pid) => { try { return fs.readdirSync(`/proc/${pid}/fd`).length; } catch (e) { return -1; } };
const rssKb = (pid) => { try { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]); } catch (e) { return -1; } };
async function waitFor(fn, ms, step = 100) {
  const end = Date.now() + ms;
  while (Date.now() < end) { const v = await fn(); if (v) return v; await sleep(step); }
  return fn();
}
// env: extra environment for this driver only. startDriver spawns
// synchronously, so the swap of process.env cannot leak into another spawn.
async function start(args, env = {}) {
  const port = await freePort();
  const saved = {};
  for (const k of Object.keys(env)) { saved[k] = process.env[k]; process.env[k] = env[k]; }
  const p = startDriver(port, args);
  for (const k of Object.keys(env)) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; }
  const d = await p;
  d.port = port;
  drivers.push(d);
  return d;
}
const raw = (port) => rawConnect(port, { timeoutMs: 5000 * K });
const alive = async (port) => { try { return (await request(port, '/health')).status === 200; } catch (e) { return false; } };

// A node `ws` client with the dashboard's Origin. light: count messages and
// parse only trades (100 clients in one node process must stay cheap).
function openWs(port, { light = false } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { origin: `http://127.0.0.1:${port}`, perMessageDeflate: false, handshakeTimeout: 5000 * K });
  ws.n = 0; ws.trades = []; ws.msgs = [];
  ws.status = new Promise((resolve) => {
    ws.on('open', () => resolve({ open: true }));
    ws.on('unexpected-response', (req, res) => { resolve({ open: false, status: res.statusCode }); req.destroy(); });
    ws.on('error', (e) => resolve({ open: false, error: String(e) }));
  });
  ws.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('message', (d) => {
    ws.n++;
    if (light) { if (d.indexOf('"type":"trade"') >= 0 && d.indexOf('"type":"trade"') < 40) ws.trades.push(JSON.parse(d).data.id); }
    else ws.msgs.push(d.toString());
  });
  return ws;
}

// One raw HTTP exchange: resolves {status, head, body, closed} after the
// server closes or ms pass. Never reads more than 256 KiB.
function rawHttp(port, text, ms = 3000 * K) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0), done = false;
    const fin = (closed) => {
      if (done) return; done = true; clearTimeout(t); s.destroy();
      const str = buf.toString('latin1'), i = str.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(str);
      resolve({ status: m ? Number(m[1]) : null, head: i >= 0 ? str.slice(0, i) : str, body: i >= 0 ? str.slice(i + 4) : '', closed });
    };
    const t = setTimeout(() => fin(false), ms);
    s.on('data', (d) => { if (buf.length < 262144) buf = Buffer.concat([buf, d]); });
    s.on('error', () => fin(true));
    s.on('close', () => fin(true));
    s.on('connect', () => s.write(text, () => {}));
  });
}

// ------------------------------------------------------------ S9 raw frames
async function framesGroup(d) {
  const port = d.port;
  const watcher = openWs(port);
  check((await watcher.status).open, 'S9: watcher client connected');
  const t = (s) => Buffer.from(s);
  const cases = [
    ['invalid UTF-8 text -> 1007', [frame(OP.TEXT, Buffer.from([0x7b, 0xc3, 0x28, 0x7d]))], [1007]],
    // lws 4.1.6 returned from its parser mid-frame on bad UTF-8 without
    // resetting its rx buffer: the rest of a frame past rx_buffer_size was
    // written beyond it (issue 11). The check is ours now: these must close too.
    ['200 KiB text, invalid UTF-8 at byte 1 -> 1007', [frame(OP.TEXT, Buffer.concat([Buffer.from([0x22, 0xff]), Buffer.alloc(204800, 0x61)]))], [1007, 'tcp']],
    ['invalid UTF-8 split across fragments -> 1007', [frame(OP.TEXT, Buffer.from([0x22, 0xe2, 0x82]), { fin: false }), frame(OP.CONT, Buffer.from([0x28, 0x22]))], [1007]],
    ['truncated UTF-8 at the end of a message -> 1007', [frame(OP.TEXT, Buffer.from([0x22, 0x22, 0xe2, 0x82]))], [1007]],
    ['overlong and surrogate encodings -> 1007', [frame(OP.TEXT, Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]))], [1007]],
    ['reserved opcode 3 -> 1002', [frame(3, t('x'))], [1002]],
    ['RSV1 without extension -> 1002', [frame(OP.TEXT, t('{}'), { rsv: 4 })], [1002]],
    ['fragmented ping -> 1002', [frame(OP.PING, t('a'), { fin: false }), frame(OP.CONT, t('b'))], [1002]],
    ['continuation without start -> 1002', [frame(OP.CONT, t('{}'))], [1002]],
    ['close code 999 -> 1002', [frame(OP.CLOSE, closePayload(999))], [1002]],
    ['126-byte ping -> closed', [frame(OP.PING, Buffer.alloc(126, 0x61))], ['tcp', 1002]],
    ['4097-byte text (past the 4096 cap) -> 1009', [frame(OP.TEXT, t('"' + 'x'.repeat(4095) + '"'))], [1009]],
    ['65535-byte text -> 1009', [frame(OP.TEXT, t('"' + 'x'.repeat(65533) + '"'))], [1009]],
    ['65536-byte text -> 1009', [frame(OP.TEXT, t('"' + 'x'.repeat(65534) + '"'))], [1009]],
    ['close with an invalid UTF-8 reason -> closed', [frame(OP.CLOSE, Buffer.concat([closePayload(1000), Buffer.from([0xff, 0xfe])]))], ['any']],
  ];
  for (const [name, frames, want] of cases) {
    let ws;
    try { ws = await raw(port); } catch (e) { check(false, `S9 ${name}: handshake`, String(e)); continue; }
    await ws.until((w) => w.texts.length >= 1, 2000 * K); // the snapshot
    for (const f of frames) ws.send(f);
    const r = await ws.waitClose(2000 * K);
    // A big frame can meet the server's close while still in flight: the
    // kernel may reset before the close frame is read; then the server's
    // own log line is the evidence.
    const got = r.code ?? (r.tcp ? 'tcp' : 'timeout');
    const ok = want.includes('any') ? got !== 'timeout' : want.includes(got) ||
      (want[0] === 1009 && got === 'tcp' && /closing 1009/.test(d.errors()));
    check(ok, `S9 ${name} (got ${got} in ${r.ms} ms)`, { want, got });
    ws.destroy();
    check(await alive(port), `S9 ${name}: server still answers`);
  }
  // Valid edge sizes: 0, 125, 126, 4096 bytes are within the cap.
  for (const n of [0, 125, 126, 4096]) {
    const ws = await raw(port);
    await ws.until((w) => w.texts.length >= 1, 2000 * K);
    const id = 1000 + n;
    let body = `{"type":"ping","id":${id},"p":""}`;
    if (n >= body.length) body = body.replace('"p":""', `"p":"${'x'.repeat(n - body.length)}"`);
    else body = '';
    ws.send(frame(OP.TEXT, t(body)));
    if (n === 0) {
      await ws.until((w) => w.texts.some((x) => /"type":"error"/.test(x)) || w.closeCode !== null, 1000 * K);
      check(ws.closeCode === null && !ws.tcpClosed, 'S9 0-byte text: connection kept', { code: ws.closeCode });
    } else {
      await ws.until((w) => w.texts.some((x) => x.includes(`"id":${id}`)), 2000 * K);
      check(Buffer.byteLength(body) === n && ws.texts.some((x) => /"type":"pong"/.test(x) && x.includes(`"id":${id}`)),
        `S9 ${n}-byte text within the cap -> pong`, { len: Buffer.byteLength(body), last: ws.texts.slice(-1) });
    }
    ws.destroy();
  }
  { // a ping interleaved inside a fragmented message is legal (RFC 6455 5.4)
    const ws = await raw(port);
    await ws.until((w) => w.texts.length >= 1, 2000 * K);
    ws.send(Buffer.concat([frame(OP.TEXT, t('{"type":"ping",'), { fin: false }), frame(OP.PING, t('hi')), frame(OP.CONT, t('"id":55}'))]));
    await ws.until((w) => w.texts.some((x) => x.includes('"id":55')), 2000 * K);
    check(ws.frames.some((f) => f.opcode === OP.PONG && f.payload.toString() === 'hi'), 'S9 ping inside a fragmented message -> pong frame');
    check(ws.texts.some((x) => /"type":"pong"/.test(x) && x.includes('"id":55')), 'S9 fragmented message reassembled around the ping');
    ws.destroy();
  }
  { // lws 4.1.6 deviation: unmasked client frames are accepted. Recorded, not failed.
    const ws = await raw(port);
    await ws.until((w) => w.texts.length >= 1, 2000 * K);
    ws.send(frame(OP.TEXT, t('{"type":"ping","id":66}'), { mask: false }));
    await ws.until((w) => w.texts.some((x) => x.includes('"id":66')) || w.closeCode !== null || w.tcpClosed, 2000 * K);
    const accepted = ws.texts.some((x) => x.includes('"id":66'));
    note(`known lws 4.1.6 deviation: unmasked client frame ${accepted ? 'ACCEPTED (RFC 6455 5.1 says close)' : `refused (close ${ws.closeCode})`}`);
    ws.destroy();
  }
  const n0 = watcher.n;
  await sleep(700 * K);
  check(watcher.readyState === WebSocket.OPEN && watcher.n > n0, 'S9: the watcher kept receiving through every case', { n0, n: watcher.n });
  watcher.terminate();
}

// --------------------------------------------------------- S10 HTTP surface
async function httpGroup(port) {
  const H = `Host: 127.0.0.1:${port}\r\n`;
  const ask = (req) => rawHttp(port, req);
  let r = await ask(`POST / HTTP/1.1\r\n${H}Content-Length: 2\r\nConnection: close\r\n\r\n{}`);
  check(r.status === 405, 'S10 POST / -> 405', r.status);
  r = await ask(`PUT /health HTTP/1.1\r\n${H}Content-Length: 0\r\nConnection: close\r\n\r\n`);
  check(r.status === 405, 'S10 PUT /health -> 405', r.status);
  const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0];
  for (const p of ['/../../etc/passwd', '/%2e%2e/', '/%2e%2e/%2e%2e/etc/passwd', '//etc/passwd', '/..%2f..%2fetc%2fpasswd', '/index.html/../../../etc/passwd']) {
    r = await ask(`GET ${p} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    // lws may normalise "/../" to "/" and serve the dashboard: that is not a leak.
    const dash = r.status === 200 && /<html/i.test(r.body);
    check([400, 403, 404].includes(r.status) || dash || (r.status === null && r.closed), `S10 GET ${p} -> ${r.status ?? 'closed'} (not a file outside the web root)`, r.status);
    check(!r.body.includes(passwd) && !/root:/.test(r.body), `S10 GET ${p} leaks no file content`);
  }
  r = await rawHttp(port, `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(65536)}\r\nConnection: close\r\n\r\n`, 4000 * K);
  check(r.status === 431 || r.status === 400 || (r.status === null && r.closed) || r.status >= 400, `S10 64 KiB header -> ${r.status ?? 'closed'}`, r.status);
  check(r.status !== 200, 'S10 64 KiB header is not served', r.status);
  r = await ask(`GET /${'a'.repeat(10000)} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
  check((r.status !== null && r.status >= 400) || r.closed, `S10 10,000-char URL -> ${r.status ?? 'closed'}`, r.status);
  r = await ask('GET / HTTP/1.0\r\n\r\n');
  check(r.status === 403 || r.status === 400 || (r.status === null && r.closed), `S10 HTTP/1.0 without Host refused (${r.status ?? 'closed'})`, r.status);
  check(!/<html/i.test(r.body), 'S10 HTTP/1.0 without Host gets no page');
  for (const p of ['/', '/health', '/metrics']) {
    r = await request(port, p);
    const h = r.headers;
    check(!('access-control-allow-origin' in h), `S10 ${p}: no Access-Control-Allow-Origin`);
    check(h['x-content-type-options'] === 'nosniff', `S10 ${p}: nosniff`, h['x-content-type-options']);
    if (p === '/') check(/default-src 'self'/.test(h['content-security-policy'] || '') && /connect-src 'self' ws:\/\/127\.0\.0\.1:/.test(h['content-security-policy'] || ''), 'S10 /: CSP', h['content-security-policy']);
    else check(h['cache-control'] === 'no-store', `S10 ${p}: Cache-Control no-store`, h['cache-control']);
  }
  check(await alive(port), 'S10: server still answers');
}

// ------------------------------------------------- S7 slowloris + fd count
async function slowloris(d, n = 150) {
  const pid = d.pid, base = fdCount(pid);
  const req = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${d.port}\r\nX-A: b\r\n`;
  const t0 = Date.now(), socks = [];
  let closedAt = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(d.port, '127.0.0.1');
    s.i = 0;
    s.on('error', () => {});
    s.on('close', () => { closedAt.push(Date.now() - t0); clearInterval(s.timer); });
    s.on('connect', () => { s.write(req[s.i++]); s.timer = setInterval(() => { if (!s.destroyed) s.write(req[s.i++ % req.length]); }, 1000); });
    socks.push(s);
  }
  // Under load the accepts can lag: wait for them rather than a fixed sleep.
  await waitFor(() => fdCount(pid) >= base + n * 0.9, 1500 * K, 100);
  const peak = fdCount(pid);
  check(peak >= base + n * 0.9, `S7 slowloris: ${n} connections held by the server (fds ${base} -> ${peak})`);
  check(await alive(d.port), 'S7 server still answers during slowloris');
  // lws timeout_secs is 10 s of wall time; the slack covers a slow or loaded host.
  await waitFor(() => closedAt.length === n, 10000 + 5000 * K, 250);
  closedAt.sort((a, b) => a - b);
  check(closedAt.length === n, `S7 slowloris: server closed all ${n} within ${10 + 5 * K} s (closed ${closedAt.length}, last at ${closedAt.at(-1)} ms)`);
  const back = await waitFor(() => Math.abs(fdCount(pid) - base) <= 2, 5000 * K, 200);
  check(back, `S7 fd count back to baseline ±2 (${base} -> ${fdCount(pid)})`);
  socks.forEach((s) => { clearInterval(s.timer); s.destroy(); });
}

// ------------------------------------------------------- S7 client cap
async function capGroup() {
  const MAX = 8, EXTRA = 5;
  const d = await start(['--rate', '50', '--candle-ms', '100', '--trade-every', '1', '--max-clients', String(MAX), '--heartbeat-ms', '500']);
  const first = [];
  for (let i = 0; i < MAX; i++) first.push(openWs(d.port, { light: true }));
  const st = await Promise.all(first.map((w) => w.status));
  check(st.every((s) => s.open), `S7 the first ${MAX} clients connect`);
  const extra = [];
  for (let i = 0; i < EXTRA; i++) extra.push(openWs(d.port));
  const ex = await Promise.all(extra.map(async (w) => {
    const s = await w.status;
    if (s.open) return Promise.race([w.closed, sleep(2000 * K).then(() => 'open')]);
    return s.status ?? s.error;
  }));
  check(ex.every((x) => x === 503 || x === 1013), `S7 ${EXTRA} connections past max_clients refused (503 or 1013)`, ex);
  const n0 = first.map((w) => w.trades.length);
  await sleep(1500 * K);
  const grew = first.map((w, i) => w.trades.length - n0[i]);
  check(first.every((w) => w.readyState === WebSocket.OPEN) && grew.every((g) => g >= 5), 'S7 the first clients still receive trades at the normal rate', grew);
  first.forEach((w) => w.terminate());
  extra.forEach((w) => w.terminate());
  await stopDriver(d);
}

// ---------------------------------------- S8 at scale: 100 clients, 10 stalled
async function crowdGroup() {
  // Big in-progress candles (--pad) fill a stalled client's socket buffers
  // fast; the small queue bound then drops it (docs/faults.md).
  // Under ASan, freed blocks sit in a 256 MB quarantine and RSS measures that,
  // not the server (measured: +365 MB); a 4 MB quarantine keeps the bound
  // meaningful (measured: +11 MB). No effect on a plain build.
  const asan = [process.env.ASAN_OPTIONS, 'quarantine_size_mb=4'].filter(Boolean).join(':');
  const d = await start(['--rate', '100', '--candle-ms', '100', '--trade-every', '1', '--max-clients', '128',
    '--pad', '12000', '--queue-msgs', '200', '--queue-bytes', '2000000', '--heartbeat-ms', '1000'], { ASAN_OPTIONS: asan });
  const N = 100, STALLED = 10;
  const rss0 = rssKb(d.pid);
  const all = [];
  for (let i = 0; i < N; i++) all.push(openWs(d.port, { light: true }));
  const st = await Promise.all(all.map((w) => w.status));
  check(st.every((s) => s.open), `S8 ${N} clients connected`, st.filter((s) => !s.open).slice(0, 3));
  const stalled = all.slice(0, STALLED), fast = all.slice(STALLED);
  stalled.forEach((w) => w._socket.pause());
  let rssMax = rssKb(d.pid);
  const t0 = Date.now();
  const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssKb(d.pid)); }, 200);
  // The paused sockets never see the close, so ask the server.
  const droppedNow = async () => { try { return JSON.parse((await request(d.port, '/health')).body).server?.clients_dropped ?? 0; } catch (e) { return 0; } };
  await waitFor(async () => (await droppedNow()) >= STALLED, Math.min(25000 * K, 40000), 250);
  const dropped = await droppedNow();
  clearInterval(sampler);
  check(dropped >= STALLED, `S8 all ${STALLED} stalled clients dropped by the server (${dropped} in ${Date.now() - t0} ms)`, { dropped });
  const growth = (rssMax - rss0) / 1024;
  check(growth < 20, `S8 server RSS growth bounded (${growth.toFixed(1)} MB < 20 MB)`, { rss0, rssMax });
  const bad = fast.filter((w) => w.readyState !== WebSocket.OPEN || w.trades.length < 10 ||
    !w.trades.every((id, i) => i === 0 || id === w.trades[i - 1] + 1));
  check(bad.length === 0, `S8 all ${fast.length} fast clients got every trade in order (min ${Math.min(...fast.map((w) => w.trades.length))})`,
    bad.slice(0, 2).map((w) => ({ state: w.readyState, n: w.trades.length, head: w.trades.slice(0, 5) })));
  all.forEach((w) => w.terminate());
  await stopDriver(d);
}

// ------------------------------------------- S4 real-browser CSWSH + rebinding
async function browserGroup() {
  const CHROMIUM = '/usr/bin/chromium';
  if (!fs.existsSync(CHROMIUM)) { note('SKIP S4: no ' + CHROMIUM); return; }
  const { chromium } = await import('playwright-core');
  const d = await start(['--rate', '20', '--candle-ms', '200', '--heartbeat-ms', '500']);
  const target = d.port;
  const page = `<!doctype html><title>attacker</title><script>
window.r = { msgs: 0, events: [], fetch: 'pending', opaque: 'pending' };
const ws = new WebSocket('ws://127.0.0.1:${target}/');
ws.onmessage = () => { r.msgs++; };
ws.onerror = () => r.events.push('error');
ws.onclose = (e) => r.events.push('close:' + e.code);
fetch('http://127.0.0.1:${target}/metrics').then((x) => x.text()).then((t) => { r.fetch = 'read:' + t.length; }, (e) => { r.fetch = 'blocked'; });
fetch('http://127.0.0.1:${target}/metrics', { mode: 'no-cors' }).then((x) => { r.opaque = x.type + ':' + x.status; }, () => { r.opaque = 'blocked'; });
</script>`;
  const evil = http.createServer((q, s) => { s.writeHead(200, { 'content-type': 'text/html' }); s.end(page); });
  const evilPort = await freePort();
  await new Promise((res) => evil.listen(evilPort, '127.0.0.1', res));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-faults-chromium-'));
  const metricsRej = async () => Number((/papertrader_wss_rejected_total\{reason="origin"\} (\S+)/.exec((await request(target, '/metrics')).body) || [])[1] || 0);
  const rej0 = await metricsRej();
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, timeout: 20000 * K,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP evil.test 127.0.0.1'],
    });
    const pg = ctx.pages()[0] || await ctx.newPage();
    await pg.goto(`http://127.0.0.1:${evilPort}/`, { waitUntil: 'load', timeout: 10000 * K });
    await pg.waitForFunction(() => r.events.length > 0 && r.fetch !== 'pending' && r.opaque !== 'pending', null, { timeout: 8000 * K }).catch(() => {});
    const r = await pg.evaluate(() => window.r);
    check(r.events.length > 0 && r.msgs === 0, `S4 cross-origin WebSocket refused, no message read (${r.events.join(',')})`, r);
    check(r.fetch === 'blocked', 'S4 cross-origin fetch of /metrics is unreadable (CORS blocked)', r.fetch);
    check(r.opaque === 'opaque:0' || r.opaque === 'blocked', `S4 no-cors fetch is opaque (${r.opaque})`, r.opaque);
    check((await metricsRej()) > rej0, 'S4 the server counted the rejected origin');
    const resp = await pg.goto(`http://evil.test:${target}/`, { waitUntil: 'load', timeout: 10000 * K }).catch((e) => ({ status: () => String(e) }));
    check(resp.status() === 403, `S4 DNS rebinding: http://evil.test:<port>/ -> ${resp.status()}`);
    check(!/<canvas|id="chart"/.test(await pg.content()), 'S4 DNS rebinding: no dashboard served');
  } finally {
    if (ctx) await ctx.close().catch(() => {});
    evil.close();
    fs.rmSync(profile, { recursive: true, force: true });
    await stopDriver(d);
  }
}

// ------------------------------------------- S11 input side (partial)
// No publisher can put a chosen symbol on the dashboard: bench/wss_fanout has
// no symbol flag, and papertrader demo refuses a symbol that cannot name a
// file (session/session_live.c) before the dashboard starts; the Binance adapter
// also allows only [A-Za-z0-9_-]. This checks that refusal; the browser half
// of S11 (literal text, no dialog) stays untested (docs/faults.md).
async function s11Input() {
  const bin = process.env.PT_BIN;
  if (!bin || !fs.existsSync(bin)) { note('SKIP S11: no PT_BIN'); return; }
  const csv = path.join(process.env.PT_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..'), 'data/freqtrade_UNITTEST-BTC_1m.csv');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-faults-s11-'));
  const sym = '<img/src=x/onerror=alert(1)>';
  const r = await new Promise((resolve) => {
    const p = spawn(bin, ['demo', '--symbols', sym, '--port', '0', '--duration', '3', '--out', out, '--heartbeat', '0',
      '--fsync', 'none', csv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let o = '';
    p.stdout.on('data', (x) => { o += x; });
    p.stderr.on('data', (x) => { o += x; });
    const t = setTimeout(() => p.kill('SIGKILL'), 10000 * K);
    p.on('exit', (code, sig) => { clearTimeout(t); resolve({ code, sig, o }); });
    p.on('error', (e) => { clearTimeout(t); resolve({ code: -1, o: String(e) }); });
  });
  fs.rmSync(out, { recursive: true, force: true });
  check(r.code !== 0 && r.code !== null && !/dashboard: http/.test(r.o) && r.o.includes(sym),
    'S11 (input side): papertrader demo refuses an HTML symbol before serving the dashboard', { code: r.code, sig: r.sig, out: r.o.slice(-300) });
  note('SKIP S11 browser half: no publisher can put a chosen symbol on the dashboard');
}

async function main() {
  const c = await start(['--rate', '20', '--candle-ms', '200', '--trade-every', '1', '--max-clients', '64', '--heartbeat-ms', '300']);
  // a header declaring 2^63-1 payload bytes, then silence. lws waits
  // for the payload; only the idle policy (ping at 15 s, hang up 40 s after
  // the last valid pong, ws_server/wss_server.c) reaps it. Started first so
  // the wait overlaps everything else.
  const stall = await raw(c.port);
  await stall.until((w) => w.texts.length >= 1, 2000 * K);
  stall.send(frame(OP.TEXT, Buffer.alloc(0), { declaredLen: 0x7fffffffffffffffn }));
  const stallT0 = Date.now();
  const stallDone = stall.waitClose(40000 + 10000 * K);
  const groupA = (async () => {
    await framesGroup(c);
    await httpGroup(c.port);
    await slowloris(c);
    await s11Input();
  })();
  const groupB = (async () => {
    await capGroup();
    await crowdGroup();
    await browserGroup();
  })();
  const res = await Promise.allSettled([groupA, groupB]);
  res.forEach((x, i) => { if (x.status === 'rejected') check(false, `group ${i ? 'B' : 'A'} threw`, String(x.reason?.stack || x.reason)); });
  const r = await stallDone;
  check(r.tcp || r.code !== null, `S9 declared 2^63-1 length then silence: reaped by the idle timeout after ${Date.now() - stallT0} ms`, r);
  check(await alive(c.port), 'server still answers at the end');
  for (const d of drivers) await stopDriver(d);
  for (const d of drivers) if (/AddressSanitizer|runtime error/.test(d.errors())) check(false, 'sanitizer report in driver stderr', d.errors().slice(-1500));
  clearTimeout(hardStop);
  finish();
}

main().catch((e) => { check(false, 'exception: ' + (e.stack || e)); drivers.forEach((d) => d.kill('SIGKILL')); finish(); });
