#!/usr/bin/env python3
"""A 1h trend filter with a 1m entry, through the papertrader SDK: trade the
1m EMA cross (computed by the engine) only in the direction of the hourly
trend, the last closed 1h close above the SMA of the last `trend` 1h closes.
The engine sends each 1h candle only once its hour has closed, so the
filter never sees an unfinished hour (no look-ahead).

    papertrader backtest --strategy examples/strategies/trend_filter.py FILE_1m.csv
"""
import os
import sys

try:
    from papertrader import Strategy, param, ema, buy, sell, run, SMA, Cross
except ImportError:  # run from a source tree: the SDK is next door
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "sdk", "python"))
    from papertrader import Strategy, param, ema, buy, sell, run, SMA, Cross


class TrendFilter(Strategy):
    name = "trend_filter"
    description = "1m EMA cross entries only while the 1h close is above its SMA"
    params = {"fast": param(12, 1, 1000, integer=True, help="fast EMA period (1m candles)"),
              "slow": param(26, 2, 10000, integer=True, help="slow EMA period (1m candles)"),
              "trend": param(5, 1, 500, integer=True, help="SMA of this many 1h closes")}
    indicators = {"fast": ema("fast"), "slow": ema("slow")}
    timeframes = ["1h"]

    def setup(self):
        if self.p.fast >= self.p.slow:
            raise ValueError("fast (%d) must be < slow (%d)" % (self.p.fast, self.p.slow))
        self.hourly, self.cross, self.up = SMA(self.p.trend), Cross(), False

    def on_timeframe(self, h):
        avg = self.hourly.update(h.close)
        self.up = avg is not None and h.close > avg
        return None

    def on_candle(self, c):
        f, s = c.indicators["fast"], c.indicators["slow"]
        if f is None or s is None:
            return None
        x = self.cross.update(f - s)
        if x > 0 and self.up and c.position.qty == 0:
            return [buy(reason="cross up in 1h uptrend")]
        if x < 0 and c.position.qty > 0:
            return [sell(reason="cross down")]
        return None


if __name__ == "__main__":
    sys.exit(run(TrendFilter))
