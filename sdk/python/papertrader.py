"""papertrader strategy SDK: write a strategy in Python, run it with
``papertrader backtest --strategy my_strategy.py``.

Standard library only, Python 3.9+. Speaks protocol 1 of
docs/strategy-protocol.md on stdin/stdout; print() debugging output goes to
stderr (the session log), never to stdout.

    from papertrader import Strategy, param, sma, buy, sell, run

    class Cross(Strategy):
        params = {"fast": param(10, 1, 1000, integer=True),
                  "slow": param(30, 2, 10000, integer=True)}
        indicators = {"f": sma("fast"), "s": sma("slow")}

        def on_candle(self, c):
            f, s = c.indicators["f"], c.indicators["s"]
            if f is not None and s is not None and f > s and c.position.qty == 0:
                return [buy(reason="fast above slow")]
            return []

    if __name__ == "__main__":
        run(Cross)

One instance of the class per symbol (scope "symbol"), or one for the whole
session (scope = "portfolio"): self.symbol and self.p (the parameters,
attributes by name) are set before setup().
"""
import json
import sys
from fractions import Fraction

PROTOCOL = 1

__all__ = ["Strategy", "param", "run", "replay", "sma", "ema", "rsi", "atr", "bollinger",
           "donchian", "macd", "buy", "sell", "short", "cover", "order", "cancel_all",
           "SMA", "Cross"]


# ---------------------------------------------------------------- parameters

def param(default, min=None, max=None, integer=False, help=""):
    """A declared parameter; the engine checks --param K=V against it."""
    d = {"default": default, "integer": bool(integer), "help": help}
    if min is not None:
        d["min"] = min
    if max is not None:
        d["max"] = max
    return d


class Params:
    """Parameter values as attributes (self.p.fast) and items (self.p["fast"])."""

    def __init__(self, values):
        self.__dict__.update(values)

    def __getitem__(self, k):
        return self.__dict__[k]


# ---------------------------------------------------------------- indicators
# Computed by the engine with its own library (the values the built-ins
# use); a period may be a parameter's name. Values arrive in
# candle.indicators[name]: a number, None until warm, or for bollinger /
# donchian / macd a dict of three such numbers.

def sma(period):
    return {"kind": "sma", "period": period}


def ema(period):
    return {"kind": "ema", "period": period}


def rsi(period=14):
    return {"kind": "rsi", "period": period}


def atr(period=14):
    return {"kind": "atr", "period": period}


def bollinger(period=20, k=2):
    return {"kind": "bollinger", "period": period, "k": k}


def donchian(period=20):
    return {"kind": "donchian", "period": period}


def macd(fast=12, slow=26, signal=9):
    return {"kind": "macd", "fast": fast, "slow": slow, "signal": signal}


# ---------------------------------------------------------------- orders
# The meaning of sim_order_request (sim/sim_strategy.h): prices absolute,
# 0/None = none; qty None = the session's sizing (entries) or the whole
# position (exits); tif_candles None = good till cancelled.

def order(intent, type="market", qty=None, limit_price=None, stop_price=None, stop_loss=None,
          take_profit=None, trailing_pct=None, tif_candles=None, reason=None, symbol=None):
    o = {"intent": intent, "type": type}
    for k, v in (("qty", qty), ("limit_price", limit_price), ("stop_price", stop_price),
                 ("stop_loss", stop_loss), ("take_profit", take_profit),
                 ("trailing_pct", trailing_pct), ("tif_candles", tif_candles),
                 ("reason", reason), ("symbol", symbol)):
        if v is not None:
            o[k] = v
    return o


def _typed(limit, stop):
    if limit is not None and stop is not None:
        return "stop_limit"
    return "limit" if limit is not None else "stop" if stop is not None else "market"


def buy(qty=None, limit=None, stop=None, **kw):
    """Enter (or add to) a long: market, or limit=, stop=, both for stop-limit;
    stop_loss=, take_profit=, trailing_pct= protect the position."""
    return order("enter_long", _typed(limit, stop), qty, limit, stop, **kw)


def sell(qty=None, limit=None, stop=None, **kw):
    """Exit the long."""
    return order("exit_long", _typed(limit, stop), qty, limit, stop, **kw)


def short(qty=None, limit=None, stop=None, **kw):
    """Enter a short (the session needs --allow-short)."""
    return order("enter_short", _typed(limit, stop), qty, limit, stop, **kw)


def cover(qty=None, limit=None, stop=None, **kw):
    """Exit the short."""
    return order("exit_short", _typed(limit, stop), qty, limit, stop, **kw)


def cancel_all(reason=None):
    return order("cancel_all", reason=reason)


# ---------------------------------------------------------------- local helpers

