// The operations modules wired into a live session (session/session_ops.c):
// `papertrader demo` with a --config whose [notify] points at a node webhook
// peer on a free port (a generic JSON target and a Telegram-shaped one via
// telegram_api_url, the bot token from the environment). Checks: a start
// notification, trade notifications once fills happen, /health with score,
// level, components and heartbeats and no secret, /metrics with the health
// families in valid text format, and on SIGTERM a stop notification before
// the exit and the final health report in --log-dir/papertrader.log, with a
// periodic one logged before any shutdown ([log] report_interval_s = 2).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { deadline, finish, get, ok, sleep, start, tmpdir } from './run_lib.mjs';

deadline(55000);
const TOKEN = '987654:opswire-SECRET-token';

// ---- the webhook peer: records every request with its arrival time
const hooks = [];
const peer = http.createServer((rq, rs) => {
  let body = '';
  rq.on('data', (d) => { body += d; });
  rq.on('end', () => {
    let json = null;
    try { json = JSON.parse(body); } catch { /* kept as null */ }
    hooks.push({ t: Date.now(), path: rq.url, json });
    rs.writeHead(200, { 'content-type': 'application/json' });
    rs.end('{"ok":true}');
  });
});
await new Promise((r) => peer.listen(0, '127.0.0.1', r));
const hookPort = peer.address().port;

const generic = (title) => hooks.filter((h) => h.path === '/hook' && h.json && h.json.title === title);
async function until(fn, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (fn()) return true; await sleep(50); }
  return !!fn();
}

