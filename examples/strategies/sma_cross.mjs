#!/usr/bin/env node
// sma_cross in JavaScript, without any SDK: the protocol of
// docs/strategy-protocol.md by hand. Same decisions as the built-in
// sma_cross (and examples/strategies/sma_cross.py): the engine computes both
// SMAs; a cross of fast - slow (ties carry the previous sign, the first sign
// is no cross) enters when flat and exits when long.
//   papertrader backtest --strategy examples/strategies/sma_cross.mjs FILE.csv
import { createInterface } from "node:readline";

const params = [
  { name: "fast", default: 10, min: 1, max: 1000, integer: true, help: "fast SMA period (candles)" },
  { name: "slow", default: 30, min: 2, max: 10000, integer: true, help: "slow SMA period; must be > fast" },
];
const lastSign = new Map(); // per symbol

function decide(c) {
  const f = c.indicators.fast, s = c.indicators.slow;
  if (f === null || s === null) return [];
  const d = f - s, last = lastSign.get(c.symbol) ?? 0;
  let x = 0;
  if (d > 0) { x = last < 0 ? 1 : 0; lastSign.set(c.symbol, 1); }
  else if (d < 0) { x = last > 0 ? -1 : 0; lastSign.set(c.symbol, -1); }
  if (x > 0 && c.position.qty === 0) return [{ intent: "enter_long", reason: "cross up" }];
  if (x < 0 && c.position.qty > 0) return [{ intent: "exit_long", reason: "cross down" }];
  return [];
}

const say = (m) => process.stdout.write(JSON.stringify(m) + "\n");
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  const m = JSON.parse(line);
  if (m.type === "hello") {
    const v = { fast: 10, slow: 30, ...m.params };
    const ready = { type: "ready", name: "sma_cross_mjs", params, batch: true,
                    indicators: [{ name: "fast", kind: "sma", period: "fast" },
                                 { name: "slow", kind: "sma", period: "slow" }] };
    if (m.mode !== "describe" && v.fast >= v.slow) ready.error = `fast (${v.fast}) must be < slow (${v.slow})`;
    say(ready);
  } else if (m.type === "candle") {
    say({ orders: decide(m) });
  } else if (m.type === "batch") {
    let answer = { orders: [] };
    for (let i = 0; i < m.candles.length; i++) {
      const o = decide(m.candles[i]);
      if (o.length) { answer = { orders: o, at: i }; break; }
    }
    say(answer);
  } else if (m.type === "end") {
    rl.close();
  }
});
