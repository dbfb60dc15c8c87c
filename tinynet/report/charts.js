/* tinynet report, part 1 of 2: the SVG drawing helpers (axes, line charts, legends, ridgelines).
   tinynet/report/html.py wraps both parts in one function scope: names are shared between them. */
var NS = "http://www.w3.org/2000/svg";

// ------------------------------------------------------------------ small helpers
function el(tag, attrs, parent, text) {
  var node = document.createElement(tag);
  setAll(node, attrs);
  if (text !== undefined) { node.textContent = text; }
  if (parent) { parent.appendChild(node); }
  return node;
}
function sv(tag, attrs, parent, text) {
  var node = document.createElementNS(NS, tag);
  setAll(node, attrs);
  if (text !== undefined) { node.textContent = text; }
  if (parent) { parent.appendChild(node); }
  return node;
}
function setAll(node, attrs) {
  Object.keys(attrs || {}).forEach(function (k) {
    if (attrs[k] !== null && attrs[k] !== undefined) { node.setAttribute(k, attrs[k]); }
  });
}
function finite(v) { return typeof v === "number" && isFinite(v); }
// a number in few characters: 2 significant digits in exponent form, else 3 (``extra`` more)
function fmt(v, extra) {
  if (!finite(v)) { return "–"; }
  var a = Math.abs(v), more = extra || 0;
  if (a !== 0 && (a < 1e-2 || a >= 1e4)) { return v.toExponential(1 + more).replace("e+", "e"); }
  return String(Number(v.toPrecision(3 + more)));
}
// the labels of an axis's ticks, all distinct: more digits until they differ (a narrow range),
// and a tick whose label still repeats one before it is dropped; ``format`` (an axis's own, e.g.
// integers only) is used as is, its empty labels kept empty
function tickLabels(ticks, format) {
  if (format) {
    var seen = {};
    return ticks.map(function (t) {
      var text = format(t);
      if (text && seen[text]) { return null; }
      seen[text] = true;
      return text;
    });
  }
  for (var extra = 0; extra <= 4; extra++) {
    var texts = ticks.map(function (t) { return fmt(t, extra); });
    var distinct = texts.filter(function (t, i) { return texts.indexOf(t) === i; });
    if (distinct.length === texts.length) { return texts; }
  }
  return texts.map(function (t, i) { return texts.indexOf(t) === i ? t : null; });
}
function pct(v) { return finite(v) ? (100 * v).toFixed(1) + "%" : "–"; }
function layerColor(layer, n) {
  var t = n > 1 ? (layer - 1) / (n - 1) : 0;
  return "hsl(" + Math.round(250 - 215 * t) + ",70%," + Math.round(38 + 10 * t) + "%)";
}
var PALETTE = ["#1f6fb4", "#d9621c", "#2f9e44", "#c2255c", "#7048e8", "#8a6a00", "#0b7285",
  "#e8590c", "#5c940d", "#862e9c"];
function seriesColor(i) { return PALETTE[i % PALETTE.length]; }

// ------------------------------------------------------------------ scales and axes
function scale(lo, hi, a, b, log) {
  if (log) { lo = Math.log10(lo); hi = Math.log10(hi); }
  if (hi === lo) { hi = lo + 1; lo = lo - 1; }
  var f = function (v) { return a + (b - a) * ((log ? Math.log10(v) : v) - lo) / (hi - lo); };
  f.ticks = function (n) { return log ? logTicks(lo, hi) : niceTicks(lo, hi, n); };
  f.invert = function (px) { var v = lo + (px - a) / (b - a) * (hi - lo); return log ? Math.pow(10, v) : v; };
  return f;
}
function niceTicks(lo, hi, n) {
  var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
  var err = (hi - lo) / n / step;
  step *= err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1;
  var out = [];
  for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}
