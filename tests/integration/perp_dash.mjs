// demo --market perp on the dashboard (issue 16 item 6): a portfolio event's
// open position carries leverage, margin, margin ratio and the liquidation
// price, and they agree with the position (isolated: margin = entry notional /
// leverage; margin ratio = maintenance / (margin + upnl) with the built-in
// first tier's 0.4 %; a long's liquidation price is below its entry).
import path from 'node:path';
import { DATA, dashboard, deadline, finish, ok, start, tmpdir } from './run_lib.mjs';

deadline(60000);
const dir = tmpdir('ptperpdash-');
const d = start(['demo', '--market', 'perp', '--leverage', '5', '--port', '0', '--out', path.join(dir, 'out'),
  '--speed', '3000', '--quiet', '--min-quality', '0', path.join(DATA, 'freqtrade_UNITTEST-BTC_1m.csv')]);
try {
  const port = Number((await d.wait(/^dashboard: http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
  const c = dashboard(port);
  await c.opened;
  let p = null;
  for (let t0 = Date.now(); !p && Date.now() - t0 < 40000; await new Promise((r) => setTimeout(r, 20)))
    for (const m of c.msgs)
      if (m.type === 'portfolio' && m.data && Array.isArray(m.data.positions))
        p = m.data.positions.find((x) => x.qty !== 0) || p;
  ok(p, 'a portfolio event with an open perp position');
  if (p) {
    const side = p.qty > 0 ? 1 : -1, notional = Math.abs(p.qty) * p.avg_price;
    ok(p.leverage === 5, `leverage 5 (${p.leverage})`);
    ok(Math.abs(p.margin - notional / 5) <= 1e-9 * notional, `margin = entry notional / leverage (${p.margin})`);
    const mm = Math.abs(p.qty) * p.last * 0.004;
    ok(Math.abs(p.margin_ratio - mm / (p.margin + p.upnl)) < 1e-9, `margin ratio = maintenance / (margin + upnl) (${p.margin_ratio})`);
    ok(p.liquidation_price > 0 && side * (p.avg_price - p.liquidation_price) > 0,
      `liquidation price on the losing side of the entry (${p.liquidation_price} vs ${p.avg_price})`);
  }
  c.ws.close();
} finally {
  await d.stop();
}
finish();
