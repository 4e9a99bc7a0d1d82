/* The first picture (web/first_picture.py), inlined in the index page after the
 * skeleton; and the drawing helpers the page shares with it (window.optvizDraw, read by
 * assets/optviz.js), defined here because this script runs first.
 *
 * The picture: the plot the page will show, drawn from #first-picture-data onto a canvas
 * in the skeleton's plot box before any of Dash's scripts runs. The geometry is Plotly's
 * for the page's 2-D figure (plots._layout_figure: margins 50/10/10/40, one unit of x is
 * one unit of y, the axis with room to spare shrunk about its middle); the contour's
 * levels and colours are Plotly's (computed by the server); the paths, the start, the
 * positions and the legend as assets/optviz.js draws them, with the same helpers.
 * assets/optviz.js hands the canvas and the legend over to the real page (optvizFirst)
 * and removes them once it has drawn the paths itself. */
(function () {
  "use strict";

  /* -- shared with assets/optviz.js ------------------------------------------------- */
  var DASHES = [[], [12, 5], [3, 4], [14, 4, 3, 4], [7, 3], [2, 7], [16, 3, 3, 3, 3, 3]];
  /* row i's dash pattern among n rows: solid while colours alone tell four rows apart */
  function dashOf(n, i) { return n > 4 ? DASHES[i % DASHES.length] : []; }

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    if (v === 0) return "0";
    // (numbers reach the browser as float32, clipped at ±1e30: plots._float32)
    if (Math.abs(v) >= 0.99999e30) return (v > 0 ? "> " : "< −") + "1e30";
    var a = Math.abs(v);
    return (a !== 0 && (a < 1e-3 || a >= 1e4)) ? v.toExponential(2) : v.toPrecision(3);
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  /* the part of segment (x0, y0)-(x1, y1) inside box [left, top, right, bottom]
   * (Liang-Barsky) -> [t0, t1] along it, or null (outside, or not finite) */
  function clipSegment(x0, y0, x1, y1, box) {
    if (!(isFinite(x0) && isFinite(y0) && isFinite(x1) && isFinite(y1))) return null;
    var dx = x1 - x0, dy = y1 - y0, t0 = 0, t1 = 1;
    var p = [-dx, dx, -dy, dy], q = [x0 - box[0], box[2] - x0, y0 - box[1], box[3] - y0];
    for (var i = 0; i < 4; i++) {
      if (p[i] === 0) { if (q[i] < 0) return null; continue; }
      var r = q[i] / p[i];
      if (p[i] < 0) { if (r > t1) return null; if (r > t0) t0 = r; }
      else { if (r < t0) return null; if (r < t1) t1 = r; }
    }
    return [t0, t1];
  }
  /* length along path p (pixels, [x[], y[]]) at each point, for the dash phase */
  function pathLength(p) {
    var d = new Float32Array(p[0].length);
    for (var j = 1; j < d.length; j++) {
      d[j] = d[j - 1] + Math.hypot(p[0][j] - p[0][j - 1], p[1][j] - p[1][j - 1]);
    }
    return d;
  }
  /* path p (pixels) from point `from` to point `to`, stroked where it crosses `box` (the
   * plot area and a margin) only: a diverging row's path runs millions of pixels off the
   * plot, and Skia stroked all of it (0.7 s for one Nesterov path on Rosenbrock, every
   * page following a class at once). `len`: pathLength(p), for the dash phase of a piece
   * that comes back into view. */
  function strokePx(c, p, from, to, box, len) {
    var x = p[0], y = p[1], open = false, dashed = c.getLineDash().length > 0;
    c.beginPath();
    for (var j = from + 1; j <= to; j++) {
      var t = clipSegment(x[j - 1], y[j - 1], x[j], y[j], box);
      if (!t) { open = false; continue; }
      var dx = x[j] - x[j - 1], dy = y[j] - y[j - 1];
      if (!open || t[0] > 0) {                  // a piece of the path comes into view
        if (dashed) {
          c.stroke();
          c.beginPath();
          c.lineDashOffset = len[j - 1] + t[0] * (len[j] - len[j - 1]);
        }
        c.moveTo(x[j - 1] + t[0] * dx, y[j - 1] + t[0] * dy);
      }
      c.lineTo(x[j - 1] + t[1] * dx, y[j - 1] + t[1] * dy);
      open = t[1] === 1;
    }
    c.stroke();
  }

  /* the legend's rows at step k: rows [{uid, label, color, diverged_at}], lossAt(j) row
   * j's loss at k */
  function legendHtml(rows, k, lossAt) {
    var html = "";
    for (var j = 0; j < rows.length; j++) {
      var r = rows[j], dash = dashOf(rows.length, j);
      var gone = r.diverged_at >= 0 && k >= r.diverged_at;
      var note = r.diverged_at >= 0
        ? (gone ? '<span class="diverged">diverged at step ' + r.diverged_at + "</span>"
                : '<span class="warn">diverges at step ' + r.diverged_at + "</span>")
        : "";
      var swatch = !dash.length
        ? '<span class="swatch" style="background:' + escapeHtml(r.color) + '"></span>'
        : '<svg class="swatch-line" width="26" height="10" aria-hidden="true"><line x1="1" ' +
          'y1="5" x2="25" y2="5" stroke="' + escapeHtml(r.color) + '" stroke-width="3.5" ' +
          'stroke-dasharray="' + dash.join(" ") + '"/></svg>';
      html += '<div class="legend-row" data-uid="' + escapeHtml(r.uid) + '">' + swatch +
        '<span class="legend-label">' + escapeHtml(r.label) + "</span>" +
        (gone ? "" : '<span class="legend-loss">L = ' + fmt(lossAt(j)) + "</span>") + note +
        "</div>";
    }
    return html;
  }

  /* A 2-D plot's legend where it hides least, in plot g ({xo, yo, xl, yl, X, Y}: the
   * plot area in pixels of the legend's box and data -> pixels). Beside the plot where
   * its shape leaves room (one unit of x is one unit of y, so a square view box leaves
   * the wide plot's sides free): there it covers nothing. On the right, else on the left
   * (clear of the y axis' numbers and title); else in the corner of the plot that hides
   * least of what `seen` holds: {marks: [[x, y]], start: [x, y], paths: [[x[], y[]]]}
   * (the start, the minima and saddles and each row's end weigh most, then every drawn
   * path point). ``bar``: {left, below} of a modebar always shown (a touch screen): a
   * legend in a top corner that would reach under it goes just below it. Returns the
   * place: "beside", "beside-left" or the corner. With 17 rows it is a third of the plot
   * high, and in the top-right corner it hid Rosenbrock's minimum, where the race ends. */
  function placeLegend2d(legend, g, seen, bar) {
    var pad = 6, wrap = legend.parentNode, n = seen.paths.length;
    var sides = [[wrap.clientWidth - (g.xo + g.xl) - 2 * pad, g.xo + g.xl + pad],
                 [g.xo - 70 - 2 * pad, pad]];      // [room, left edge]
    legend.classList.remove("legend-tight");
    for (var i = 0; i < 4; i++) {        // right, left; then both in a smaller type
      var spare = sides[i % 2][0];
      if (spare < 150 || (i > 1 && n <= 8)) continue;
      legend.classList.add("legend-beside");
      legend.classList.toggle("legend-tight", i > 1);
      legend.style.maxWidth = spare + "px";
      legend.style.maxHeight = g.yl + "px";
      legend.style.right = legend.style.bottom = "auto";
      // (the rows wrap to the width given: it fits when nothing scrolls)
      if (legend.scrollWidth <= legend.clientWidth + 1 &&
          legend.scrollHeight <= legend.clientHeight + 1 && legend.offsetHeight <= g.yl) {
        legend.style.top = g.yo + "px";
        legend.style.left = sides[i % 2][1] + "px";
        return i % 2 ? "beside-left" : "beside";
      }
      legend.classList.remove("legend-beside", "legend-tight");
    }
    legend.style.maxWidth = legend.style.maxHeight = "";
    var w = legend.offsetWidth, h = legend.offsetHeight;
    var left = g.xo + pad, right = g.xo + g.xl - pad - w;
    var top = g.yo + pad, bottom = g.yo + g.yl - pad - h;
    var below = bar ? Math.max(top, bar.below) : top, barLeft = bar ? bar.left : Infinity;
    var corners = [[right, right + w > barLeft ? below : top], [left, left + w > barLeft ? below : top],
                   [right, bottom], [left, bottom]];
    var score = [0, 0, 0, 0];
    function weigh(x, y, weight) {
      var px = g.X(x), py = g.Y(y);
      for (var c = 0; c < 4; c++) {
        var cx = corners[c][0], cy = corners[c][1];
        if (px >= cx - 8 && px <= cx + w + 8 && py >= cy - 8 && py <= cy + h + 8) score[c] += weight;
      }
    }
    (seen.marks || []).forEach(function (m) { weigh(m[0], m[1], 1000); });
    if (seen.start) weigh(seen.start[0], seen.start[1], 1000);
    seen.paths.forEach(function (p) {
      var gx = p[0], gy = p[1], m = gx.length;
      if (!m) return;
      weigh(gx[m - 1], gy[m - 1], 200);
      var stride = Math.max(1, Math.floor(m / 200));
      for (var j = 0; j < m; j += stride) weigh(gx[j], gy[j], 1);
    });
    var best = 0;
    for (var c = 1; c < 4; c++) if (score[c] < score[best]) best = c;
    legend.style.top = legend.style.bottom = legend.style.left = legend.style.right = "auto";
    if (best % 2 === 0) legend.style.right = (wrap.clientWidth - (g.xo + g.xl) + pad) + "px";
    else legend.style.left = left + "px";
    if (best < 2) legend.style.top = corners[best][1] + "px";
    else legend.style.bottom = (wrap.clientHeight - (g.yo + g.yl) + pad) + "px";
    return ["top-right", "top-left", "bottom-right", "bottom-left"][best];
  }

  window.optvizDraw = {DASHES: DASHES, dashOf: dashOf, fmt: fmt, escapeHtml: escapeHtml,
                       clipSegment: clipSegment, pathLength: pathLength, strokePx: strokePx,
                       legendHtml: legendHtml, placeLegend2d: placeLegend2d};

  /* -- the first picture ------------------------------------------------------------- */
  var el = document.getElementById("first-picture-data");
  var area = document.querySelector(".skeleton .plot-area");
  if (!el || !area) return;
  var data;
  try { data = JSON.parse(el.textContent); } catch (e) { return; }
  var M = {l: 50, r: 10, t: 10, b: 40};
  var PHONE = window.matchMedia("(max-width: 900px)");
  var FONT = "15px \"Open Sans\", verdana, arial, sans-serif";
  var TITLE = "18px \"Open Sans\", verdana, arial, sans-serif";   // (1.2 times: Plotly's)

  function u16(b64, lo, hi) {
    var bin = atob(b64), n = bin.length >> 1, out = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      out[i] = lo + (bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8)) / 65535 * (hi - lo);
    }
    return out;
  }
  var v = data.view, box = data.box;
  var rows = data.rows.map(function (r) {
    return {r: r, x: u16(r.x, box[0], box[1]), y: u16(r.y, box[2], box[3])};
  });
  var grid = data.grid, Z = u16(grid.z, grid.lo, grid.hi);

  /* Plotly's axes for a box of w x h pixels */
  function geometry(w, h) {
    var aw = w - M.l - M.r, ah = h - M.t - M.b, dx = v[1] - v[0], dy = v[3] - v[2];
    var s = Math.max(0, Math.min(aw / dx, ah / dy));
    var g = {w: w, h: h, xl: dx * s, yl: dy * s};
    g.xo = M.l + (aw - g.xl) / 2;
    g.yo = M.t + (ah - g.yl) / 2;
    g.X = function (x) { return g.xo + (x - v[0]) * s; };
    g.Y = function (y) { return g.yo + (v[3] - y) * s; };
    return g;
  }
  /* Plotly's automatic ticks: about one per 80 px on x, 40 on y (4 to 9), rounded up
   * to 2, 5 or 10 times a power of ten */
  function ticks(lo, hi, len, per) {
    var n = Math.min(9, Math.max(4, len / per)) + 1, rough = (hi - lo) / n;
    var base = Math.pow(10, Math.floor(Math.log(rough) / Math.LN10)), m = rough / base;
    var d = base * (m < 2 ? 2 : m < 5 ? 5 : 10), out = [];
    for (var t = Math.ceil(lo / d - 1e-9) * d; t <= hi + 1e-9 * d; t += d) out.push(t);
    var dec = Math.max(0, -Math.floor(Math.log(d) / Math.LN10 + 1e-9));
    return out.map(function (t) {
      var s = Math.abs(t) < d / 2 ? "0" : t.toFixed(dec);
      if (s.indexOf(".") >= 0) s = s.replace(/\.?0+$/, "");     // (1, not 1.0)
      return [t, s.replace("-", "\u2212")];
    });
  }
  function color(p) {          // the colour scale at p in [0, 1], linear in RGB
    var c = data.colors, i = 1;
    while (i < c.length - 1 && c[i][0] < p) i++;
    var a = c[i - 1], b = c[i], f = (p - a[0]) / ((b[0] - a[0]) || 1);
    f = Math.max(0, Math.min(1, f));
    function ch(s, k) { return parseInt(s.slice(1 + 2 * k, 3 + 2 * k), 16); }
    return [0, 1, 2].map(function (k) { return ch(a[1], k) + f * (ch(b[1], k) - ch(a[1], k)); });
  }

  function contour(c, g, ratio) {
    var W = Math.round(g.xl * ratio), H = Math.round(g.yl * ratio);
    if (W < 2 || H < 2) return;
    var img = c.createImageData(W, H), px = img.data, nx = grid.nx, ny = grid.ny;
    var gx0 = grid.x[0], gxs = (nx - 1) / (grid.x[1] - gx0);
    var gy0 = grid.y[0], gys = (ny - 1) / (grid.y[1] - gy0);
    var L = data.levels, start = L[0], size = L[1], count = L[2];
    var palette = [];
    for (var b = 0; b <= count; b++) palette.push(color(count ? b / count : 0));
    var band = new Int16Array(W * H);
    function at(g, n) { return Math.max(0, Math.min(n - 1.000001, g)); }
    for (var j = 0; j < H; j++) {
      var gy = at((v[3] - (j + 0.5) / H * (v[3] - v[2]) - gy0) * gys, ny);
      var j0 = Math.floor(gy), fy = gy - j0;
      for (var i = 0; i < W; i++) {
        var gx = at((v[0] + (i + 0.5) / W * (v[1] - v[0]) - gx0) * gxs, nx);
        var i0 = Math.floor(gx), fx = gx - i0, k = j0 * nx + i0;
        var z = (Z[k] * (1 - fx) + Z[k + 1] * fx) * (1 - fy) +
                (Z[k + nx] * (1 - fx) + Z[k + nx + 1] * fx) * fy;
        var bi = Math.floor((z - start) / size) + 1;
        band[j * W + i] = bi < 0 ? 0 : bi > count ? count : bi;
      }
    }
    for (var q = 0; q < W * H; q++) {
      var col = palette[band[q]], o = 4 * q;
      var edge = (q % W < W - 1 && band[q + 1] !== band[q]) || (q + W < W * H && band[q + W] !== band[q]);
      var a = edge ? 0.35 * Math.min(1, 0.6 * ratio) : 0;   // the level lines, 0.6 px
      px[o] = col[0] * (1 - a) + 40 * a;
      px[o + 1] = col[1] * (1 - a) + 60 * a;
      px[o + 2] = col[2] * (1 - a) + 90 * a;
      px[o + 3] = 255;
    }
    c.putImageData(img, Math.round(g.xo * ratio), Math.round(g.yo * ratio));
  }

  function axes(c, g) {
    c.fillStyle = c.strokeStyle = "#444";
    c.font = FONT;
    c.lineWidth = 1;
    c.textAlign = "center";
    c.textBaseline = "top";
    var xt = ticks(v[0], v[1], g.xl, 80), yt = ticks(v[2], v[3], g.yl, 40);
    xt.forEach(function (t) {
      var x = g.X(t[0]);
      c.beginPath(); c.moveTo(x, g.yo + g.yl); c.lineTo(x, g.yo + g.yl + 5); c.stroke();
      c.fillText(t[1], x, g.yo + g.yl + 7);
    });
    c.textAlign = "right";
    c.textBaseline = "middle";
    yt.forEach(function (t) {
      var y = g.Y(t[0]);
      c.beginPath(); c.moveTo(g.xo - 5, y); c.lineTo(g.xo, y); c.stroke();
      c.fillText(t[1], g.xo - 7, y);
    });
    c.textAlign = "center";
    c.textBaseline = "alphabetic";
    c.font = TITLE;
    c.fillText(data.titles[0], g.xo + g.xl / 2, g.h - 6);
    c.save();
    c.translate(g.xo - 50, g.yo + g.yl / 2);          // (Plotly: beside the plot, not the box)
    c.rotate(-Math.PI / 2);
    c.fillText(data.titles[1], 0, 0);
    c.restore();
    var label = function (t) { return t[1]; };
    return [xt.map(label), yt.map(label)];
  }

  function marker(c, g, p, kind) {
    var x = g.X(p[0]), y = g.Y(p[1]);
    c.beginPath();
    if (kind === "star") {
      for (var i = 0; i < 10; i++) {
        var r = i % 2 ? 3.3 : 8, a = -Math.PI / 2 + i * Math.PI / 5;
        c.lineTo(x + r * Math.cos(a), y + r * Math.sin(a));
      }
      c.closePath();
      c.fillStyle = "#FFD700";
      c.fill();
    } else {
      c.moveTo(x - 4, y - 4); c.lineTo(x + 4, y + 4); c.moveTo(x + 4, y - 4); c.lineTo(x - 4, y + 4);
      c.lineWidth = 4; c.strokeStyle = "white"; c.stroke();
      c.lineWidth = 2.5; c.strokeStyle = "#7f0000";
    }
    if (kind === "star") { c.lineWidth = 1.5; c.strokeStyle = "white"; }
    c.stroke();
  }

  function paths(c, g) {
    c.save();
    c.beginPath();
    c.rect(g.xo, g.yo, g.xl, g.yl);
    c.clip();
    data.minima.forEach(function (p) { marker(c, g, p, "star"); });
    data.saddles.forEach(function (p) { marker(c, g, p, "x"); });
    c.lineJoin = c.lineCap = "round";
    c.lineWidth = 3.5;
    var edge = [g.xo - 8, g.yo - 8, g.xo + g.xl + 8, g.yo + g.yl + 8];
    rows.forEach(function (p, i) {
      var px = [p.x.map(g.X), p.y.map(g.Y)];
      c.strokeStyle = p.r.color;
      c.setLineDash(dashOf(rows.length, i));
      strokePx(c, px, 0, px[0].length - 1, edge, pathLength(px));
    });
    c.setLineDash([]);
    if (data.start) {
      c.beginPath();
      c.arc(g.X(data.start[0]), g.Y(data.start[1]), 7, 0, 2 * Math.PI);
      c.lineWidth = 2.5;
      c.strokeStyle = "#222";
      c.stroke();
    }
    rows.forEach(function (p) {
      var n = p.x.length - 1;
      c.beginPath();
      c.arc(g.X(p.x[n]), g.Y(p.y[n]), 6.5, 0, 2 * Math.PI);
      c.fillStyle = p.r.color;
      c.fill();
      c.lineWidth = 2;
      c.strokeStyle = "white";
      c.stroke();
    });
    c.restore();
  }

  /* the legend where assets/optviz.js placeLegend puts it: under the plot on a phone,
   * else placeLegend2d's place */
  function placeLegend(legend, g) {
    legend.classList.toggle("legend-below", PHONE.matches);
    legend.classList.toggle("legend-wide", rows.length > 8);
    legend.classList.toggle("legend-many", rows.length > 16);
    legend.classList.remove("legend-beside");
    legend.style.left = legend.style.right = legend.style.top = legend.style.bottom = "";
    legend.style.maxWidth = legend.style.maxHeight = "";
    if (PHONE.matches) return;
    placeLegend2d(legend, g, {marks: data.minima.concat(data.saddles), start: data.start,
                              paths: rows.map(function (p) { return [p.x, p.y]; })});
  }

  var canvas = document.createElement("canvas");
  canvas.className = "first-picture";
  canvas.setAttribute("aria-hidden", "true");
  var legend = document.createElement("div");      // (not the page's #legend: tests and
  legend.className = "legend first-legend";         // the page wait for that one)
  legend.setAttribute("aria-hidden", "true");

  /* draw into the plot box ``into`` (the skeleton's, then the real page's) */
  function draw(into) {
    if (PHONE.matches) {                  // (assets/optviz.js fitPlotArea: the box's shape)
      var ratio0 = Math.abs(v[3] - v[2]) / Math.abs(v[1] - v[0]);
      var want = (into.clientWidth - M.l - M.r) * ratio0 + M.t + M.b;
      var vv = window.visualViewport, tall = vv ? vv.height * vv.scale : window.innerHeight;
      into.style.setProperty("--plot-h", Math.round(Math.max(tall / 3, Math.min(tall / 2, want))) +
        "px");
    }
    if (canvas.parentNode !== into) into.appendChild(canvas);
    if (legend.parentNode !== into.parentNode) into.parentNode.appendChild(legend);
    var w = into.clientWidth, h = into.clientHeight, ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
    var g = geometry(w, h), c = canvas.getContext("2d");
    contour(c, g, ratio);
    c.setTransform(ratio, 0, 0, ratio, 0, 0);
    var drawn = axes(c, g);
    paths(c, g);
    legend.innerHTML = legendHtml(rows.map(function (p) { return p.r; }), data.steps,
                                  function (j) { return rows[j].r.final; });
    placeLegend(legend, g);
    // what was drawn where, for the tests (tests/test_browser_first_picture.py)
    window.__optvizFirstPicture = {plot: [g.xo, g.yo, g.xl, g.yl], xticks: drawn[0],
                                   yticks: drawn[1], levels: data.levels,
                                   legend: [legend.offsetLeft, legend.offsetTop,
                                            legend.offsetWidth, legend.offsetHeight]};
  }
  draw(area);
  requestAnimationFrame(function () { window.__optvizFirstAt = performance.now(); });
  window.optvizFirst = {
    draw: draw,
    remove: function () {
      [canvas, legend].forEach(function (e) { if (e.parentNode) e.parentNode.removeChild(e); });
      window.optvizFirst = null;
    }
  };
})();
