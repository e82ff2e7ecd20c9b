#!/usr/bin/python3
"""The 63-combination sma_cross sweep of bench_optimize.sh, vectorised with
numpy the way vectorbt's from_signals does it: SMAs by cumulative sums (one
per distinct period), cross signals, positions by forward fill, next-bar
fills, fee per position change, equity by cumulative product, Sharpe.

Usage: /usr/bin/python3 bench/numpy_sweep.py FILE
Prints: combinations, candles, sweep seconds (the CSV load is timed apart
and left out, which favours numpy), candle-evaluations/s.
"""
import sys
import time

import numpy as np

FAST = [5, 8, 10, 13, 16, 20, 25, 30]
SLOW = [30, 40, 50, 60, 80, 100, 150, 200]
FEE = 10 / 10000.0


def load(path):
    # timestamp,open,high,low,close,volume: only close is used
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=4, dtype=np.float64)


def sma(cs, n, length):
    out = np.full(length, np.nan)
    out[n - 1:] = (cs[n:] - cs[:-n]) / n
    return out


def sweep(close):
    n = len(close)
    cs = np.concatenate(([0.0], np.cumsum(close)))
    smas = {p: sma(cs, p, n) for p in sorted(set(FAST + SLOW))}
    rets = np.zeros(n)
    rets[1:] = close[1:] / close[:-1] - 1
    idx_all = np.arange(n)
    results = []
    for f in FAST:
        for s in SLOW:
            if f >= s:
                continue
            above = smas[f] > smas[s]
            prev = np.concatenate(([False], above[:-1]))
            sig = np.full(n, np.nan)
            sig[above & ~prev] = 1.0
            sig[~above & prev] = 0.0
            idx = np.where(np.isnan(sig), 0, idx_all)
            np.maximum.accumulate(idx, out=idx)
            pos = sig[idx]
            pos[np.isnan(pos)] = 0.0
            held = np.concatenate(([0.0], pos[:-1]))  # decided at close t, filled at t+1
            change = np.abs(np.diff(held, prepend=0.0))
            r = held * rets - change * FEE
            equity = np.cumprod(1.0 + r)
            sd = r.std(ddof=1)
            sharpe = r.mean() / sd * np.sqrt(525600) if sd > 0 else float("nan")
            results.append((f, s, equity[-1] - 1, sharpe, int(change.sum() // 2)))
    return results


def main():
    t0 = time.perf_counter()
    close = load(sys.argv[1])
    t1 = time.perf_counter()
    res = sweep(close)
    t2 = time.perf_counter()
    evals = len(res) * len(close)
    print(f"numpy {np.__version__}: {len(res)} combinations x {len(close)} candles, "
          f"load {t1 - t0:.2f} s, sweep {t2 - t1:.2f} s, {evals / (t2 - t1):.0f} candle-evaluations/s")


if __name__ == "__main__":
    main()
