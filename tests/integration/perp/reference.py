#!/usr/bin/env python3
"""Independent reference for perp backtests (docs/futures.md), written plainly
with exact fractions and separate from the engine: given the candles, the plan
strategy's parameters (tests/integration/perp/plan.py) and the options, it
computes every fill, funding payment and portfolio row, and compares them with
the engine's trades.csv, funding.csv and portfolio.csv to the cent.

usage: reference.py SCENARIO.json OUTDIR   (exit 0: all equal; 1: a difference, printed)
"""
import csv
import json
import sys
from fractions import Fraction as F

# Binance BTCUSDT tiers as its USD-M liquidation FAQ lists them, maintenance
# amounts written out (not derived): (cap, max leverage, mmr, cum).
TIERS = [(50000, 125, F(4, 1000), 0), (250000, 100, F(5, 1000), 50), (1000000, 50, F(1, 100), 1300),
         (10000000, 20, F(25, 1000), 16300), (20000000, 10, F(5, 100), 266300),
         (50000000, 5, F(10, 100), 1266300), (100000000, 4, F(125, 1000), 2516300),
         (200000000, 3, F(15, 100), 5016300), (300000000, 2, F(25, 100), 25016300),
         (500000000, 1, F(50, 100), 100016300)]


def D(x):
    return F(str(x))


def tier(notional):
    for t in TIERS:
        if notional <= t[0]:
            return t
    return TIERS[-1]


class Pos:
    def __init__(self):
        self.qty = F(0)
        self.avg = F(0)
        self.margin = F(0)
        self.mark = None


class Book:
    def __init__(self, sc):
        self.cash = D(sc.get("cash", 10000))
        self.lev = D(sc["leverage"])
        self.cross = sc.get("margin", "isolated") == "cross"
        self.fee = D(sc.get("fee_bps", 10)) / 10000
        self.liq_fee = D(sc.get("liquidation_fee_bps", 50)) / 10000
        self.pos = {}
        self.funding = F(0)
        self.bankrupt = F(0)

    def mm(self, p):
        if p.qty == 0:
            return F(0)
        n = abs(p.qty) * p.mark
        t = tier(n)
        return n * t[2] - t[3]

    def upnl(self, p):
        return p.qty * (p.mark - p.avg) if p.qty else F(0)

    def liq_price(self, sym):
        p = self.pos[sym]
        if p.qty == 0:
            return F(0)
        side = 1 if p.qty > 0 else -1
        q = abs(p.qty)
        wb = p.margin
        if self.cross:
            wb = self.cash + sum(x.margin for x in self.pos.values() if x.qty)
            for s, x in self.pos.items():
                if s != sym and x.qty:
                    wb += self.upnl(x) - self.mm(x)
        for i, (cap, _, mmr, cum) in enumerate(TIERS):
            lp = (wb + cum - side * q * p.avg) / (q * mmr - side * q)
            lo = TIERS[i - 1][0] if i else 0
            if (i == 0 or q * lp > lo) and q * lp <= cap:
                return lp if lp > 0 else F(0)
        return F(0)

    def other_wallet(self, sym, released):
        """cross: what else absorbs a loss: cash, the other margins, their unrealized PnL"""
        if not self.cross:
            return F(0)
        return (self.cash + sum(x.margin for x in self.pos.values() if x.qty) - released +
                sum(self.upnl(x) for s, x in self.pos.items() if s != sym and x.qty))

    def fill(self, sym, side, qty, price, fee):
        """side +1 buy / -1 sell; returns (fee booked, realized, bankruptcy)."""
        p = self.pos[sym]
        if p.qty != 0 and (p.qty > 0) != (side > 0):  # a full close (the plan never flips)
            assert qty == abs(p.qty)
            released = p.margin
            gross = qty * (price - p.avg) * (1 if p.qty > 0 else -1)
            room = self.other_wallet(sym, released)
            have = released + gross + room
            short = F(0)
            if have >= fee:
                back = released + gross - fee
                paid = fee
            else:
                paid = max(have, F(0))
                short = -have if have < 0 else F(0)
                back = -room
            self.cash += back
            self.bankrupt += short
            realized = back - released
            p.qty, p.avg, p.margin = F(0), F(0), F(0)
            return paid, realized, short
        m = qty * price / self.lev
        assert self.cash - m - fee >= 0, "the plan asks for more than the cash"
        p.avg = (abs(p.qty) * p.avg + qty * price) / (abs(p.qty) + qty)
        p.qty += side * qty
        p.margin += m
        self.cash -= m + fee
        return fee, -fee, F(0)

    def pay_funding(self, sym, rate, mark):
        p = self.pos.get(sym)
        if not p or p.qty == 0:
            return F(0), F(0)
        pay = -p.qty * mark * rate
        self.cash += pay
        if pay < 0 and self.cash < 0 and not self.cross:
            take = min(-self.cash, p.margin)
            p.margin -= take
            self.cash += take
        floor = -sum(x.margin + self.upnl(x) for x in self.pos.values() if x.qty) if self.cross else F(0)
        if self.cash < floor:
            self.bankrupt += floor - self.cash
            pay += floor - self.cash
            self.cash = floor
        self.funding += pay
        return p.qty, pay


