// Webhook peer for the notifier tests (node http, 127.0.0.1, free port).
// Prints {"port":N} on the first stdout line, then one JSON line per
// request: {"t": arrival epoch ms, "method", "path", "ctype", "body", "status"}.
//
// The answer is chosen by the path, so one server serves many tests:
//   .../plan/<id>/<steps>/...  the k-th request to that <id> gets steps[k]
//                              ('-' separated), then 200 for ever. A step is
//                              a status ("500"), "429ra<S>" (429 with
//                              Retry-After: S) or "hold<MS>" (200 after MS ms).
//   .../hang/...               never answered (the client must time out).
//   anything else              200 {"ok":true}.
// Exits when stdin closes (the test process went away) or on SIGTERM.
import http from 'node:http';

const counts = new Map();

function decide(path) {
  if (path.includes('/hang')) return { hang: true };
  const m = path.match(/\/plan\/([^/]+)\/([^/]+)/);
  if (!m) return { status: 200 };
  const k = counts.get(m[1]) ?? 0;
  counts.set(m[1], k + 1);
  const step = m[2].split('-')[k];
  if (step === undefined) return { status: 200 };
  let r;
  if ((r = step.match(/^429ra(\d+)$/))) return { status: 429, retryAfter: r[1] };
  if ((r = step.match(/^hold(\d+)$/))) return { status: 200, hold: Number(r[1]) };
  return { status: Number(step) || 200 };
}

const server = http.createServer((req, res) => {
  const t = Date.now();
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= 65536) chunks.push(c);
  });
  req.on('end', () => {
    const d = decide(req.url);
    const rec = { t, method: req.method, path: req.url, ctype: req.headers['content-type'] ?? '',
      body: Buffer.concat(chunks).toString('utf8'), status: d.hang ? 0 : d.status };
    process.stdout.write(JSON.stringify(rec) + '\n');
    if (d.hang) return;
    const headers = { 'content-type': 'application/json' };
    if (d.retryAfter) headers['retry-after'] = d.retryAfter;
    const answer = () => {
      res.writeHead(d.status, headers);
      res.end(d.status < 300 ? '{"ok":true}' : '{"ok":false}');
    };
    if (d.hold) setTimeout(answer, d.hold);
    else answer();
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
