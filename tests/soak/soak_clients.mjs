// Dashboard client churn for tests/soak/soak.sh (not run by ctest):
// 5 clients connect, read for 1-5 s, disconnect, reconnect; one more client
// never reads (socket paused) and is replaced every 30 s so the server's
// slow-client drop path runs over and over. Usage: node soak_clients.mjs PORT SECONDS
// Prints one JSON summary line; exits 1 if connections stopped succeeding.
import WebSocket from 'ws';

const [port, seconds] = [Number(process.argv[2]), Number(process.argv[3])];
if (!port || !seconds) { console.error('usage: soak_clients.mjs PORT SECONDS'); process.exit(2); }
const end = Date.now() + seconds * 1000;
const st = { connects: 0, failures: 0, messages: 0, stalled_opened: 0, recent_fail_streak: 0, max_fail_streak: 0 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function open(onMsg) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { origin: `http://127.0.0.1:${port}`, perMessageDeflate: false, handshakeTimeout: 5000 });
  ws.on('error', () => {});
  const ready = new Promise((res) => {
    ws.on('open', () => { st.connects++; st.recent_fail_streak = 0; res(true); });
    ws.on('unexpected-response', (req) => { req.destroy(); res(false); });
    ws.on('close', () => res(false));
  }).then((ok) => {
    if (!ok) { st.failures++; st.max_fail_streak = Math.max(st.max_fail_streak, ++st.recent_fail_streak); }
    return ok;
  });
  if (onMsg) ws.on('message', onMsg);
  return { ws, ready };
}

async function churner(i) {
  while (Date.now() < end) {
    const { ws, ready } = open(() => { st.messages++; });
    await ready;
    await sleep(1000 + ((i * 997 + st.connects * 131) % 4000));
    ws.terminate();
    await sleep(200);
  }
}

async function staller() {
  while (Date.now() < end) {
    const { ws, ready } = open(null);
    if (await ready) { ws._socket.pause(); st.stalled_opened++; }
    await sleep(Math.min(30000, Math.max(0, end - Date.now())));
    ws.terminate();
  }
}

await Promise.all([0, 1, 2, 3, 4].map(churner).concat([staller()]));
console.log(JSON.stringify(st));
process.exit(st.connects > 0 && st.max_fail_streak < 10 ? 0 : 1);