def run(sc):
    b = Book(sc)
    plan = sc["plan"]
    syms = sc["symbols"]
    candles = []  # engine order: by ts, then file order
    for k, s in enumerate(syms):
        b.pos[s["name"]] = Pos()
        for i, c in enumerate(s["candles"]):
            mk = s.get("marks", [None] * len(s["candles"]))[i]
            candles.append((c[0], k, i, s["name"], [D(v) for v in c[1:5]], [D(v) for v in mk[1:5]] if mk else None))
    candles.sort(key=lambda r: (r[0], r[1]))
    funding = sorted(((f[0], f[1], D(f[2]), D(f[3]) if len(f) > 3 else None) for f in sc.get("funding", [])))
    done_f = set()
    fills, frows, rows = [], [], []
    pending = {}  # symbol -> (side, qty) market order for its next candle
    count = {s["name"]: 0 for s in syms}
    row_ts = None

    def snapshot(ts):
        mar = sum(p.margin for p in b.pos.values() if p.qty)
        pv = sum(p.margin + b.upnl(p) for p in b.pos.values() if p.qty)
        mm = sum(b.mm(p) for p in b.pos.values() if p.qty)
        rows.append((ts, b.cash, pv, b.cash + pv, mar, mm, b.funding))

    def liquidate(ts, sym, price):
        p = b.pos[sym]
        q = abs(p.qty)
        side = -1 if p.qty > 0 else 1
        fee = q * price * b.liq_fee
        paid, realized, _ = b.fill(sym, side, q, price, fee)
        fills.append((ts, sym, side, q, price, paid, realized, b.cash, "liquidation"))
        pending.pop(sym, None)

    for ts, _, _, sym, (o, h, lo, c), mk in candles:
        if row_ts is not None and ts != row_ts:
            snapshot(row_ts)
        row_ts = ts
        mo, mh, ml, mc = mk if mk else (o, h, lo, c)
        p = b.pos[sym]
        first = count[sym] == 0
        for fi, f in enumerate(funding):
            if fi in done_f or f[1] != sym or f[0] > ts:
                continue
            done_f.add(fi)
            if first and f[0] < ts:
                continue  # history before the data
            mark = f[3] if f[3] else (p.mark if p.mark is not None else F(0))
            qty, pay = b.pay_funding(sym, f[2], mark)
            frows.append((f[0], sym, f[2], mark, qty, pay))
        lp = b.liq_price(sym)
        if lp > 0 and ((p.qty > 0 and mo <= lp) or (p.qty < 0 and mo >= lp)):
            liquidate(ts, sym, mo)
        if sym in pending:
            side, qty = pending.pop(sym)
            if side == 0:
                side, qty = (-1 if p.qty > 0 else 1), abs(p.qty)
            if qty:
                fee = qty * o * b.fee
                paid, realized, _ = b.fill(sym, side, qty, o, fee)
                fills.append((ts, sym, side, qty, o, paid, realized, b.cash, "plan"))
        lp = b.liq_price(sym)
        if lp > 0 and p.qty > 0 and ml <= lp:
            liquidate(ts, sym, mo if mo <= lp else lp)
        elif lp > 0 and p.qty < 0 and mh >= lp:
            liquidate(ts, sym, mo if mo >= lp else lp)
        p.mark = mc
        count[sym] += 1
        n = count[sym]
        if n == plan["enter"] and p.qty == 0:
            pending[sym] = (plan.get("side", 1), D(plan["qty"]))
        elif n == plan.get("exit", 0) and p.qty != 0:
            pending[sym] = (0, None)
    snapshot(row_ts)
    return fills, frows, rows, b


