/* tinynet report, part 2 of 2: the state (schemes A and B, layer, step, all in location.hash), the
   sections and what they draw, from the embedded records. No network, no library. */
var DATA = JSON.parse(document.getElementById("tinynet-data").textContent);
var RUNS = DATA.runs || [];
var BY_LABEL = {};
RUNS.forEach(function (r) { BY_LABEL[r.label] = r; });
var state = { a: null, b: null, layer: null, step: null };
var hover = null;
var timer = null;
var app = document.getElementById("app");
var dynamic = [];  // sections redrawn when the state changes

// ------------------------------------------------------------------ records
function history(run) { return (run && run.monitor && run.monitor.history) || []; }
function steps(run) { return history(run).map(function (r) { return r.step; }); }
function recordAt(run, step) {
  var h = history(run), best = h[0];
  h.forEach(function (r) { if (r.step <= step) { best = r; } });
  return best;
}
function nLayers(run) { var h = history(run); return h.length ? h[0].layers.length : 0; }
function actModule(record, layer) {
  var found = null;
  record.modules.forEach(function (m) {
    if (m.role === "activation" && m.layer === layer) { found = m; }
  });
  return found;
}
function layerModule(record, layer) {
  var found = null;
  record.modules.forEach(function (m) { if (m.role === "layer" && m.layer === layer) { found = m; } });
  return found;
}
// a histogram with one occupied bin: the value it stands for (a constant layer's histogram is a
// unit range centred on the value), else null
function spikeOf(h) {
  var r = edgesOf(h), c = h.counts, hit = [];
  c.forEach(function (k, j) { if (k > 0) { hit.push(j); } });
  if (hit.length !== 1) { return null; }
  var w = (r[1] - r[0]) / c.length;
  return hit[0] === Math.floor(c.length / 2) || hit[0] === Math.ceil(c.length / 2) - 1
    ? (r[0] + r[1]) / 2 : r[0] + (hit[0] + 0.5) * w;
}
function edgesOf(h) {
  if (h.range) { return [h.range[0], h.range[1]]; }
  return [h.edges[0], h.edges[h.edges.length - 1]];
}