function logTicks(lo, hi) {
  if (hi - lo < 2) {
    var fine = [];
    for (var k = Math.floor(lo); k <= Math.ceil(hi); k++) {
      [1, 2, 5].forEach(function (m) {
        var v = m * Math.pow(10, k), e = Math.log10(v);
        if (e >= lo - 1e-9 && e <= hi + 1e-9) { fine.push(v); }
      });
    }
    if (fine.length >= 3) { return fine; }
    var all = [];  // every digit: 2, 3, 4, ... 9, 10, 20, ... (at most 6 of them)
    for (var k2 = Math.floor(lo); k2 <= Math.ceil(hi); k2++) {
      for (var d = 1; d <= 9; d++) {
        var u = d * Math.pow(10, k2), eu = Math.log10(u);
        if (eu >= lo - 1e-9 && eu <= hi + 1e-9) { all.push(u); }
      }
    }
    if (all.length >= 3) {
      var each = Math.ceil(all.length / 6);
      return all.filter(function (v, i) { return i % each === 0; });
    }
    return niceTicks(Math.pow(10, lo), Math.pow(10, hi), 4).filter(function (v) { return v > 0; });
  }
  var out = [], every = Math.max(1, Math.ceil((Math.floor(hi) - Math.ceil(lo) + 1) / 6));
  for (var e = Math.ceil(lo); e <= Math.floor(hi); e += every) { out.push(Math.pow(10, e)); }
  if (!out.length) { out.push(Math.pow(10, lo), Math.pow(10, hi)); }
  return out;
}
function extent(values, log) {
  var v = values.filter(function (x) { return finite(x) && (!log || x > 0); });
  if (!v.length) { return null; }
  var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
  if (lo === hi) {
    if (log) { lo /= 2; hi *= 2; } else { lo -= Math.abs(lo) * 0.1 || 1; hi += Math.abs(hi) * 0.1 || 1; }
  } else if (!log) {
    var pad = (hi - lo) * 0.05; lo -= pad; hi += pad;
  } else {  // 4% of the decades on each side: the lowest and highest points clear the frame
    var grow = Math.pow(hi / lo, 0.04); lo /= grow; hi *= grow;
  }
  return [lo, hi];
}
function frame(parent, opts) {
  var W = opts.width || 360, H = (opts.height || 210) + (opts.extra || 0);
  var box = el("figure", { "class": "chart-box" + (W > 400 ? " big" : "") }, parent);
  var svg = sv("svg", { viewBox: "0 0 " + W + " " + H, "class": "chart", role: "img",
    "data-chart": opts.id || opts.title, "aria-label": opts.title }, box);
  sv("text", { x: 4, y: 14, "class": "chart-title" }, svg, opts.title);
  if (opts.note) { el("figcaption", {}, box, opts.note); }
  return { svg: svg, W: W, H: H, m: { l: 52, r: 10, t: 24, b: 36 + (opts.extra || 0) } };
}
function empty(f, why) {
  f.svg.classList.add("empty");
  sv("text", { x: f.W / 2, y: f.H / 2, "class": "empty-text", "text-anchor": "middle" }, f.svg, why);
}
function axes(f, x, y, xs, ys, xLabel, yLabel, xFmt) {
  var m = f.m, g = sv("g", { "class": "axis" }, f.svg);
  var xt = x.ticks(5).filter(function (t) { var px = x(t); return px >= m.l - 1 && px <= f.W - m.r + 1; });
  var xl = tickLabels(xt, xFmt);
  xt.forEach(function (t, i) {
    if (xl[i] === null) { return; }
    var px = x(t);
    sv("line", { x1: px, x2: px, y1: f.H - m.b, y2: f.H - m.b + 4 }, g);
    sv("text", { x: px, y: f.H - m.b + 15, "text-anchor": "middle", "class": "tick x" }, g, xl[i]);
  });
  var yt = y.ticks(4).filter(function (t) { var py = y(t); return py >= m.t - 1 && py <= f.H - m.b + 1; });
  var yl = tickLabels(yt);
  yt.forEach(function (t, i) {
    if (yl[i] === null) { return; }
    var py = y(t);
    sv("line", { x1: m.l, x2: f.W - m.r, y1: py, y2: py, "class": "grid" }, g);
    sv("text", { x: m.l - 5, y: py + 3.5, "text-anchor": "end", "class": "tick y" }, g, yl[i]);
  });
  sv("line", { x1: m.l, x2: f.W - m.r, y1: f.H - m.b, y2: f.H - m.b }, g);
  sv("line", { x1: m.l, x2: m.l, y1: m.t, y2: f.H - m.b }, g);
  sv("text", { x: (m.l + f.W - m.r) / 2, y: f.H - m.b + 30, "text-anchor": "middle", "class": "label" }, g, xLabel);
  sv("text", { x: 12, y: (m.t + f.H - m.b) / 2, "text-anchor": "middle", "class": "label",
    transform: "rotate(-90 12 " + (m.t + f.H - m.b) / 2 + ")" }, g, yLabel);
}
function pathOf(points, x, y, logY) {
  var d = "", pen = false;
  points.forEach(function (p) {
    if (!finite(p[0]) || !finite(p[1]) || (logY && p[1] <= 0)) { pen = false; return; }
    d += (pen ? "L" : "M") + x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1);
    pen = true;
  });
  return d;
}

