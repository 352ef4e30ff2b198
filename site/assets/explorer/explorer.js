/* initlab explorer (site/assets/explorer/explorer.js): draws the configuration chosen in the page's
   controls from data/explorer/*.json with the vendored d3 bundle (site/assets/vendor/d3/, global `d3`).

   Contract (explorer-spec sections 2 and 3): the page (templates/macros/explorer.j2) holds the controls
   #ex-init, #ex-activation, #ex-norm, #ex-seed, the overlay #ex-vs-on + #ex-vs-*, the chart <svg>s, the
   table #ex-table (one <tr data-layer> per layer, <td data-stat data-layer> cells) and its UI words in the
   hidden list #ex-labels. The state lives in the URL hash (#init=..&activation=..&norm=..&seed=..[&vs=
   init,activation,norm,seed]), written with replaceState. After every redraw the root #explorer gets
   data-ready="<location.hash>" and data-redraw-ms (control change -> drawn, data fetch included).
   Numbers are formatted exactly like generator.render.filters.num (tests/test_browser_explorer.py checks
   it on edge values). Loaded by the explorer page only (site/overrides/explorer.html); no external requests. */
(function () {
  "use strict";
  var SCRIPT = document.currentScript;
  var root = document.getElementById("explorer");
  if (!root || !window.d3) { return; }
  var d3 = window.d3;
  var DATA = new URL("../../data/explorer/", SCRIPT ? SCRIPT.src : location.href).href;
  var AXES = ["init", "activation", "norm", "seed"];
  var W = 360, H = 220, M = { t: 12, r: 14, b: 38, l: 70 };
  var CHARTS = [{ col: "mean", log: false }, { col: "std", log: true, theory: true },
                { col: "grad_h_std", log: true }, { col: "grad_w_ratio", log: true }];

  /* ---- number format: generator.render.filters.num (3 significant digits) ------------------------ */
  var MINUS = "\u2212", DASH = "\u2014", INF = "\u221e";
  var SUP = { "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻" };

  /* x rounded to d digits (toFixed) or d decimals of the mantissa (toExponential), ties to even like
     Python's format(): JS rounds an exact tie away from zero, so an exact tie is detected on a longer
     expansion (both are exact decimal expansions of the binary value) and truncated when even. */
  function pyRound(x, d, fixed) {
    var s = fixed ? x.toFixed(d) : x.toExponential(d);
    var more = Math.min(100, d + 30);
    var long = (fixed ? x.toFixed(more) : x.toExponential(more)).split("e");
    var dot = long[0].indexOf(".");
    var cut = d > 0 ? dot + 1 + d : dot;
    var rest = long[0].slice(d > 0 ? cut : dot + 1);
    if (/^50*$/.test(rest)) {
      var kept = long[0].slice(0, cut);
      if ("02468".indexOf(kept.charAt(kept.length - 1)) >= 0) { return fixed ? kept : kept + "e" + long[1]; }
    }
    return s;
  }

  function num(x) {
    if (x === null || x === undefined || (typeof x === "number" && isNaN(x))) { return DASH; }
    if (x === Infinity) { return INF; }
    if (x === -Infinity) { return MINUS + INF; }
    if (typeof x !== "number") { x = Number(x); if (isNaN(x)) { return DASH; } }
    if (x === 0) { return "0"; }
    var parts = pyRound(x, 2, false).split("e");
    var exp = parseInt(parts[1], 10);
    var rounded = parseFloat(parts[0] + "e" + exp);
    if (Math.abs(rounded) < 1e-3 || Math.abs(rounded) >= 1e5) {
      return parts[0].replace("-", MINUS) + "×10" + String(exp).split("").map(function (c) { return SUP[c]; }).join("");
    }
    var s = pyRound(x, Math.max(0, 2 - exp), true).split(".");
    s[0] = s[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return s.join(".").replace("-", MINUS);
  }
  window.initlabExplorerNum = num;  // the browser test compares it with the Python filter

  /* ---- UI words (from the page) and data ----------------------------------------------------------- */
  var LAB = {};
  document.querySelectorAll("#ex-labels [data-k]").forEach(function (li) { LAB[li.getAttribute("data-k")] = li.textContent; });
  function lab(k, args) {
    var s = LAB[k] !== undefined ? LAB[k] : k;
    Object.keys(args || {}).forEach(function (a) { s = s.split("{" + a + "}").join(args[a]); });
    return s;
  }
  function el(id) { return document.getElementById(id); }

  var cache = {};
  function fixInf(o) {  // the data write +inf / -inf as the strings "inf" / "-inf" (no name is either)
    if (o === "inf") { return Infinity; }
    if (o === "-inf") { return -Infinity; }
    if (Array.isArray(o)) { return o.map(fixInf); }
    if (o && typeof o === "object") { Object.keys(o).forEach(function (k) { o[k] = fixInf(o[k]); }); }
    return o;
  }
  function getJSON(name) {
    if (!cache[name]) {
      cache[name] = fetch(DATA + name).then(function (r) {
        if (!r.ok) { throw new Error(name + " (HTTP " + r.status + ")"); }
        return r.json();
      }).then(fixInf);
      cache[name].catch(function () { delete cache[name]; });
    }
    return cache[name];
  }
  /* <key>.all.json or <key>.s<seed>.json (generator/pages/explorer_data.py seed_file): never <key>.json,
     which the i18n plugin would read as a language suffix for norm "bn" (Bengali) and drop */
  function docName(sel) {
    return [sel.init, sel.activation, sel.norm].join(".") + (sel.seed === "all" ? ".all" : ".s" + sel.seed) + ".json";
  }

  /* one configuration as the charts draw it: per stat {mean, lo, hi} (lo/hi null for one seed); gone[i]:
     no measured value at layer i (every seed diverged there; for one seed: that run diverged) */
  function series(sel, doc, index) {
    var all = sel.seed === "all";
    var key = [sel.init, sel.activation, sel.norm].join(".");
    var s = { sel: sel, all: all, stats: {}, diverged: doc.diverged, gone: all ? doc.all_diverged : doc.diverged,
              n_ok: doc.n_ok, n_seeds: doc.n_seeds, hist: doc.hist, edges: index.bins[sel.activation],
              health: index.health[key] || null,
              theory: sel.norm === "none" ? ((index.theory[sel.init] || {})[sel.activation] || null) : null,
              phase: sel.norm === "none" ? (((index.phase || {})[sel.init] || {})[sel.activation] || null) : null };
    index.stats.forEach(function (c) {
      var st = doc.stats[c];
      s.stats[c] = all ? st : { mean: st, lo: null, hi: null };
    });
    return s;
  }

  /* ---- state <-> controls <-> hash ----------------------------------------------------------------- */
  function readSel(prefix) {
    var o = {};
    AXES.forEach(function (a) { o[a] = el(prefix + a).value; });
    return o;
  }
  function state() { return { a: readSel("ex-"), vs: el("ex-vs-on").checked, b: readSel("ex-vs-") }; }
  function hashOf(st) {
    var h = "#" + AXES.map(function (a) { return a + "=" + encodeURIComponent(st.a[a]); }).join("&");
    return st.vs ? h + "&vs=" + AXES.map(function (a) { return encodeURIComponent(st.b[a]); }).join(",") : h;
  }
  function setSel(id, v) {
    var s = el(id);
    if (v !== undefined && v !== null && Array.prototype.some.call(s.options, function (o) { return o.value === v; })) { s.value = v; }
  }
  function toggleB() {
    var on = el("ex-vs-on").checked;
    AXES.forEach(function (a) { el("ex-vs-" + a).disabled = !on; });
    document.querySelector(".ex-key--b").hidden = !on;
  }
  function applyHash(hash) {
    var p = new URLSearchParams(hash.replace(/^#/, ""));
    if (!AXES.some(function (a) { return p.has(a); }) && !p.has("vs")) { return false; }
    AXES.forEach(function (a) { setSel("ex-" + a, p.get(a)); });
    var vs = p.get("vs");
    el("ex-vs-on").checked = !!vs;
    if (vs) { vs.split(",").forEach(function (v, i) { if (AXES[i]) { setSel("ex-vs-" + AXES[i], v); } }); }
    toggleB();
    return true;
  }
  function optionText(id) { var s = el(id); return s.options[s.selectedIndex].text; }
  function seriesName(prefix) {
    return AXES.map(function (a) { return optionText(prefix + a); }).join(" · ");
  }

  /* ---- line charts ---------------------------------------------------------------------------------- */
  function finite(v) { return typeof v === "number" && isFinite(v); }
  function powersOf10(lo, hi) {
    var out = [];
    for (var k = Math.ceil(Math.log10(lo) - 1e-9); k <= Math.floor(Math.log10(hi) + 1e-9); k++) { out.push(Math.pow(10, k)); }
    var step = Math.ceil(out.length / 5);
    return out.filter(function (_, i) { return i % step === 0; });
  }
  // Axis ticks are round numbers: num() without its trailing zeros ("0.005", "5×10⁻⁴"), and powers of ten
  // in scientific range as "10⁶"; short labels stay clear of the rotated axis title on a phone.
  function tick(v) {
    if (v === 0) { return "0"; }
    var k = Math.round(Math.log10(Math.abs(v)));
    if (Math.abs(Math.abs(v) / Math.pow(10, k) - 1) < 1e-9 && (k < -3 || k >= 5)) {  // num's scientific range
      return (v < 0 ? MINUS : "") + "10" + String(k).split("").map(function (c) { return SUP[c]; }).join("");
    }
    return num(v).replace(/^([^×]*\.[0-9]*?)0+(?=×|$)/, "$1").replace(/\.(?=×|$)/, "");
  }
  function yScale(spec, vals) {
    if (spec.log) {
      var pos = vals.filter(function (v) { return v > 0; });
      var lo = pos.length ? Math.min.apply(null, pos) : 0.1, hi = pos.length ? Math.max.apply(null, pos) : 10;
      if (hi / lo < 10) { var mid = Math.sqrt(hi * lo); lo = mid / 4; hi = mid * 4; }
      var y = d3.scaleLog().domain([lo / 1.6, hi * 1.6]).range([H - M.b, M.t]);
      var t = powersOf10(y.domain()[0], y.domain()[1]);
      if (t.length < 2) {  // less than two decades: the 1-2-5 ticks, at most five
        t = y.ticks().filter(function (v) { var m = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9)); return [1, 2, 5].some(function (k) { return Math.abs(m - k) < 1e-6; }); });
        var every = Math.ceil(t.length / 5);
        t = t.filter(function (_, i) { return i % every === 0; });
      }
      return { y: y, ticks: t, kind: "log" };
    }
    var amax = vals.length ? Math.max.apply(null, vals.map(Math.abs)) : 1;
    var mn = Math.min(0, Math.min.apply(null, vals.concat([0]))), mx = Math.max(0, Math.max.apply(null, vals.concat([0])));
    var nz = vals.map(Math.abs).filter(function (v) { return v > amax * 1e-12; });
    if (nz.length && amax / Math.min.apply(null, nz) > 1e3 && amax > 1e2) {  // wide range: symmetric log
      var c = amax / 1e3, ys = d3.scaleSymlog().constant(c).domain([mn * 1.2, mx * 1.2]).range([H - M.b, M.t]);
      var ticks = [0].concat(powersOf10(c * 10, mx * 1.2 || c * 10)).concat(mn < 0 ? powersOf10(c * 10, -mn * 1.2).map(function (v) { return -v; }) : []);
      return { y: ys, ticks: ticks, kind: "symlog" };
    }
    if (mx === mn) { mx = 1; mn = -1; }
    var yl = d3.scaleLinear().domain([mn, mx]).nice(4).range([H - M.b, M.t]);
    return { y: yl, ticks: yl.ticks(4), kind: "linear" };
  }

  function drawChart(spec, list, layers) {
    var svg = d3.select("#ex-chart-" + spec.col);
    svg.selectAll("*").remove();
    var vals = [];
    list.forEach(function (s) {
      var st = s.stats[spec.col];
      [st.mean, st.lo, st.hi].forEach(function (arr) { (arr || []).forEach(function (v) { if (finite(v)) { vals.push(v); } }); });
      if (spec.theory && s.theory) { s.theory.theory_std.forEach(function (v) { if (finite(v)) { vals.push(v); } }); }
    });
    var sc = yScale(spec, vals), y = sc.y;
    var x = d3.scaleLinear().domain([0.6, layers.length + 0.4]).range([M.l, W - M.r]);
    var top = M.t, bottom = H - M.b;
    var step = layers.length <= 12 ? 1 : Math.ceil(layers.length / 10);
    svg.append("g").attr("class", "ex-grid").selectAll("line").data(sc.ticks).enter().append("line")
      .attr("x1", M.l).attr("x2", W - M.r).attr("y1", y).attr("y2", y);
    svg.append("g").attr("class", "ex-axis").attr("transform", "translate(0," + bottom + ")")
      .call(d3.axisBottom(x).tickValues(layers.filter(function (l, i) { return i % step === 0; })).tickFormat(String).tickSizeOuter(0));
    svg.append("g").attr("class", "ex-axis").attr("transform", "translate(" + M.l + ",0)")
      .call(d3.axisLeft(y).tickValues(sc.ticks).tickFormat(tick).tickSizeOuter(0));
    svg.append("text").attr("class", "ex-axlabel").attr("x", (M.l + W - M.r) / 2).attr("y", H - 4)
      .attr("text-anchor", "middle").text(lab("layer"));
    var ylab = lab(spec.col + "_y") + (sc.kind === "symlog" ? " (" + lab("symlog") + ")" : "");
    svg.append("text").attr("class", "ex-axlabel").attr("transform", "translate(11," + ((top + bottom) / 2) + ") rotate(-90)")
      .attr("text-anchor", "middle").text(ylab);
    var drawable = function (v) { return finite(v) && (!spec.log || v > 0); };
    var clampY = function (v) { return Math.max(top, Math.min(bottom, y(v))); };
    var alt = [lab(spec.col)];
    list.forEach(function (s, si) {
      var id = si ? "b" : "a", st = s.stats[spec.col];
      var pts = layers.map(function (l, i) {
        return { l: l, v: st.mean[i], lo: st.lo ? st.lo[i] : null, hi: st.hi ? st.hi[i] : null, gone: s.gone[i], div: s.diverged[i] };
      });
      if (s.all) {
        svg.append("path").attr("class", "ex-band").attr("data-series", id).attr("d", d3.area()
          .defined(function (p) { return drawable(p.lo) && drawable(p.hi); })
          .x(function (p) { return x(p.l); }).y0(function (p) { return clampY(p.lo); }).y1(function (p) { return clampY(p.hi); })(pts));
      }
      if (spec.theory && s.theory) {
        var th = layers.map(function (l, i) { return { l: l, v: s.theory.theory_std[i] }; });
        svg.append("path").attr("class", "ex-theory").attr("data-series", id).attr("d", d3.line()
          .defined(function (p) { return drawable(p.v); }).x(function (p) { return x(p.l); }).y(function (p) { return clampY(p.v); })(th));
      }
      svg.append("path").attr("class", "ex-series").attr("data-series", id).attr("d", d3.line()
        .defined(function (p) { return drawable(p.v); }).x(function (p) { return x(p.l); }).y(function (p) { return clampY(p.v); })(pts));
      var g = svg.append("g").attr("class", "ex-marks").attr("data-series", id);
      pts.forEach(function (p) {
        var cx = x(p.l);
        if (drawable(p.v)) { g.append("circle").attr("class", "ex-dot").attr("cx", cx).attr("cy", clampY(p.v)).attr("r", 2.5); }
        if (p.div || (p.gone && !drawable(p.v))) {  // diverged: a cross on the point, or on the top edge when there is no value
          var cy = drawable(p.v) ? clampY(p.v) : top + 4;
          g.append("path").attr("class", "ex-div").attr("d", "M" + (cx - 4) + " " + (cy - 4) + "l8 8m0 -8l-8 8");
        } else if (p.v === 0 && spec.log) {
          g.append("path").attr("class", "ex-zero").attr("d", "M" + (cx - 4) + " " + (bottom - 7) + "h8l-4 7z");
        } else if (!drawable(p.v)) {
          g.append("circle").attr("class", "ex-missing").attr("cx", cx).attr("cy", bottom - 4).attr("r", 3);
        }
      });
      alt.push(lab(id) + " " + seriesName(si ? "ex-vs-" : "ex-") + ", " + lab("values") + ": " + pts.map(function (p) {
        return lab("layer_n", { l: p.l }) + " " + (p.gone && !finite(p.v) ? lab("diverged") : num(p.v));
      }).join("; "));
    });
    svg.attr("aria-label", alt.join(". "));
  }

  /* ---- histograms: small multiples on the activation's fixed edges, both overflow bins shown ------- */
  function drawHists(list, layers) {
    var box = d3.select("#ex-hists");
    box.selectAll("*").remove();
    var HW = 200, HH = 120, hm = { t: 20, b: 20, l: 2, r: 2 };
    var geo = list.map(function (s) {
      var e = s.edges, w = (e[e.length - 1] - e[0]) / (e.length - 1);
      return { e: e, w: w, lo: e[0] - 1.6 * w, hi: e[e.length - 1] + 1.6 * w };
    });
    var x = d3.scaleLinear().domain([Math.min.apply(null, geo.map(function (g) { return g.lo; })),
                                     Math.max.apply(null, geo.map(function (g) { return g.hi; }))]).range([hm.l, HW - hm.r]);
    var share = list.map(function (s) {
      return s.hist.map(function (row) {
        var n = row.reduce(function (a, b) { return a + b; }, 0);
        return row.map(function (c) { return n ? c / n : 0; });
      });
    });
    var ymax = Math.max.apply(null, [0.01].concat.apply([], share.map(function (sh) { return [].concat.apply([], sh); })));
    var y = d3.scaleLinear().domain([0, ymax]).range([HH - hm.b, hm.t]);
    var base = HH - hm.b;
    function bars(g, row) {  // [x0, x1, share] of every bin: overflow bins a gap outside the edges
      var e = g.e, out = [[e[0] - 1.6 * g.w, e[0] - 0.6 * g.w, row[0]]];
      for (var j = 1; j < e.length; j++) { out.push([e[j - 1], e[j], row[j]]); }
      out.push([e[e.length - 1] + 0.6 * g.w, e[e.length - 1] + 1.6 * g.w, row[row.length - 1]]);
      return out;
    }
    function rects(bs) {
      return bs.map(function (b) {
        return "M" + x(b[0]).toFixed(2) + " " + base + "V" + y(b[2]).toFixed(2) + "H" + x(b[1]).toFixed(2) + "V" + base + "Z";
      }).join("");
    }
    layers.forEach(function (l, i) {
      var svg = box.append("svg").attr("class", "ex-svg ex-hist").attr("viewBox", "0 0 " + HW + " " + HH).attr("role", "img");
      svg.append("text").attr("class", "ex-htitle").attr("x", hm.l).attr("y", 13).text(lab("layer_n", { l: l }));
      var alt = [lab("layer_n", { l: l })];
      list.forEach(function (s, si) {
        var id = si ? "b" : "a", bs = bars(geo[si], share[si][i]), last = bs.length - 1;
        if (si === 0) {
          svg.append("path").attr("class", "ex-series").attr("data-series", id).attr("d", rects(bs.slice(1, last)));
          svg.append("path").attr("class", "ex-overflow").attr("data-series", id).attr("d", rects([bs[0], bs[last]]));
        } else {
          svg.append("path").attr("class", "ex-series").attr("data-series", id).attr("d", rects(bs));
        }
        if (s.gone[i] && s.all) {
          svg.append("text").attr("class", "ex-hdiv").attr("x", HW - hm.r).attr("y", 13 + 13 * si).attr("text-anchor", "end").text(lab("diverged"));
        }
        alt.push(lab(id) + ": < " + num(geo[si].e[0]) + " " + num(bs[0][2] * 100) + "%, > " +
                 num(geo[si].e[geo[si].e.length - 1]) + " " + num(bs[last][2] * 100) + "%");
      });
      var g0 = geo[0], e0 = g0.e[0], eB = g0.e[g0.e.length - 1];
      svg.append("line").attr("class", "ex-base").attr("x1", hm.l).attr("x2", HW - hm.r).attr("y1", base).attr("y2", base);
      // the overflow bins' bounds under them (< first edge, > last edge), the middle edge in between; with an
      // overlay of another activation the axis is wider than the first configuration's bars, so the labels
      // start / end at that configuration's own overflow bars
      svg.append("text").attr("class", "ex-tick").attr("x", x(g0.lo)).attr("y", base + 14).text("<" + num(e0));
      svg.append("text").attr("class", "ex-tick").attr("x", x(g0.hi)).attr("y", base + 14).attr("text-anchor", "end").text(">" + num(eB));
      svg.append("text").attr("class", "ex-tick").attr("x", x((e0 + eB) / 2)).attr("y", base + 14).attr("text-anchor", "middle").text(num((e0 + eB) / 2));
      svg.attr("aria-label", alt.join(". "));
    });
  }

  /* ---- table, health text ---------------------------------------------------------------------- */
  function drawTable(s, index) {
    var note = false;
    document.querySelectorAll("#ex-table tbody tr[data-layer]").forEach(function (tr) {
      var l = +tr.getAttribute("data-layer"), i = index.axes.layer.indexOf(l);
      var th = tr.querySelector("th");
      var partial = s.all && s.n_ok[i] < s.n_seeds && s.n_ok[i] > 0;
      th.textContent = String(l) + (partial ? " (" + s.n_ok[i] + "/" + s.n_seeds + ")" : "");
      tr.classList.toggle("ex-row-div", !!s.diverged[i]);
      tr.querySelectorAll("td[data-stat]").forEach(function (td) {
        var v = s.stats[td.getAttribute("data-stat")].mean[i];
        var gone = s.gone[i] && !finite(v);
        var mark = !s.all && s.diverged[i] && !gone;
        td.textContent = gone ? lab("diverged") : num(v) + (mark ? " †" : "");
        note = note || mark;
        td.setAttribute("data-diverged", s.diverged[i] ? "true" : "false");
      });
    });
    el("ex-table-note").hidden = !note;
  }

  function badge(text, kind) {
    var b = document.createElement("span");
    b.className = "initlab-badge initlab-badge--" + kind;
    b.textContent = text;
    return b;
  }
  function drawHealth(list) {
    var box = el("ex-health");
    box.textContent = "";
    list.forEach(function (s, si) {
      var p = document.createElement("p"), h = s.health;
      p.className = "ex-h ex-h--" + (si ? "b" : "a");
      var name = document.createElement("strong");
      name.textContent = seriesName(si ? "ex-vs-" : "ex-");
      p.appendChild(name);
      if (h) {
        var kind = function (k) { return ({ ok: "ok", vanishes: "vanishes", explodes: "explodes", saturates: "saturates" })[k] || "neutral"; };
        p.appendChild(document.createTextNode(" — " + lab("forward") + " "));
        p.appendChild(badge(lab("forward." + h.forward), kind(h.forward)));
        p.appendChild(document.createTextNode(" · " + lab("backward") + " "));
        p.appendChild(badge(lab("backward." + h.backward), kind(h.backward)));
        p.appendChild(document.createTextNode(" · "));
        p.appendChild(badge(h.healthy ? lab("healthy") : lab("not_healthy"), h.healthy ? "ok" : "neutral"));
        var extra = [];
        if (h.first_diverged !== null && h.first_diverged !== undefined) { extra.push(lab("first_diverged", { l: h.first_diverged })); }
        extra.push(lab("seeds_ok", { n_ok: h.n_ok, n_seeds: h.n_seeds }));
        p.appendChild(document.createTextNode(" · " + extra.join(" · ")));
      }
      var t = document.createElement("span");
      t.className = "ex-theory-text";
      t.textContent = s.theory ? lab("q_star") + " = " + num(s.theory.q_star) + ", " + lab("chi1") + " = " + num(s.theory.chi1) +
        ", " + lab("regime") + ": " + lab("regime." + s.theory.regime) : lab("no_theory");
      if (s.phase) { t.textContent += "; " + lab("xi_c") + " = " + num(s.phase.xi_c); }
      p.appendChild(document.createElement("br"));
      p.appendChild(t);
      box.appendChild(p);
    });
  }

  /* ---- redraw ------------------------------------------------------------------------------------ */
  var index = null, turn = 0;
  function update() {
    var t0 = performance.now(), st = state(), hash = hashOf(st), mine = ++turn;
    if (location.hash !== hash) {
      history.replaceState(null, "", hash);
      window.dispatchEvent(new Event("initlab:hash"));  // site/assets/initlab.js: the language links keep it
    }
    el("ex-legend-a").textContent = lab("a") + ": " + seriesName("ex-");
    el("ex-legend-b").textContent = lab("b") + ": " + seriesName("ex-vs-");
    var sels = st.vs ? [st.a, st.b] : [st.a];
    Promise.all(sels.map(function (s) { return getJSON(docName(s)); })).then(function (docs) {
      if (mine !== turn) { return; }  // a newer change is on its way
      var list = docs.map(function (d, i) { return series(sels[i], d, index); });
      CHARTS.forEach(function (c) { drawChart(c, list, index.axes.layer); });
      drawHists(list, index.axes.layer);
      drawTable(list[0], index);
      drawHealth(list);
      el("ex-msg").textContent = "";
      root.setAttribute("data-redraw-ms", (performance.now() - t0).toFixed(1));
      root.setAttribute("data-ready", hash);
    }).catch(function (err) {
      if (mine === turn) { el("ex-msg").textContent = lab("error", { what: err.message }); }
    });
  }

  function start() {
    el("ex-controls").addEventListener("change", function (e) {
      if (e.target.id === "ex-vs-on") { toggleB(); }
      update();
    });
    window.addEventListener("hashchange", function () { if (applyHash(location.hash)) { update(); } });
    el("ex-msg").textContent = lab("loading");
    getJSON("index.json").then(function (idx) {
      index = idx;
      applyHash(location.hash) || applyHash("#" + (root.getAttribute("data-default") || ""));
      update();
    }).catch(function (err) { el("ex-msg").textContent = lab("error", { what: err.message }); });
  }
  start();
})();
