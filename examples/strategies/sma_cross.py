#!/usr/bin/env python3
"""sma_cross through the papertrader SDK: the built-in sma_cross, decision
for decision (sim/strategies.c): both SMAs warm first, then a cross of
fast - slow (a tie carries the previous sign, the first sign is no cross),
enter long when flat on a cross up, exit when long on a cross down. The
engine computes the SMAs (the built-in's exact values).

    papertrader backtest --strategy examples/strategies/sma_cross.py --param fast=5 FILE.csv
"""
import os
import sys

try:
    from papertrader import Strategy, param, sma, buy, sell, run, Cross
except ImportError:  # run from a source tree: the SDK is next door
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "sdk", "python"))
    from papertrader import Strategy, param, sma, buy, sell, run, Cross


class SmaCross(Strategy):
    name = "sma_cross_py"
    description = "sma_cross in Python: buy on a fast-over-slow SMA cross, sell on the cross back"
    params = {"fast": param(10, 1, 1000, integer=True, help="fast SMA period (candles)"),
              "slow": param(30, 2, 10000, integer=True,
                            help="slow SMA period (candles); must be > fast")}
    indicators = {"fast": sma("fast"), "slow": sma("slow")}

    def setup(self):
        if self.p.fast >= self.p.slow:
            raise ValueError("fast (%d) must be < slow (%d)" % (self.p.fast, self.p.slow))
        self.cross = Cross()

    def on_candle(self, c):
        f, s = c.indicators["fast"], c.indicators["slow"]
        if f is None or s is None:
            return None  # nothing before both lines are warm
        x = self.cross.update(f - s)
        if x > 0 and c.position.qty == 0:
            return [buy(reason="cross up")]
        if x < 0 and c.position.qty > 0:
            return [sell(reason="cross down")]
        return None


if __name__ == "__main__":
    sys.exit(run(SmaCross))