// A line chart: opts.lines = [{name, points: [[x, y]], color, layer, dashed, dots, faint}]
function lineChart(parent, opts) {
  var rows = opts.legend ? legendLayout(opts.lines, opts.width || 360) : null;
  if (rows) { opts.extra = 8 + 13 * rows.count; }
  var f = frame(parent, opts);
  var xs = [], ys = [];
  opts.lines.forEach(function (s) {
    s.points.forEach(function (p) {
      if (finite(p[1]) && (!opts.logY || p[1] > 0)) { xs.push(p[0]); ys.push(p[1]); }
    });
  });
  if (finite(opts.hline)) { ys.push(opts.hline); }
  var ex = extent(xs, opts.logX), ey = extent(ys, opts.logY);
  if (!ex || !ey) { empty(f, opts.emptyText || "nothing measured"); return f.svg; }
  var m = f.m, right = opts.legend ? 0 : 0;
  // long y labels (a narrow range needs digits, e.g. 5.862e-4) get a wider left margin
  var probe = scale(ey[0], ey[1], 1, 0, opts.logY), widest = 0;
  tickLabels(probe.ticks(4)).forEach(function (t) { widest = Math.max(widest, t ? t.length : 0); });
  if (widest > 5) { m.l += 6 * (widest - 5); }
  var x = scale(ex[0], ex[1], m.l, f.W - m.r - right, opts.logX);
  var y = scale(ey[0], ey[1], f.H - m.b, m.t, opts.logY);
  axes(f, x, y, xs, ys, opts.xLabel, opts.yLabel, opts.xFmt);
  if (finite(opts.hline)) {
    var hy = y(opts.hline);
    sv("line", { x1: m.l, x2: f.W - m.r, y1: hy, y2: hy, "class": "guide" }, f.svg);
    if (opts.hlineLabel) {
      sv("text", { x: f.W - m.r - 2, y: hy - 3, "text-anchor": "end", "class": "guide-text" }, f.svg,
        opts.hlineLabel);
    }
  }
  if (finite(opts.vline) && opts.vline >= ex[0] && opts.vline <= ex[1]) {
    sv("line", { x1: x(opts.vline), x2: x(opts.vline), y1: m.t, y2: f.H - m.b, "class": "cursor" }, f.svg);
  }
  opts.lines.forEach(function (s) {
    var d = pathOf(s.points, x, y, opts.logY);
    if (!d) { return; }
    var g = sv("g", { "class": "series" + (s.faint ? " faint" : "") }, f.svg);
    var p = sv("path", { d: d, stroke: s.color, "class": "line" + (s.dashed ? " dashed" : "") }, g);
    sv("title", {}, p, s.name);
    if (s.dots) {
      s.points.forEach(function (q) {
        if (finite(q[1]) && (!opts.logY || q[1] > 0)) {
          sv("circle", { cx: x(q[0]), cy: y(q[1]), r: 2.6, fill: s.color }, g);
        }
      });
    }
    var ring = s.points[s.mark];
    if (ring && finite(ring[0]) && finite(ring[1]) && (!opts.logY || ring[1] > 0)) {
      sv("circle", { cx: x(ring[0]), cy: y(ring[1]), r: 6, fill: "none", stroke: s.color, "class": "mark" }, g);
    }
    if (s.layer) { hoverable(g, s.layer); }
  });
  if (rows) { legend(f, rows); }
  return f.svg;
}
// legend entries below the x axis label, wrapped to the chart's width
function legendLayout(lines, W) {
  var shown = lines.filter(function (s) { return !s.faint; }), x = 8, row = 0, items = [];
  shown.forEach(function (s) {
    var w = 24 + 5.6 * s.name.length;
    if (x + w > W - 6 && x > 8) { x = 8; row += 1; }
    items.push({ s: s, x: x, row: row });
    x += w;
  });
  return items.length ? { items: items, count: row + 1 } : null;
}
function legend(f, layout) {
  var g = sv("g", { "class": "legend" }, f.svg), top = f.H - 8 - 13 * layout.count + 6;
  layout.items.forEach(function (it) {
    var item = sv("g", {}, g), yy = top + 13 * it.row;
    sv("line", { x1: it.x, x2: it.x + 14, y1: yy, y2: yy, stroke: it.s.color, "class": it.s.dashed ? "dashed" : "" }, item);
    sv("text", { x: it.x + 18, y: yy + 3.5 }, item, it.s.name);
    if (it.s.layer) { hoverable(item, it.s.layer); }
  });
}