def read(path):
    with open(path) as fp:
        return list(csv.DictReader(fp))


def close(a, b, what, tol):
    if abs(F(a) - b) > tol:
        print("DIFF %s: engine %s, reference %.10f" % (what, a, float(b)))
        return False
    return True


CENT = F(1, 200)  # half a cent: "to the cent"
PRICE = F(1, 10**6)


def main():
    sc = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    fills, frows, rows, b = run(sc)
    ok = True
    t = read(out + "/trades.csv")
    if len(t) != len(fills):
        print("DIFF fills: engine %d, reference %d" % (len(t), len(fills)))
        ok = False
    for i, (r, f) in enumerate(zip(t, fills)):
        w = "fill %d" % (i + 1)
        ok &= int(r["ts"]) == f[0] and r["symbol"] == f[1] and r["side"] == ("buy" if f[2] > 0 else "sell")
        ok &= r["reason"] == f[8] or print("DIFF %s reason %s, reference %s" % (w, r["reason"], f[8])) or False
        ok &= close(r["qty"], f[3], w + " qty", PRICE) & close(r["price"], f[4], w + " price", PRICE)
        ok &= close(r["fee"], f[5], w + " fee", CENT) & close(r["realized_pnl"], f[6], w + " realized", CENT)
        ok &= close(r["cash_after"], f[7], w + " cash", CENT)
    fu = read(out + "/funding.csv")
    if len(fu) != len(frows):
        print("DIFF funding rows: engine %d, reference %d" % (len(fu), len(frows)))
        ok = False
    for i, (r, f) in enumerate(zip(fu, frows)):
        w = "funding %d" % (i + 1)
        ok &= int(r["ts"]) == f[0] and r["symbol"] == f[1]
        ok &= close(r["mark_price"], f[3], w + " mark", PRICE) & close(r["position_qty"], f[4], w + " qty", PRICE)
        ok &= close(r["payment"], f[5], w + " payment", CENT)
    pr = read(out + "/portfolio.csv")
    if len(pr) != len(rows):
        print("DIFF portfolio rows: engine %d, reference %d" % (len(pr), len(rows)))
        ok = False
    for r, f in zip(pr, rows):
        w = "row %s" % r["ts"]
        ok &= int(r["ts"]) == f[0]
        for k, v in zip(("cash", "positions_value", "equity", "margin", "maintenance_margin", "funding"), f[1:]):
            ok &= close(r[k], v, w + " " + k, CENT)
        # the identity, on the engine's own numbers: equity = cash + margin + unrealized
        ok &= close(r["equity"], F(r["cash"]) + F(r["margin"]) + F(r["unrealized_pnl"]), w + " identity", CENT)
    rep = json.load(open(out + "/report.json"))["perp"]
    ok &= close(str(rep["bankruptcy_loss"]), b.bankrupt, "bankruptcy_loss", CENT)
    ok &= close(str(rep["funding_net"]), b.funding, "funding_net", CENT)
    for k, v in sc.get("expect", {}).items():  # the scenario's point, said plainly
        got = {"liquidations": rep["liquidations"], "fills": len(t), "funding_rows": len(fu),
               "bankruptcy_loss_positive": rep["bankruptcy_loss"] > 0}[k]
        if got != v:
            print("DIFF expect %s: engine %s, scenario says %s" % (k, got, v))
            ok = False
    print("%s: %d fills, %d funding rows, %d portfolio rows %s" % (
        sys.argv[1].rsplit("/", 1)[-1], len(fills), len(frows), len(rows), "match" if ok else "DIFFER"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
