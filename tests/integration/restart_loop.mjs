// The restart-loop guard (issue 11; docs/durability.md "Restart loops"): a
// `run --state-dir` session killed soon after each start, as a crash loop
// under systemd would be, is refused on the start after [session]
// restart_limit with exit 7, a clear message and an error notification to the
// webhook; deleting DIR/.restarts lets it start again; a start that lived past
// restart_healthy_s, or stopped cleanly, resets the count.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { deadline, finish, ok, sleep, start, tmpdir } from './run_lib.mjs';

const slow = process.env.PT_SANITIZE ? 3 : 1;
deadline(120000 * slow);
const hooks = [];
const peer = http.createServer((rq, rs) => {
  let b = '';
  rq.on('data', (d) => { b += d; });
  rq.on('end', () => { let j = null; try { j = JSON.parse(b); } catch { /* raw */ } hooks.push(j || b); rs.end('{"ok":true}'); });
});
await new Promise((r) => peer.listen(0, '127.0.0.1', r));
const xs = start(['exchange-sim', '--port', '0', '--speed', '4', '--symbols', 'BTCUSDT', '--interval', '1s', '--seed', '3']);
const xport = Number((await xs.wait(/^listening port=(\d+)/))[1]);
const dir = path.join(tmpdir('ptloop-'), 'session');
const ini = path.join(path.dirname(dir), 'pt.ini');
const HEALTHY_S = 3;
fs.writeFileSync(ini, `[session]\nrestart_limit = 3\nrestart_healthy_s = ${HEALTHY_S}\n` +
  `[notify]\nwebhook_url = http://127.0.0.1:${peer.address().port}/hook\n`);
const args = ['run', '--config', ini, '--state-dir', dir, '--ws-url', `ws://127.0.0.1:${xport}`,
  '--rest-url', `http://127.0.0.1:${xport}`, '--symbols', 'BTCUSDT', '--interval', '1s', '--port', '0',
  '--fsync', 'none', '--heartbeat', '0', '--min-quality', '0'];
const crash = async () => { const r = start(args); await r.wait(/^output: /, 20000 * slow); return r.stop('SIGKILL'); };
const count = () => { try { return fs.readFileSync(path.join(dir, '.restarts'), 'utf8').trim(); } catch { return 'none'; } };

for (let i = 1; i <= 3; i++) {
  await crash();
  ok(count() === String(i), `start ${i} killed at once: ${dir}/.restarts says ${count()}`);
}
const r4 = start(args);
const code4 = await r4.exited;
ok(code4 === 7, `the 4th start is refused with exit 7 (got ${code4})`, r4.err.slice(-400));
ok(/restart loop/.test(r4.err) && r4.err.includes('.restarts'), 'says it is a restart loop and which file to delete',
  r4.err.slice(-400));
const t0 = Date.now();
while (Date.now() - t0 < 5000 && !hooks.some((h) => JSON.stringify(h).includes('restart loop'))) await sleep(100);
ok(hooks.some((h) => JSON.stringify(h).includes('restart loop')), 'an error notification reached the webhook',
  JSON.stringify(hooks).slice(0, 400));
ok(count() === '3', `the refusal itself is not counted (${count()})`);

fs.unlinkSync(path.join(dir, '.restarts'));
const r5 = start(args);
await r5.wait(/^output: /, 20000 * slow);
await sleep((HEALTHY_S + 1.5) * 1000);
ok(count() === 'none', `a start that lived past restart_healthy_s resets the count (${count()})`);
await r5.stop('SIGKILL');
await crash();
ok(count() === '1', `counting starts again from 1 (${count()})`);
const r6 = start(args);
await r6.wait(/^output: /, 20000 * slow);
const rec = path.join(dir, 'candles', 'BTCUSDT.csv');
const n0 = fs.readFileSync(rec, 'utf8').split('\n').length;
const t6 = Date.now(); /* a clean stop is one with data: a session that got none exits 1 */
while (Date.now() - t6 < 10000 * slow && fs.readFileSync(rec, 'utf8').split('\n').length <= n0) await sleep(100);
const code6 = await r6.stop('SIGTERM');
ok(code6 === 0 && count() === 'none', `a clean stop resets the count (exit ${code6}, ${count()})`, r6.err.slice(-300));
await xs.stop('SIGTERM');
peer.close();
finish();