// ------------------------------------------------------------------ ridgelines
function ridgeRows(run, step, kind) {
  var hist = (run.monitor.histograms || {})[String(step)];
  var record = recordAt(run, step), rows = [];
  if (!hist || !record) { return rows; }
  record.layers.forEach(function (row) {
    var act = actModule(record, row.layer), pre = layerModule(record, row.layer);
    var source = kind === "values" ? (act || pre) : pre;
    var h = source && hist[source.name] && hist[source.name][kind];
    if (!h) { return; }
    var name = kind === "values" ? (act ? act.kind : "output") : "∇pre";
    rows.push({ layer: row.layer, label: "L" + row.layer + " " + name, h: h,
      std: kind === "values" ? source.std : source.grad_std });
  });
  return rows;
}
function ridgeline(parent, opts) {
  var rows = opts.rows, f = frame(parent, { width: 360, height: 40 + 26 * Math.max(rows.length, 2) + 43,
    title: opts.title, id: opts.id, note: opts.note });
  if (!rows.length) { empty(f, opts.emptyText || "no histogram at this step"); return; }
  f.m = { l: 74, r: 54, t: 24, b: 36 };
  var x0 = scale(opts.lo, opts.hi, f.m.l, f.W - f.m.r, false);
  var x = function (v) { return Math.min(Math.max(x0(v), f.m.l), f.W - f.m.r); };
  x.ticks = x0.ticks;
  // a ridge rises up to 1.5 bands above its base: half a band more on top keeps the first one
  // below the title
  var band = (f.H - f.m.t - f.m.b) / (rows.length + 0.5), n = opts.nLayers;
  var g = sv("g", { "class": "axis" }, f.svg);
  var ticks = x.ticks(4), labels = tickLabels(ticks);
  ticks.forEach(function (t, i) {
    if (labels[i] === null) { return; }
    sv("line", { x1: x(t), x2: x(t), y1: f.m.t, y2: f.H - f.m.b, "class": "grid" }, g);
    sv("text", { x: x(t), y: f.H - f.m.b + 15, "text-anchor": "middle", "class": "tick x" }, g, labels[i]);
  });
  sv("text", { x: (f.m.l + f.W - f.m.r) / 2, y: f.H - 4, "text-anchor": "middle", "class": "label" }, g,
    opts.xLabel);
  rows.slice().reverse().forEach(function (row, i) {
    var base = f.m.t + band * (i + 1.5), c = row.h.counts, r = edgesOf(row.h);
    var peak = Math.sqrt(Math.max.apply(null, c)) || 1, w = (r[1] - r[0]) / c.length;
    var d = "M" + x(r[0]).toFixed(1) + "," + base.toFixed(1), spike = spikeOf(row.h);
    if (spike !== null) {  // one value: a thin spike there
      c = [1];
      r = [x0.invert(x0(spike) - 1.5), x0.invert(x0(spike) + 1.5)];
      w = r[1] - r[0];
      peak = 1;
      d = "M" + x(r[0]).toFixed(1) + "," + base.toFixed(1);
    }
    c.forEach(function (k, j) {
      var px0 = x(r[0] + j * w), px1 = x(r[0] + (j + 1) * w), py = base - 1.5 * band * Math.sqrt(k) / peak;
      d += "L" + px0.toFixed(1) + "," + py.toFixed(1) + "L" + px1.toFixed(1) + "," + py.toFixed(1);
    });
    d += "L" + x(r[1]).toFixed(1) + "," + base.toFixed(1) + "Z";
    var grp = sv("g", { "class": "ridge" }, f.svg);
    sv("path", { d: d, fill: layerColor(row.layer, n), "class": "ridge-area" }, grp);
    sv("text", { x: f.m.l - 6, y: base - 3, "text-anchor": "end", "class": "ridge-label" }, grp, row.label);
    sv("text", { x: f.W - f.m.r + 4, y: base - 3, "class": "ridge-std" }, grp, "σ " + fmt(row.std));
    hoverable(grp, row.layer);
  });
}
// the extent of the occupied bins (a constant layer's histogram spans a unit range around one spike)
function sharedRange(rowSets) {
  var lo = Infinity, hi = -Infinity;
  rowSets.forEach(function (rows) {
    rows.forEach(function (row) {
      var spike = spikeOf(row.h);
      if (spike !== null) { lo = Math.min(lo, spike); hi = Math.max(hi, spike); return; }
      var r = edgesOf(row.h), c = row.h.counts, w = (r[1] - r[0]) / c.length, first = -1, last = -1;
      c.forEach(function (k, j) { if (k > 0) { if (first < 0) { first = j; } last = j; } });
      if (first < 0) { return; }
      lo = Math.min(lo, r[0] + first * w);
      hi = Math.max(hi, r[0] + (last + 1) * w);
    });
  });
  if (finite(lo) && hi - lo < 1e-12 * Math.max(Math.abs(lo), 1)) { lo -= 0.5; hi += 0.5; }
  return finite(lo) ? [lo, hi] : [0, 1];
}