// ------------------------------------------------------------------ state and location.hash
function readHash() {
  var params = new URLSearchParams(location.hash.replace(/^#/, ""));
  var a = params.get("a"), b = params.get("b");
  state.a = BY_LABEL[a] ? a : (RUNS.length ? RUNS[0].label : null);
  state.b = BY_LABEL[b] && b !== state.a ? b : defaultB(state.a);
  var layer = parseInt(params.get("layer"), 10);
  state.layer = isFinite(layer) && layer >= 1 && layer <= nLayers(BY_LABEL[state.a]) ? layer : null;
  var st = steps(BY_LABEL[state.a]), want = parseInt(params.get("step"), 10);
  state.step = st.length ? st[st.length - 1] : null;
  if (isFinite(want)) { st.forEach(function (s) { if (s <= want) { state.step = s; } }); }
}
function defaultB(a) {
  var other = RUNS.filter(function (r) { return r.label !== a; });
  return other.length ? other[0].label : null;
}
function writeHash() {
  var parts = [];
  if (state.a) { parts.push("a=" + encodeURIComponent(state.a)); }
  if (state.b) { parts.push("b=" + encodeURIComponent(state.b)); }
  if (state.layer) { parts.push("layer=" + state.layer); }
  if (state.step !== null) { parts.push("step=" + state.step); }
  var hash = "#" + parts.join("&");
  if (location.hash !== hash) { history_replace(hash); }
}
function history_replace(hash) {
  try { window.history.replaceState(null, "", hash); } catch (e) { location.hash = hash; }
}
function update() { writeHash(); redraw(); }

// ------------------------------------------------------------------ highlight a layer everywhere
function activeLayer() { return hover !== null ? hover : state.layer; }
function applyHighlight() {
  var layer = activeLayer();
  var nodes = document.querySelectorAll("[data-layer]");
  for (var i = 0; i < nodes.length; i++) {
    var mine = parseInt(nodes[i].getAttribute("data-layer"), 10);
    nodes[i].classList.toggle("hl", layer !== null && mine === layer);
    nodes[i].classList.toggle("dim", layer !== null && mine !== layer);
  }
  var label = document.getElementById("layer-label");
  if (label) {
    label.textContent = layer === null ? "hover a layer to light it up everywhere; click to pin it"
      : "layer " + layer + (state.layer === layer ? " (pinned: click it again to unpin)" : "");
  }
}
function hoverable(node, layer) {
  node.setAttribute("data-layer", layer);
  node.addEventListener("mouseenter", function () { hover = layer; applyHighlight(); });
  node.addEventListener("mouseleave", function () { hover = null; applyHighlight(); });
  node.addEventListener("click", function () {
    state.layer = state.layer === layer ? null : layer;
    writeHash();
    applyHighlight();
  });
}

// ------------------------------------------------------------------ per-layer series over training
var METRICS = [
  { id: "act_std", title: "activation std", y: "std of the activation",
    get: function (rec, l) { var m = actModule(rec, l); return m ? m.std : null; } },
  { id: "grad_std", title: "back-propagated gradient (∇pre std)", y: "std dL/d pre", logY: true,
    get: function (rec, l) { return rec.layers[l - 1].out_grad_std; } },
  { id: "saturated", title: "saturated share", y: "% saturated", why: "this activation does not saturate",
    get: function (rec, l) { var m = actModule(rec, l); return m && finite(m.saturated) ? 100 * m.saturated : null; } },
  { id: "dead", title: "dead units", y: "% dead", why: "this activation cannot die",
    get: function (rec, l) { var m = actModule(rec, l); return m && finite(m.dead) ? 100 * m.dead : null; } },
  { id: "update", title: "update:data ratio (log10)", y: "log10 std ΔW / std W", hline: -3, hlineLabel: "−3",
    why: "not measured: no optimizer step yet, or weights with std 0" }
];
function updateLines(run) {
  var h = history(run), n = nLayers(run), ups = run.monitor.updates, lines = [];
  for (var l = 1; l <= n; l++) {
    var pts;
    var weight = h[0].layers[l - 1].weight;
    if (ups && ups[weight]) {
      pts = thin(ups[weight], 300);
    } else {
      pts = h.map(function (rec) { return [rec.step, rec.layers[l - 1].update_data]; });
    }
    lines.push({ name: "layer " + l, points: pts, color: layerColor(l, n), layer: l });
  }
  return lines;
}
function thin(pairs, limit) {
  if (pairs.length <= limit) { return pairs; }
  var size = Math.ceil(pairs.length / limit), out = [];
  for (var i = 0; i < pairs.length; i += size) {
    var chunk = pairs.slice(i, i + size).filter(function (p) { return finite(p[1]); });
    var sum = chunk.reduce(function (s, p) { return s + p[1]; }, 0);
    out.push([pairs[Math.min(i + size, pairs.length) - 1][0], chunk.length ? sum / chunk.length : null]);
  }
  return out;
}
function metricChart(parent, run, metric) {
  var h = history(run), n = nLayers(run), lines;
  if (metric.id === "update") {
    lines = updateLines(run);
  } else {
    lines = [];
    for (var l = 1; l <= n; l++) {
      var pts = h.map(function (rec) { return [rec.step, metric.get(rec, l)]; });
      lines.push({ name: "layer " + l, points: pts, color: layerColor(l, n), layer: l, dots: h.length < 30 });
    }
  }
  lineChart(parent, { title: metric.title, id: metric.id + ":" + run.label, lines: lines, logY: metric.logY,
    xLabel: "training step", yLabel: metric.y, hline: metric.hline, hlineLabel: metric.hlineLabel,
    vline: state.step, emptyText: metric.why || "not measured", height: 190 });
}
function meanFieldChart(parent, run) {
  var rec = recordAt(run, state.step), n = nLayers(run), meas = [], theo = [], ameas = [], atheo = [];
  rec.layers.forEach(function (row) {
    var pre = layerModule(rec, row.layer), act = actModule(rec, row.layer);
    meas.push([row.layer, pre ? pre.std : null]);
    theo.push([row.layer, row.pre_std_theory]);
    ameas.push([row.layer, act ? act.std : null]);
    atheo.push([row.layer, row.act_std_theory]);
  });
  var any = theo.concat(atheo).some(function (p) { return finite(p[1]); });
  var lines = any ? [
    { name: "pre std measured", points: meas, color: PALETTE[0], dots: true },
    { name: "pre std theory", points: theo, color: PALETTE[0], dashed: true },
    { name: "act std measured", points: ameas, color: PALETTE[1], dots: true },
    { name: "act std theory", points: atheo, color: PALETTE[1], dashed: true }
  ] : [];
  var svg = lineChart(parent, { title: "mean-field prediction vs measurement, step " + rec.step,
    id: "meanfield:" + run.label, lines: lines, xLabel: "layer", yLabel: "std", legend: true,
    emptyText: "no prediction: not a plain chain of layers and activations", height: 210,
    xFmt: function (v) { return Number.isInteger(v) ? String(v) : ""; } });
  // one hover target per layer column
  if (any) { columnTargets(svg, n); }
}
function columnTargets(svg, n) {
  var W = 360, l = 52, r = 10, span = (W - l - r) / Math.max(n - 1, 1);
  for (var k = 1; k <= n; k++) {
    var cx = n > 1 ? l + (k - 1) * span : (l + W - r) / 2;
    var t = sv("rect", { x: cx - span / 2, y: 24, width: span, height: 150, "class": "target" }, svg);
    hoverable(t, k);
  }
}

// ------------------------------------------------------------------ sections
function section(title, intro) {
  var s = el("section", {}, app);
  el("h2", {}, s, title);
  if (intro) { el("p", { "class": "intro" }, s, intro); }
  return s;
}
function pairs(parent, fn, flow) {
  var shown = [state.a, state.b].filter(function (x) { return x; });
  var grid = el("div", { "class": "pair cols-" + shown.length }, parent);
  shown.forEach(function (label, i) {
    var col = el("div", { "class": "col" + (flow && shown.length === 1 ? " grid" : "") }, grid);
    el("h3", {}, col, (shown.length > 1 ? (i ? "B: " : "A: ") : "") + label);
    fn(col, BY_LABEL[label]);
  });
}
function controls() {
  var bar = el("nav", { id: "controls" }, app);
  if (RUNS.length > 1) {
    ["a", "b"].forEach(function (key) {
      var lab = el("label", {}, bar, "scheme " + key.toUpperCase() + " ");
      var sel = el("select", { id: "select-" + key }, lab);
      RUNS.forEach(function (r) { el("option", { value: r.label }, sel, r.label); });
      sel.addEventListener("change", function () {
        state[key] = sel.value;
        if (key === "a") { state.step = clampStep(state.step); }
        update();
      });
    });
  }
  var range = el("input", { id: "scrubber", type: "range", min: 0, max: 0, step: 1, "aria-label": "training step" }, bar);
  var play = el("button", { id: "play", type: "button" }, bar, "▶ play");
  el("span", { id: "step-label" }, bar);
  el("span", { id: "layer-label" }, bar);
  range.addEventListener("input", function () {
    state.step = steps(BY_LABEL[state.a])[parseInt(range.value, 10)];
    update();
  });
  play.addEventListener("click", function () { if (timer) { stop(); } else { start(); } });
}
function clampStep(step) {
  var st = steps(BY_LABEL[state.a]), best = st[0];
  st.forEach(function (s) { if (s <= step) { best = s; } });
  return best === undefined ? null : best;
}
function start() {
  var st = steps(BY_LABEL[state.a]);
  if (st.indexOf(state.step) >= st.length - 1) { state.step = st[0]; update(); }
  document.getElementById("play").textContent = "❚❚ pause";
  timer = setInterval(function () {
    var i = st.indexOf(state.step);
    if (i >= st.length - 1) { stop(); return; }
    state.step = st[i + 1];
    update();
  }, 800);
}
function stop() {
  clearInterval(timer);
  timer = null;
  var p = document.getElementById("play");
  if (p) { p.textContent = "▶ play"; }
}
function syncControls() {
  ["a", "b"].forEach(function (k) { var s = document.getElementById("select-" + k); if (s) { s.value = state[k]; } });
  var st = steps(BY_LABEL[state.a]), range = document.getElementById("scrubber");
  if (range) {
    range.max = Math.max(st.length - 1, 0);
    range.value = Math.max(st.indexOf(state.step), 0);
    range.disabled = st.length < 2;
  }
  var label = document.getElementById("step-label");
  if (label) { label.textContent = "step " + state.step + " (" + (st.indexOf(state.step) + 1) + "/" + st.length + ")"; }
}

function drawFindings(s) {
  pairs(s, function (col, run) {
    var f = run.monitor.findings || {};
    [["at initialization", f.first], ["at the end", f.last]].forEach(function (part) {
      el("h4", {}, col, part[0]);
      var ul = el("ul", { "class": "findings" }, col);
      (part[1] && part[1].length ? part[1] : ["nothing to flag"]).forEach(function (t) { el("li", {}, ul, t); });
    });
  });
}
function drawHistograms(s) {
  var shown = [state.a, state.b].filter(function (x) { return x; }).map(function (l) { return BY_LABEL[l]; });
  var grid = el("div", { "class": "pair cols-" + shown.length }, s);
  var cols = shown.map(function () { return el("div", { "class": "col" + (shown.length === 1 ? " grid" : "") }, grid); });
  ["values", "grads"].forEach(function (kind) {
    var sets = shown.map(function (run) { return ridgeRows(run, recordAt(run, state.step).step, kind); });
    var r = sharedRange(sets);
    shown.forEach(function (run, i) {
      var col = cols[i];
      var rec = recordAt(run, state.step);
      ridgeline(col, { rows: sets[i], lo: r[0], hi: r[1], nLayers: nLayers(run), id: "ridge-" + kind + ":" + run.label,
        title: (shown.length > 1 ? (i ? "B " : "A ") : "") + run.label + ": " +
          (kind === "values" ? "activations" : "gradients at each layer output") + ", step " + rec.step,
        xLabel: kind === "values" ? "activation value" : "dL/d pre (shared axis)",
        emptyText: "no histograms kept for this run" });
    });
  });
}
function drawMetrics(s) {
  pairs(s, function (col, run) {
    var grid = el("div", { "class": "grid" }, col);
    METRICS.forEach(function (m) { metricChart(grid, run, m); });
  });
}
function drawMeanField(s) { pairs(s, function (col, run) { meanFieldChart(col, run); }, true); }
function drawLoss(s) {
  if (DATA.sweep && DATA.sweep.runs && DATA.sweep.runs.length) { return sweepLoss(s); }
  pairs(s, function (col, run) {
    var lines = [], h = history(run), lnC = h.length ? h[0].ln_classes : null;
    if (run.fit && run.fit.losses) {
      lines.push({ name: "train loss (batches)", points: run.fit.losses, color: "#8a8f98" });
    }
    if (run.fit && run.fit.history && run.fit.steps) {
      var per = run.fit.steps / Math.max(run.fit.history.length, 1);
      lines.push({ name: "test loss (epochs)", color: PALETTE[1], dots: true,
        points: run.fit.history.map(function (e) { return [e.epoch * per, e.test_loss]; }) });
    }
    lines.push({ name: "probe loss (records)", color: PALETTE[0], dots: true,
      points: h.map(function (r) { return [r.step, r.loss]; }) });
    lineChart(col, { title: "loss", id: "loss:" + run.label, lines: lines, logY: true, xLabel: "training step",
      yLabel: "cross-entropy", hline: lnC, hlineLabel: "ln C", vline: state.step, legend: true, height: 230 });
  }, true);
}
function sweepLoss(s) {
  var by = {};
  DATA.sweep.runs.forEach(function (r) {
    (by[r.init] = by[r.init] || []).push(r.history || []);
  });
  var lines = [], i = 0;
  Object.keys(by).sort().forEach(function (name) {
    var runs = by[name], epochs = {};
    runs.forEach(function (hist) {
      hist.forEach(function (e) {
        if (finite(e.train_loss)) { (epochs[e.epoch] = epochs[e.epoch] || []).push(e.train_loss); }
      });
    });
    var pts = Object.keys(epochs).map(Number).sort(function (a, b) { return a - b; }).map(function (k) {
      var v = epochs[k]; return [k, v.reduce(function (t, x) { return t + x; }, 0) / v.length];
    });
    var mark = name === state.a ? 0 : name === state.b ? 1 : -1;
    lines.push({ name: (mark === 0 ? "A " : mark === 1 ? "B " : "") + name, points: pts,
      color: mark >= 0 ? seriesColor(mark) : "#b5b9c0", faint: mark < 0, dots: mark >= 0, order: mark });
    i += 1;
  });
  lines.sort(function (p, q) { return (p.order >= 0) - (q.order >= 0); });
  lineChart(s, { title: "training loss per epoch, every scheme (mean over seeds; A and B in colour)",
    id: "loss:sweep", lines: lines, logY: true, xLabel: "epoch", yLabel: "mean training loss",
    legend: true, width: 720, height: 280, emptyText: "no epoch trained",
    xFmt: function (v) { return Number.isInteger(v) ? String(v) : ""; } });
}
function drawLeaderboard(s) {
  var sw = DATA.sweep, cols = sw.columns || [], rows = sw.leaderboard.slice();
  var sortKey = drawLeaderboard.key || null, dir = drawLeaderboard.dir || 1;
  if (sortKey) {
    rows.sort(function (p, q) {
      var a = sortKey === "init" ? p.init : (p[sortKey] || {}).mean;
      var b = sortKey === "init" ? q.init : (q[sortKey] || {}).mean;
      if (!finite(a) && typeof a !== "string") { return 1; }
      if (!finite(b) && typeof b !== "string") { return -1; }
      return (a < b ? -1 : a > b ? 1 : 0) * dir;
    });
  }
  var table = el("table", { id: "leaderboard", "class": "leaderboard" }, s);
  var head = el("tr", {}, el("thead", {}, table));
  [["rank", "rank"], ["init", "scheme"]].concat(cols).forEach(function (c) {
    var th = el("th", { "data-key": c[0], "class": "sortable" + (sortKey === c[0] ? (dir > 0 ? " asc" : " desc") : "") },
      head, c[1]);
    th.addEventListener("click", function () {
      drawLeaderboard.dir = drawLeaderboard.key === c[0] ? -dir : 1;
      drawLeaderboard.key = c[0] === "rank" ? null : c[0];
      redraw();
    });
  });
  el("th", {}, head, "compare");
  var body = el("tbody", {}, table);
  rows.forEach(function (row) {
    var tr = el("tr", { "class": row.init === state.a ? "row-a" : row.init === state.b ? "row-b" : "" }, body);
    el("td", {}, tr, row.rank + (row.diverged ? " *" : ""));
    el("td", { "class": "name" }, tr, row.init);
    cols.forEach(function (c) {
      var v = row[c[0]] || {}, pctCol = /_accuracy$|^dead|^saturated/.test(c[0]);
      var text = pctCol ? (finite(v.mean) ? (100 * v.mean).toFixed(1) : "–") : fmt(v.mean);
      if (finite(v.std) && v.n > 1) { text += " ± " + (pctCol ? (100 * v.std).toFixed(1) : fmt(v.std)); }
      el("td", { "class": "num" }, tr, text);
    });
    var td = el("td", {}, tr);
    ["a", "b"].forEach(function (key) {
      var b = el("button", { type: "button", "class": "pick" }, td, key.toUpperCase());
      if (!BY_LABEL[row.init]) { b.disabled = true; b.title = "no per-step records kept for this scheme"; }
      b.addEventListener("click", function () {
        state[key] = row.init;
        if (state.a === state.b) { state[key === "a" ? "b" : "a"] = defaultB(state[key]); }
        state.step = clampStep(state.step === null ? 0 : state.step);
        update();
      });
    });
  });
  el("p", { "class": "intro" }, s, "Click a column to sort; A and B pick the two schemes compared below. " +
    "Percent columns in %; ± is the std over seeds.");
}
function drawPanels(s) {
  var grid = el("div", { "class": "grid wide" }, s);
  DATA.panels.forEach(function (p, k) {
    // a dashed (theory) line right after a solid one is its prediction and takes its colour;
    // every other line takes the next colour
    var next = 0;
    var lines = p.series.map(function (line, i) {
      var paired = line.dashed && i > 0 && !p.series[i - 1].dashed;
      return { name: line.name, color: seriesColor(paired ? next - 1 : next++), dashed: line.dashed,
        dots: line.x.length < 40, mark: line.mark,
        points: line.x.map(function (x, j) { return [x, line.y[j]]; }) };
    });
    lineChart(grid, { title: p.title, id: "panel-" + k, lines: lines, xLabel: p.x, yLabel: p.y, logX: p.log_x,
      logY: p.log_y, hline: p.reference, legend: true, note: p.note, width: 420, height: 260 });
  });
}

function redraw() {
  syncControls();
  dynamic.forEach(function (d) {
    while (d.node.childNodes.length > d.keep) { d.node.removeChild(d.node.lastChild); }
    d.draw(d.node);
  });
  applyHighlight();
}
function addDynamic(node, draw) { dynamic.push({ node: node, keep: node.childNodes.length, draw: draw }); }

function build() {
  if (RUNS.length) { controls(); }
  if (RUNS.length) {
    addDynamic(section("Findings", "What the Monitor flags in plain words, at initialization and at the " +
      "last record."), drawFindings);
  }
  if (DATA.sweep && DATA.sweep.leaderboard && DATA.sweep.leaderboard.length) {
    addDynamic(section("Leaderboard", "Every scheme on the same network, data and seeds."), drawLeaderboard);
  }
  if (RUNS.length) {
    addDynamic(section("Histograms, layer by layer", "One ridge per layer (input at the top), at the step " +
      "of the scrubber; height ∝ √count so that tails stay visible. A and B share the x axis. Press play " +
      "to watch training."), drawHistograms);
    addDynamic(section("Layers over training", "One line per layer (blue: first, orange: last); the " +
      "vertical line is the scrubber's step. Gradient std shrinking toward layer 1 means vanishing " +
      "gradients; update:data near −3 is the usual healthy rate."), drawMetrics);
    addDynamic(section("Mean-field prediction", "The std each layer should have if the network were " +
      "infinitely wide, from the weights' measured variances, beside what the probe measured."), drawMeanField);
  }
  if (RUNS.length || (DATA.sweep && DATA.sweep.runs)) {
    addDynamic(section("Loss", "ln C is the loss of a network that knows nothing (uniform prediction)."), drawLoss);
  }
  if (DATA.panels && DATA.panels.length) { addDynamic(section("Studies", ""), drawPanels); }
  var foot = el("footer", {}, app);
  if (DATA.config) {
    el("p", { "class": "config" }, foot, "configuration: " + Object.keys(DATA.config).sort().map(function (k) {
      return k + " " + JSON.stringify(DATA.config[k]);
    }).join(" · "));
  }
  el("p", {}, foot, "Written by tinynet; the records are embedded in this file as JSON " +
    "(script#tinynet-data). The view's state is in the address: copy it to share this view.");
  readHash();
  redraw();
  window.addEventListener("hashchange", function () { readHash(); redraw(); });
  document.body.setAttribute("data-ready", "1");
}
build();
