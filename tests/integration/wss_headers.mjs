// Request header cap at its edge (issue 11 item 6; ws_server/wss_internal.h
// WSS_MAX_HEADER_BYTES, docs/protocol.md "HTTP"). A raw socket sends one
// request with a Cookie sized so that the counted header bytes (URI, HTTP
// version and header values, as lws keeps them) are exactly the cap: 200;
// one byte over: 431 with a body, not a silent close; the same for a
// WebSocket upgrade; ~4.5 KiB of cookies (a browser holding other local
// apps' cookies) is served. Past lws's own buffer (twice the cap) lws closes
// without an answer: the server must survive it and keep serving.
import net from 'node:net';
import { freePort, startDriver, stopDriver, makeChecker } from './wss_lib.mjs';

const CAP = 16384;
const check = makeChecker('wss_headers');
const port = await freePort();
const d = await startDriver(port);
const host = `127.0.0.1:${port}`;
// Sends req, returns everything the server wrote before it closed (or 3 s passed).
function raw(req) {
  return new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const t = setTimeout(() => s.destroy(), 3000);
    s.on('data', (x) => { buf += x; if (/^HTTP\/1\.1 101[^]*\r\n\r\n/.test(buf)) s.destroy(); /* upgraded: enough */ });
    s.on('close', () => { clearTimeout(t); res(buf); });
    s.on('error', () => {});
    s.write(req);
  });
}
const status = (r) => { const m = /^HTTP\/1\.[01] (\d{3})/.exec(r); return m ? Number(m[1]) : 0; };
// a Cookie that makes the counted bytes total `total` for GET `uri`
const cookieFor = (total, uri) => 'c'.repeat(total - uri.length - 'HTTP/1.1'.length - host.length);
const get = (uri, total) => `GET ${uri} HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookieFor(total, uri)}\r\nConnection: close\r\n\r\n`;

try {
  let r = await raw(`GET /health HTTP/1.1\r\nHost: ${host}\r\nCookie: ${'k=v; '.repeat(920)}\r\nConnection: close\r\n\r\n`);
  check(status(r) === 200, '~4.5 KiB of cookies -> 200', r.slice(0, 80));
  // Connection: close adds its value to the count
  const get2 = (uri, total) => get(uri, total - 'close'.length);
  r = await raw(get2('/health', CAP));
  check(status(r) === 200, `headers at the cap (${CAP} bytes) -> 200`, r.slice(0, 80));
  r = await raw(get2('/health', CAP + 1));
  check(status(r) === 431, 'one byte over the cap -> 431', r.slice(0, 80));
  check(/too large/.test(r), '431 carries a body that says why', r.slice(0, 200));
  r = await raw(get2('/health', 2 * CAP - 100));
  check(status(r) === 431, 'near lws\'s buffer (2x the cap) -> still 431', r.slice(0, 80));
  // the upgrade path: same cap
  const up = (total) => {
    const fixed = ['websocket', 'Upgrade', 'dGhlIHNhbXBsZSBub25jZQ==', '13', `http://${host}`];
    const n = total - '/'.length - 'HTTP/1.1'.length - host.length - fixed.reduce((a, s) => a + s.length, 0);
    return `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://${host}\r\n` +
      `Cookie: ${'c'.repeat(n)}\r\n\r\n`;
  };
  r = await raw(up(CAP));
  check(status(r) === 101, 'upgrade with headers at the cap -> 101', r.slice(0, 80));
  r = await raw(up(CAP + 1));
  check(status(r) === 431, 'upgrade one byte over the cap -> 431', r.slice(0, 80));
  // past lws's buffer: lws closes; the server lives on
  r = await raw(get2('/health', 3 * CAP));
  check(status(r) === 0 || status(r) === 431, `past lws's buffer: closed or 431 (got ${status(r)})`);
  r = await raw(`GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  check(status(r) === 200 && !d.exited, 'the server still serves afterwards', r.slice(0, 80));
  check(/refused \(431, cap 16384\)/.test(d.errors()), 'the refusal is logged with the cap', d.errors().slice(-300));
} finally {
  await stopDriver(d);
}
process.exit(check.done());
