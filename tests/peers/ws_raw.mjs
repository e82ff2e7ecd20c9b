// Raw RFC 6455 client over net.Socket, for malformed-frame cases that a real
// WebSocket library refuses to send. Builds
// frames bit by bit (FIN, RSV, opcode, mask, declared length), does the
// upgrade handshake by hand, and parses the server's frames so a test can
// see the close code it got, or that TCP closed without one.
// Not a test: run directly it only prints a line.
import crypto from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export const OP = { CONT: 0, TEXT: 1, BIN: 2, CLOSE: 8, PING: 9, PONG: 10 };

// One frame. opts: fin (default true), rsv (0..7, the RSV1..3 bits), mask
// (default true: clients must mask, RFC 6455 5.1), declaredLen (a BigInt or
// number written in the header instead of payload.length: for "declared
// 2^63-1 then silence"), maskKey (4 bytes).
export function frame(opcode, payload = Buffer.alloc(0), opts = {}) {
  const { fin = true, rsv = 0, mask = true } = opts;
  const body = Buffer.from(payload);
  const len = opts.declaredLen !== undefined ? BigInt(opts.declaredLen) : BigInt(body.length);
  const head = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)];
  const m = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126n) head.push(m | Number(len));
  else if (len < 65536n) { head.push(m | 126); ext = Buffer.alloc(2); ext.writeUInt16BE(Number(len)); }
  else { head.push(m | 127); ext = Buffer.alloc(8); ext.writeBigUInt64BE(len); }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, body]);
  const key = opts.maskKey || crypto.randomBytes(4);
  const masked = Buffer.alloc(body.length);
  for (let i = 0; i < body.length; i++) masked[i] = body[i] ^ key[i & 3];
  return Buffer.concat([Buffer.from(head), ext, key, masked]);
}

// Close-frame payload: 2-byte code then the reason bytes.
export function closePayload(code, reason = '') {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, Buffer.from(reason)]);
}

// Parses unmasked server frames out of buf; returns {frames, rest}.
function parseFrames(buf) {
  const frames = [];
  for (;;) {
    if (buf.length < 2) break;
    let len = buf[1] & 0x7f, off = 2;
    if (len === 126) { if (buf.length < 4) break; len = buf.readUInt16BE(2); off = 4; }
    else if (len === 127) { if (buf.length < 10) break; len = Number(buf.readBigUInt64BE(2)); off = 10; }
    if (buf[1] & 0x80) off += 4; // a server must not mask; tolerate it anyway
    if (buf.length < off + len) break;
    frames.push({ fin: !!(buf[0] & 0x80), opcode: buf[0] & 0x0f, payload: buf.subarray(off, off + len) });
    buf = buf.subarray(off + len);
  }
  return { frames, rest: buf };
}

// Connects and upgrades. Resolves a RawWs once the 101 arrives, or rejects
// with the status line (or the socket error) within timeoutMs.
export function rawConnect(port, { host = `127.0.0.1:${port}`, origin = `http://127.0.0.1:${port}`, path = '/',
  timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let head = Buffer.alloc(0), upgraded = false;
    const ws = { sock, frames: [], texts: [], closeCode: null, closeReason: '', tcpClosed: false, waiters: [] };
    const t = setTimeout(() => { sock.destroy(); reject(new Error('handshake timeout')); }, timeoutMs);
    const wake = () => { const w = ws.waiters; ws.waiters = []; w.forEach((f) => f()); };
    let rest = Buffer.alloc(0);
    const onFrames = (data) => {
      const r = parseFrames(Buffer.concat([rest, data]));
      rest = Buffer.from(r.rest);
      for (const f of r.frames) {
        ws.frames.push(f);
        if (f.opcode === OP.TEXT) ws.texts.push(f.payload.toString());
        if (f.opcode === OP.CLOSE && ws.closeCode === null) {
          ws.closeCode = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
          ws.closeReason = f.payload.subarray(2).toString();
        }
      }
      wake();
    };
    sock.on('data', (d) => {
      if (upgraded) return onFrames(d);
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = head.subarray(0, head.indexOf('\r\n')).toString();
      clearTimeout(t);
      if (!/^HTTP\/1\.1 101/.test(status)) { sock.destroy(); reject(new Error(status)); return; }
      upgraded = true;
      resolve(ws);
      if (head.length > end + 4) onFrames(head.subarray(end + 4));
    });
    sock.on('error', (e) => { if (!upgraded) { clearTimeout(t); reject(e); } });
    sock.on('close', () => { ws.tcpClosed = true; if (!upgraded) { clearTimeout(t); reject(new Error('closed before 101')); } wake(); });
    sock.on('connect', () => sock.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` + (origin ? `Origin: ${origin}\r\n` : '') + '\r\n'));
    ws.send = (buf) => { if (!sock.destroyed) sock.write(buf); };
    // Resolves when pred(ws) holds or after ms (then with the same ws).
    ws.until = (pred, ms) => new Promise((res) => {
      const end = setTimeout(() => res(ws), ms);
      const test = () => { if (pred(ws)) { clearTimeout(end); res(ws); } else ws.waiters.push(test); };
      test();
    });
    // Waits for a close frame or the TCP close: {code, tcp, ms}; code null on timeout.
    ws.waitClose = async (ms) => {
      const t0 = Date.now();
      await ws.until((w) => w.closeCode !== null || w.tcpClosed, ms);
      return { code: ws.closeCode, tcp: ws.tcpClosed, ms: Date.now() - t0 };
    };
    ws.destroy = () => sock.destroy();
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log('ws_raw.mjs: helper module, nothing to run');
