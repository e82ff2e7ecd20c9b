#!/usr/bin/env python3
"""Test strategy for the perp scenarios (tests/integration/perp_exact.sh):
enters on candle number `enter` (1-based, counted per symbol) on side `side`
(+1 long, -1 short) with `qty` (0: the session's sizing rule) and exits on
candle number `exit` (0: never). Decisions fill at the next candle's open."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "sdk", "python"))
from papertrader import Strategy, param, buy, sell, short, cover, run  # noqa: E402


class Plan(Strategy):
    name = "perp_plan"
    description = "enter at candle N on a side, exit at candle M"
    shorts = True
    params = {"enter": param(1, 1, 1e9, integer=True, help="candle number of the entry decision"),
              "side": param(1, -1, 1, integer=True, help="+1 long, -1 short"),
              "qty": param(0, 0, 1e12, help="entry quantity (0: sizing rule)"),
              "exit": param(0, 0, 1e9, integer=True, help="candle number of the exit decision (0: never)")}

    def setup(self):
        self.n = 0

    def on_candle(self, c):
        self.n += 1
        q = self.p.qty if self.p.qty > 0 else None
        if self.n == self.p.enter and c.position.qty == 0:
            return [buy(qty=q, reason="plan")] if self.p.side > 0 else [short(qty=q, reason="plan")]
        if self.n == self.p.exit and c.position.qty != 0:
            return [sell(reason="plan")] if c.position.qty > 0 else [cover(reason="plan")]
        return None


if __name__ == "__main__":
    sys.exit(run(Plan))
