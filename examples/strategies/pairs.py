#!/usr/bin/env python3
"""Pairs trading over two symbols with one portfolio-scope instance, through
the papertrader SDK. The spread is log(close A / close B) of the last closes
of the first two symbols seen; its z-score over `window` updates: below
-entry_z A is cheap (buy A), above +entry_z B is cheap (buy B); the leg is
sold when the z-score is back at exit_z of zero. Long only; each leg sized
by the session's --sizing.

    papertrader backtest --strategy examples/strategies/pairs.py --sizing percent:45 A_1m.csv B_1m.csv
"""
import math
import os
import sys

try:
    from papertrader import Strategy, param, buy, sell, run
except ImportError:  # run from a source tree: the SDK is next door
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "sdk", "python"))
    from papertrader import Strategy, param, buy, sell, run


class Pairs(Strategy):
    name = "pairs"
    description = "buy the cheap leg of a two-symbol spread when its z-score is wide, sell on reversion"
    scope = "portfolio"
    params = {"window": param(120, 10, 100000, integer=True, help="spread updates in the z-score"),
              "entry_z": param(2, 0.1, 10, help="enter when |z| > this"),
              "exit_z": param(0.2, 0, 10, help="exit when |z| < this")}

    def setup(self):
        if self.p.exit_z >= self.p.entry_z:
            raise ValueError("exit_z (%g) must be < entry_z (%g)" % (self.p.exit_z, self.p.entry_z))
        self.legs, self.close, self.spreads = [], {}, []

    def z(self):
        a, b = self.legs
        self.spreads.append(math.log(self.close[a] / self.close[b]))
        if len(self.spreads) > self.p.window:
            self.spreads.pop(0)
        n = len(self.spreads)
        if n < self.p.window:
            return None
        mean = sum(self.spreads) / n
        sd = math.sqrt(sum((x - mean) ** 2 for x in self.spreads) / n)
        return (self.spreads[-1] - mean) / sd if sd > 0 else None

    def on_candle(self, c):
        if c.symbol not in self.close and len(self.legs) < 2:
            self.legs.append(c.symbol)
        if c.symbol not in self.legs or not c.close > 0:
            return None
        self.close[c.symbol] = c.close
        if len(self.close) < 2:
            return None
        z = self.z()
        if z is None:
            return None
        a, b = self.legs
        held = {s: c.portfolio["positions"].get(s, {}).get("qty", 0) for s in self.legs}
        orders = []
        for leg, cheap in ((a, z < -self.p.entry_z), (b, z > self.p.entry_z)):
            if held[leg] > 0 and abs(z) < self.p.exit_z:
                orders.append(sell(symbol=leg, reason="spread back"))
            elif held[leg] == 0 and cheap and c.portfolio["cash"] > 0:
                orders.append(buy(symbol=leg, reason="spread wide z=%.2f" % z))
        return orders


if __name__ == "__main__":
    sys.exit(run(Pairs))
