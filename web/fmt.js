/* papertrader number and time formatting, shared by the dashboard (app.js)
 * and the report (report.js, inlined by app/report_html.c).
 * A symbol's price precision is inferred from the prices seen: the most
 * decimals any of them needs (its shortest round-trip text), so 0.00166123
 * shows as quoted and 43250.1 as 43250.10. Quantities and amounts keep six
 * significant digits when small. Times are UTC ISO 8601. */
'use strict';
(function (root) {
  const isNum = (v) => typeof v === 'number' && isFinite(v);
  const MAX_DP = 10;

  /* decimals the shortest text of v needs (1e-7 -> 7, 0.0016 -> 4, 12 -> 0) */
  function decimalsOf(v) {
    if (!isNum(v) || v === 0) return 0;
    const s = String(Math.abs(v));
    const e = s.indexOf('e');
    const mant = e < 0 ? s : s.slice(0, e), exp = e < 0 ? 0 : Number(s.slice(e + 1));
    const dot = mant.indexOf('.');
    const d = (dot < 0 ? 0 : mant.length - dot - 1) - exp;
    return Math.max(0, Math.min(MAX_DP, d));
  }

  /* price decimals for a set of prices: enough for every one of them, at
   * least 2 for prices of 1 and more, at least 4 and at most 8 significant digits */
  function inferDecimals(values) {
    let d = 0, big = 0;
    for (const v of values) {
      if (!isNum(v) || v === 0) continue;
      d = Math.max(d, decimalsOf(v));
      big = Math.max(big, Math.abs(v));
    }
    if (!big) return 2;
    /* no more than 8 significant digits: computed prices (5e-324 noise) stay short */
    const lead = Math.floor(Math.log10(big));
    const cap = Math.min(MAX_DP, Math.max(2, 7 - lead));
    return big >= 1 ? Math.max(2, Math.min(d, cap)) : Math.min(cap, Math.max(d, 3 - lead));
  }

  const price = (v, dp) => (isNum(v) ? v.toFixed(isNum(dp) ? dp : inferDecimals([v])) : '–');

  /* quantities and money: fixed d decimals, six significant digits below 1 */
  function num(v, d = 2) {
    if (!isNum(v)) return '–';
    const a = Math.abs(v);
    if (a < 1e-6 || a >= 1) { /* dust (1e-12 left after all-in) reads 0.00, never -0.00 */
      const r = v.toFixed(d);
      return Number(r) === 0 ? r.replace('-', '') : r;
    }
    return v.toPrecision(6);
  }

  /* quantity: up to 8 decimals, trailing zeros dropped */
  function qty(v) {
    if (!isNum(v)) return '–';
    const a = Math.abs(v);
    const s = a >= 1 ? v.toFixed(Math.max(0, 8 - Math.floor(Math.log10(a)) - 1)) : num(v);
    return s.indexOf('.') < 0 ? s : s.replace(/0+$/, '').replace(/\.$/, '');
  }

  /* "2017-11-08 19:21:00Z" style: UTC, seconds, with the zone */
  const iso = (ms) => (isNum(ms) ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '–');
  const isoMin = (ms) => (isNum(ms) ? new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + 'Z' : '–');

  /* time-axis labels in UTC (lightweight-charts TickMarkType: 0 year,
   * 1 month, 2 day, 3 time, 4 time with seconds); t in seconds */
  function tickUTC(t, type) {
    const s = new Date(t * 1000).toISOString();
    return type === 0 ? s.slice(0, 4) : type === 1 ? s.slice(0, 7) : type === 2 ? s.slice(5, 10) : s.slice(11, type === 4 ? 19 : 16);
  }

  /* lightweight-charts priceFormat for d decimals */
  const chartFormat = (d) => ({ type: 'price', precision: d, minMove: Number((10 ** -d).toFixed(d)) });

  root.PTFmt = { isNum, decimalsOf, inferDecimals, price, num, qty, iso, isoMin, tickUTC, chartFormat };
})(window);