// Prometheus text format 0.0.4, the parts a scraper relies on: every sample
// belongs to a family declared once with HELP and TYPE before its samples,
// sample lines parse, values are numbers. Returns {errors, families}.
function parseMetrics(text) {
  const errors = [], fam = new Map();
  if (!text.endsWith('\n')) errors.push('no final newline');
  text.split('\n').forEach((line, i) => {
    if (!line) return;
    let m;
    if ((m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) {
      const f = fam.get(m[2]) || { help: 0, type: null, samples: [] };
      fam.set(m[2], f);
      if (m[1] === 'HELP') f.help++;
      else if (f.type || f.samples.length) errors.push(`${i + 1}: late or second TYPE ${m[2]}`);
      else f.type = m[3];
      return;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+)$/.exec(line);
    if (!m || !/^(?:[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/.test(m[3])) {
      errors.push(`${i + 1}: bad sample: ${line}`);
      return;
    }
    const base = [...fam.keys()].find((k) => m[1] === k || (m[1].startsWith(k + '_') && /_(sum|count|bucket)$/.test(m[1])));
    if (!base) errors.push(`${i + 1}: sample before its TYPE: ${m[1]}`);
    else fam.get(base).samples.push({ labels: m[2] || '', value: Number(m[3]) });
  });
  return { errors, families: fam };
}

const levelOf = (s) => (s >= 90 ? 'excellent' : s >= 75 ? 'good' : s >= 60 ? 'fair' : s >= 40 ? 'poor' : 'critical');

// ---- the session
const dir = tmpdir('ptops-');
const logDir = path.join(dir, 'oplogs');
const ini = path.join(dir, 'papertrader.ini');
fs.writeFileSync(ini, [
  '[notify]',
  `webhook_url = http://127.0.0.1:${hookPort}/hook`,
  'telegram_chat_id = 4242',
  `telegram_api_url = http://127.0.0.1:${hookPort}/tg`,
  'trades_per_hour = 1000',
  '[log]',
  'report_interval_s = 2',
  '',
].join('\n'));
const d = start(['demo', '--config', ini, '--port', '0', '--out', path.join(dir, 'out'), '--log-dir', logDir,
  '--strategy', 'ema_cross', '--param', 'fast=3', '--param', 'slow=9', '--heartbeat', '1', '--duration', '40', '--quiet'],
{ PAPERTRADER_NOTIFY_TELEGRAM_TOKEN: TOKEN });
try {
  const port = Number((await d.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//))[1]);

  ok(await until(() => generic('papertrader started').length > 0, 10000), 'a start notification arrives (generic JSON)');
  const st = generic('papertrader started')[0];
  ok(st && st.json.source === 'papertrader' && st.json.category === 'status' && /demo/.test(st.json.text),
    'start notification names the mode', JSON.stringify(st && st.json));
  ok(await until(() => generic('trade').length > 0, 15000), `trade notifications arrive (${generic('trade').length})`);
  const tr = generic('trade')[0];
  ok(tr && tr.json.category === 'trade' && /UNITTESTBTC (buy|sell) /.test(tr.json.text), 'trade notification names symbol and side',
    JSON.stringify(tr && tr.json));
  const tg = hooks.filter((h) => h.path === `/tg/bot${TOKEN}/sendMessage`);
  ok(await until(() => hooks.some((h) => h.path === `/tg/bot${TOKEN}/sendMessage` && h.json && h.json.chat_id === '4242'), 5000),
    `the Telegram-shaped target gets the messages (${tg.length})`);

  await sleep(1200); // at least one ops tick after the first beats
  const h = await get(port, '/health');
  let j = {};
  try { j = JSON.parse(h.body); } catch { /* checked below */ }
  ok(h.status === 200 && Number.isInteger(j.score) && j.score >= 0 && j.score <= 100, `/health has a score 0-100 (${j.score})`,
    h.body.slice(0, 300));
  ok(j.level === levelOf(j.score), `level "${j.level}" matches score ${j.score}`);
  const comps = Array.isArray(j.components) ? j.components : [];
  const names = comps.map((c) => c.name);
  ok(['feed', 'backfill', 'engine', 'server', 'notifier'].every((n) => names.includes(n)), `components: ${names.join(',')}`);
  const beating = comps.filter((c) => c.period_ms > 0);
  ok(beating.length >= 4 && beating.every((c) => c.beats > 0 && c.last_beat_age_ms !== null && !c.stale),
    'every component with a period has beaten and is not stale', JSON.stringify(beating.map((c) => [c.name, c.beats, c.stale])));
  const eng = comps.find((c) => c.name === 'engine') || { counters: {} };
  ok(eng.counters.fills > 0 && 'win_rate_pct' in eng.counters && 'pnl' in eng.counters && 'candle_ms_avg' in eng.counters,
    'engine counters: fills, win rate, pnl, processing time', JSON.stringify(eng.counters));
  const feed = comps.find((c) => c.name === 'feed') || { counters: {} };
  ok(feed.counters.candles_accepted > 0, 'feed counts candles by verdict', JSON.stringify(feed.counters));
  ok(j.process && j.process.rss_kb > 0 && j.rest && 'p99_ms' in j.rest && Array.isArray(j.recent_errors),
    '/health has process, rest and recent_errors');
  ok(j.notifier && j.notifier.sent > 0, `/health shows notifier stats (sent ${j.notifier && j.notifier.sent})`);
  ok(!h.body.includes(TOKEN) && !h.body.includes('opswire-SECRET'), '/health holds no secret');
  ok((h.body.match(/"uptime_s"/g) || []).length === 1, '/health repeats no key (uptime_s once)');

  const m = await get(port, '/metrics');
  const pm = parseMetrics(m.body);
  ok(m.status === 200 && pm.errors.length === 0, '/metrics still parses', pm.errors.slice(0, 5).join('; '));
  const score = pm.families.get('papertrader_health_score');
  ok(score && score.type === 'gauge' && score.samples.length === 1 && score.samples[0].value >= 0 && score.samples[0].value <= 100,
    'papertrader_health_score is a gauge 0-100');
  const up = pm.families.get('papertrader_component_up');
  ok(up && ['feed', 'engine', 'server', 'notifier'].every((n) => up.samples.some((s) => s.labels.includes(`component="${n}"`))),
    'papertrader_component_up has a series per component');
  for (const f of ['papertrader_errors_total', 'papertrader_component_value', 'papertrader_process_resident_memory_bytes',
    'papertrader_notifications_total', 'papertrader_candles_total'])
    ok(pm.families.has(f), `/metrics has ${f}`);
  ok(!m.body.includes(TOKEN), '/metrics holds no secret');

  // ---- the periodic health report ([log] report_interval_s = 2), before any shutdown
  const logFile = path.join(logDir, 'papertrader.log');
  const readLog = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  ok(await until(() => /health report: score \d+/.test(readLog()), 6000), 'a periodic health report is logged while running');
  ok(!/final health report/.test(readLog()), '... and not as the final one (no shutdown yet)');

  // ---- SIGTERM: stop notification before exit, final report in the log
  const code = await d.stop('SIGTERM', 15000);
  const exitAt = Date.now();
  ok(code === 0, `SIGTERM exits 0 (got ${code})`, d.err.slice(-400));
  const stop = generic('papertrader stopped');
  ok(stop.length === 1 && stop[0].t <= exitAt && /signal/.test(stop[0].json.text), 'a stop notification arrives before the exit',
    JSON.stringify(stop.map((s) => s.json)));
  const log = readLog();
  ok(/final health report:[\s\S]*health report: score \d+ \((excellent|good|fair|poor|critical)\)/.test(log),
    `${logFile} holds the final health report`);
  ok(/heartbeat: health \d+ \(\w+\), .* up \d+s candles \d+/.test(log), 'one merged heartbeat line (health + session figures)');
  ok(!/^.*INFO  heartbeat: up /m.test(log), 'no second, unmerged heartbeat line');
  const errs = path.join(logDir, 'errors.log');
  ok(!log.includes(TOKEN) && !(fs.existsSync(errs) && fs.readFileSync(errs, 'utf8').includes(TOKEN)), 'the logs hold no secret');
} catch (e) {
  ok(false, 'session_ops run', String(e && e.stack || e));
  d.p.kill('SIGKILL');
}
peer.close();

// ---- a webhook that accepts and never answers: the first SIGTERM waits for
// the notifier's flush (bounded), a second one exits at once
const sinks = [];
const hole = http.createServer((rq) => { sinks.push(rq); }); // never answers
await new Promise((r) => hole.listen(0, '127.0.0.1', r));
const ini2 = path.join(dir, 'hole.ini');
fs.writeFileSync(ini2, `[notify]\nwebhook_url = http://127.0.0.1:${hole.address().port}/hook\ntimeout_s = 30\n`);
const d2 = start(['demo', '--config', ini2, '--port', '0', '--out', path.join(dir, 'out2'), '--duration', '40', '--quiet',
  '--strategy', 'ema_cross', '--param', 'fast=3', '--param', 'slow=9']);
try {
  await d2.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//);
  ok(await until(() => sinks.length > 0, 10000), 'the unanswering webhook got the start request');
  d2.p.kill('SIGTERM');
  await sleep(1500); // by now the notifier's bounded flush waits on the hung webhook
  const t0 = Date.now();
  d2.p.kill('SIGTERM');
  const code2 = await Promise.race([d2.exited, sleep(4000).then(() => 'late')]);
  ok(code2 !== 'late' && Date.now() - t0 < 3000, `a second SIGTERM exits at once despite a hung webhook (${Date.now() - t0} ms, exit ${code2})`,
    d2.err.slice(-300));
  if (code2 === 'late') d2.p.kill('SIGKILL');
  const tr2 = path.join(dir, 'out2', 'trades.csv');
  ok(!fs.existsSync(tr2) || fs.readFileSync(tr2, 'utf8').endsWith('\n'), 'the ledger is whole after the fast exit');
} catch (e) {
  ok(false, 'hung webhook run', String(e && e.stack || e));
  d2.p.kill('SIGKILL');
}
for (const rq of sinks) rq.socket.destroy();
hole.close();
finish();