class SMA:
    """Exact simple moving average, the engine's definition: the correctly
    rounded mean of the last `period` closes (no drift). update() returns
    None until warm."""

    _S = 2 ** 1074  # every finite double is an integer multiple of 2^-1074

    def __init__(self, period):
        self.period, self.win, self.sum = int(period), [], 0

    def update(self, x):
        n, d = float(x).as_integer_ratio()
        v = n * (self._S // d)
        self.win.append(v)
        self.sum += v
        if len(self.win) > self.period:
            self.sum -= self.win.pop(0)
        if len(self.win) < self.period:
            return None
        return self.sum / (self.period * self._S)  # int / int: correctly rounded


class Cross:
    """Crossover of d = fast - slow as the engine defines it: +1 when d > 0
    and the last non-zero d was < 0, -1 the other way, 0 otherwise; a tie
    (d == 0) carries the previous sign; the first non-zero d is no cross."""

    def __init__(self):
        self.last = 0

    def update(self, d):
        r = 0
        if d > 0:
            r = 1 if self.last < 0 else 0
            self.last = 1
        elif d < 0:
            r = -1 if self.last > 0 else 0
            self.last = -1
        return r


# ---------------------------------------------------------------- the strategy

class Position:
    __slots__ = ("qty", "avg_price", "open_orders")

    def __init__(self, d):
        self.qty = d.get("qty", 0)
        self.avg_price = d.get("avg_price", 0)
        self.open_orders = d.get("open_orders", 0)


class Candle:
    __slots__ = ("symbol", "interval", "ts", "open", "high", "low", "close", "volume",
                 "position", "indicators", "count", "portfolio")

    def __init__(self, d):
        self.symbol = d["symbol"]
        self.interval = d.get("interval")
        self.ts = d["ts"]
        self.open, self.high, self.low = d["open"], d["high"], d["low"]
        self.close, self.volume = d["close"], d["volume"]
        self.position = Position(d.get("position") or {})
        self.indicators = d.get("indicators") or {}
        self.count = d.get("count", 1)  # base candles in a higher-timeframe candle
        # scope "portfolio": {"cash", "equity", "positions": {symbol: {"qty", "avg_price",
        # "open_orders"}}} for every symbol seen so far; None for scope "symbol"
        self.portfolio = d.get("portfolio")


class Strategy:
    """Subclass it: set params / indicators, write on_candle(candle) that
    returns a list of orders (or None for none)."""
    name = None
    description = ""
    params = {}
    indicators = {}
    batch = True  # the engine may send candles in batches (same decisions, faster)
    columns = True  # batches as one list per field, resumed after an order (faster still)
    shorts = False  # True: it may go short (else --allow-short warns that it never does)
    # higher timeframes ("1h", "4h", ...): the engine sends each closed one to
    # on_timeframe(candle), never an unfinished one; self.last["1h"] is the
    # latest (None before the first). Batches are off for such a strategy.
    timeframes = []
    # "portfolio": one instance (self.symbol None) gets every symbol's candles
    # in engine order, sees candle.portfolio and may order any symbol it has
    # seen (buy(symbol="ETHUSDT")); "symbol": one instance per symbol
    scope = "symbol"

    def __init__(self, symbol, values):
        self.symbol = symbol
        self.p = Params(values)
        self.last = {tf: None for tf in self.timeframes}

    def setup(self):
        """Called once per symbol; raise ValueError to refuse the parameters."""

    def on_candle(self, candle):
        return None

    def on_timeframe(self, candle):
        """A closed higher-timeframe candle (candle.interval, candle.count base
        candles in it); may return orders like on_candle."""
        return None

    @classmethod
    def check(cls, values):
        """Raise ValueError when the parameter set is inconsistent."""
        cls("", values).setup()


def _defaults(cls):
    return {k: v["default"] for k, v in cls.params.items()}


def _ready(cls, values, mode):
    r = {"type": "ready", "name": cls.name or cls.__name__, "description": cls.description,
         "params": [dict(name=k, **v) for k, v in cls.params.items()],
         "indicators": [dict(name=k, **v) for k, v in cls.indicators.items()],
         "timeframes": list(cls.timeframes), "scope": cls.scope, "batch": bool(cls.batch),
         "columns": bool(cls.batch and cls.columns), "resume": bool(cls.batch and cls.columns), "shorts": bool(cls.shorts)}
    if mode != "describe":
        try:
            cls.check(values)
        except ValueError as e:
            r["error"] = str(e)
    return r


def _answer(orders, at=None):
    a = {"orders": list(orders or [])}
    if at is not None:
        a["at"] = at
    return json.dumps(a, separators=(",", ":"))


def _on_columns(b, positions, start, get):
    """A columnar batch (docs/strategy-protocol.md "Columnar batches") from
    index start on: one Candle per row, the first answer with orders wins."""
    syms, sym, ts, interval = b["symbols"], b["sym"], b["ts"], b.get("interval")
    op, hi, lo, cl, vo = b["open"], b["high"], b["low"], b["close"], b["volume"]
    insts = [get(s) for s in syms]
    inds = b.get("indicators") or {}
    flat = [(k, col) for k, col in inds.items() if isinstance(col, list)]
    multi = [(k, list(col.items())) for k, col in inds.items() if isinstance(col, dict)]
    new = Candle.__new__
    for i in range(start, len(ts)):
        j = sym[i]
        c = new(Candle)
        c.symbol, c.interval, c.ts = syms[j], interval, ts[i]
        c.open, c.high, c.low, c.close, c.volume = op[i], hi[i], lo[i], cl[i], vo[i]
        c.position, c.count, c.portfolio = positions[j], 1, None
        d = {k: col[i] for k, col in flat}
        for k, outs in multi:
            d[k] = {n: col[i] for n, col in outs}
        c.indicators = d
        orders = insts[j].on_candle(c)
        if orders:
            return _answer(orders, i)
    return _answer(())


def run(cls, stdin=None, stdout=None):
    """The protocol loop: call it from `if __name__ == "__main__":`."""
    inp, out = stdin or sys.stdin, stdout or sys.stdout
    values, inst, base = _defaults(cls), {}, None
    cols, positions = None, []  # the last columnar batch, for a resume

    def get(sym):
        if cls.scope == "portfolio":
            sym = None
        s = inst.get(sym)
        if s is None:
            s = inst[sym] = cls(sym, values)
            s.setup()
        return s

    for line in inp:
        m = json.loads(line)
        t = m.get("type")
        if t == "candle":
            c = Candle(m)
            s = get(c.symbol)
            if c.interval != base and c.interval in s.last:
                s.last[c.interval] = c
                out.write(_answer(s.on_timeframe(c)) + "\n")
            else:
                out.write(_answer(s.on_candle(c)) + "\n")
        elif t == "batch" and "candles" not in m:
            cols, positions = m, [Position(p) for p in m["positions"]]
            out.write(_on_columns(cols, positions, 0, get) + "\n")
        elif t == "resume":
            positions = [Position(p) for p in m["positions"]]
            out.write(_on_columns(cols, positions, m["from"], get) + "\n")
        elif t == "batch":
            reply = _answer(())
            for i, d in enumerate(m["candles"]):
                c = Candle(d)
                orders = get(c.symbol).on_candle(c)
                if orders:
                    reply = _answer(orders, i)
                    break  # the engine sends the rest again, with the new view
            out.write(reply + "\n")
        elif t == "hello":
            if m.get("protocol") != PROTOCOL:
                sys.stderr.write("papertrader SDK speaks protocol %d, engine %r\n"
                                 % (PROTOCOL, m.get("protocol")))
            base = m.get("interval")
            values.update(m.get("params") or {})
            for k, v in cls.params.items():  # whole numbers stay ints in Python
                if v.get("integer") and isinstance(values.get(k), float):
                    values[k] = int(values[k])
            out.write(json.dumps(_ready(cls, values, m.get("mode")), separators=(",", ":")) + "\n")
        elif t == "end":
            out.flush()
            return 0
        out.flush()
    return 0


# ---------------------------------------------------------------- testing

def replay(cls, csv_path, params=None, indicators=None):
    """Run a strategy over a CSV (ts,open,high,low,close,volume with a header)
    without the engine: market orders fill at the next candle's open, one
    unit, no fees. Engine indicators are computed locally for sma only
    (others stay None). Returns [(ts, orders)] for every candle with orders.
    For checking a strategy's logic; the engine's backtest is the truth."""
    import csv
    values = _defaults(cls)
    values.update(params or {})
    s = cls("CSV", values)
    s.setup()
    local = {k: SMA(values[v["period"]] if isinstance(v["period"], str) else v["period"])
             for k, v in cls.indicators.items() if v["kind"] == "sma"}
    qty, avg, pending, out = 0.0, 0.0, [], []
    with open(csv_path, newline="") as f:
        for row in csv.reader(f):
            try:
                ts, o, h, lo, cl, v = int(float(row[0])), *map(float, row[1:6])
            except ValueError:
                continue  # the header
            for p in pending:
                if p["intent"] == "enter_long" and qty == 0:
                    qty, avg = 1.0, o
                elif p["intent"] == "exit_long" and qty > 0:
                    qty, avg = 0.0, 0.0
            pending = []
            ind = {k: None for k in cls.indicators}
            ind.update({k: sm.update(cl) for k, sm in local.items()})
            c = Candle({"symbol": "CSV", "ts": ts, "open": o, "high": h, "low": lo, "close": cl,
                        "volume": v, "position": {"qty": qty, "avg_price": avg},
                        "indicators": ind})
            orders = s.on_candle(c) or []
            if orders:
                out.append((ts, orders))
                pending = orders
    return out
