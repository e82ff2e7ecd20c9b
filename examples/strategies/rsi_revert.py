#!/usr/bin/env python3
"""RSI mean reversion with a stop-loss, through the papertrader SDK: buy when
Wilder's RSI (computed by the engine) is below buy_below, sell when it is
above sell_above, and attach a stop-loss stop_pct below the signal close
(0 = none: then it trades exactly like the built-in `rsi`).

    papertrader backtest --strategy examples/strategies/rsi_revert.py --param stop_pct=2 FILE.csv
"""
import os
import sys

try:
    from papertrader import Strategy, param, rsi, buy, sell, run
except ImportError:  # run from a source tree: the SDK is next door
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "sdk", "python"))
    from papertrader import Strategy, param, rsi, buy, sell, run


class RsiRevert(Strategy):
    name = "rsi_revert"
    description = "buy oversold RSI with a stop-loss, sell overbought"
    params = {"period": param(14, 2, 1000, integer=True, help="Wilder RSI period (candles)"),
              "buy_below": param(30, 0, 100, help="enter long when RSI < this"),
              "sell_above": param(70, 0, 100, help="exit when RSI > this"),
              "stop_pct": param(0, 0, 50, help="stop-loss in percent below the close; 0 = none")}
    indicators = {"rsi": rsi("period")}

    def setup(self):
        if self.p.buy_below >= self.p.sell_above:
            raise ValueError("buy_below (%g) must be < sell_above (%g)"
                             % (self.p.buy_below, self.p.sell_above))

    def on_candle(self, c):
        r = c.indicators["rsi"]
        if r is None:
            return None
        if r < self.p.buy_below and c.position.qty == 0:
            stop = c.close * (1 - self.p.stop_pct / 100) if self.p.stop_pct > 0 else None
            return [buy(stop_loss=stop, reason="rsi oversold")]
        if r > self.p.sell_above and c.position.qty > 0:
            return [sell(reason="rsi overbought")]
        return None


if __name__ == "__main__":
    sys.exit(run(RsiRevert))
