/* optviz: the animation and the small read-outs, all in the browser.
 * The server sends a run once (figures + meta); every frame here is a Plotly.restyle of
 * the path-so-far and current-position traces, with no request to the server.
 * Trace layout of the main figure: see optviz/web/figures.py. */
(function () {
  "use strict";
  var FIRST_ROW_TRACE = 4;
  var cache = new WeakMap();   // decoded typed arrays, per trace data object

  function decode(v) {
    if (v == null) return [];
    if (ArrayBuffer.isView(v) || Array.isArray(v)) return v;
    if (v.bdata !== undefined) {
      if (cache.has(v)) return cache.get(v);
      var bin = atob(v.bdata), bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      var Ctor = {f4: Float32Array, f8: Float64Array, i4: Int32Array}[v.dtype] || Float64Array;
      var out = new Ctor(bytes.buffer);
      cache.set(v, out);
      return out;
    }
    return [];
  }

  function plot(id) {
    return document.querySelector("#" + id + " .js-plotly-plot");
  }

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    if (v === 0) return "0";
    var a = Math.abs(v);
    return (a !== 0 && (a < 1e-3 || a >= 1e4)) ? v.toExponential(2) : v.toPrecision(3);
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  var no_update = function () { return window.dash_clientside.no_update; };
  var shownErrors = {};
  function change(key, text) {                  // no_update unless the text changes
    if ((shownErrors[key] || "") === text) return no_update();
    shownErrors[key] = text;
    return text;
  }

  var state = {k: null, meta: null, equations: null};
  /* the animation clock: speed is in steps per 1/30 s */
  var player = {playing: false, k: 0, steps: 0, speed: 1, last: 0, synced: 0, frames: 0};
  window.__optvizPlayer = player;

  function start(k) {
    player.k = k;
    player.playing = true;
    player.last = performance.now();
    player.synced = player.last;
    requestAnimationFrame(tick);
  }

  function stop() { player.playing = false; }

  function tick(now) {
    if (!player.playing || !state.meta) return;
    var dt = Math.min(now - player.last, 100);
    player.last = now;
    player.k = Math.min(player.k + player.speed * dt * 30 / 1000, player.steps);
    var k = Math.floor(player.k), done = player.k >= player.steps;
    render(k);
    player.frames++;
    if (done) player.playing = false;
    if (done || now - player.synced > 150) {       // keep the slider (and Dash) in step
      player.synced = now;
      var set = window.dash_clientside.set_props;
      if (set) {
        set("scrub", {value: k});
        if (done) set("play", {children: "▶ play"});
      }
    }
    if (player.playing) requestAnimationFrame(tick);
  }

  /* the figures arrive with the data; Plotly may not have drawn them yet */
  function renderWhenReady(k, tries) {
    var gd = plot("graph");
    var ready = gd && gd._fullLayout && gd.data;
    if (ready) {
      if (!gd.__optvizHooked) {
        gd.__optvizHooked = true;
        hookClicks(gd);
        gd.on("plotly_afterplot", function () {   // new figure, zoom, resize
          // (not in 3-D: there render() itself restyles, which would call us again)
          if (state.meta && state.k !== null && !player.playing && !gd._fullLayout.scene) {
            render(state.k);
          }
        });
      }
      render(k);
    } else if (tries < 600) {         // a cold page on a slow machine: up to a minute
      setTimeout(function () { renderWhenReady(k, tries + 1); }, 100);
    }
  }

  /* a click anywhere on the 2-D plot (not only on a point) sets the start */
  function hookClicks(gd) {
    gd.addEventListener("click", function (ev) {
      var fl = gd._fullLayout;
      if (!fl || fl.scene || !window.dash_clientside.set_props) return;
      var box = gd.getBoundingClientRect(), xa = fl.xaxis, ya = fl.yaxis;
      var px = ev.clientX - box.left - xa._offset, py = ev.clientY - box.top - ya._offset;
      if (px < 0 || py < 0 || px > xa._length || py > ya._length) return;
      window.dash_clientside.set_props("click-start",
        {data: [xa.p2c(px), ya.p2c(py), Date.now()]});
    });
    // zoom and pan on the paths move the contour underneath too
    gd.on("plotly_relayout", function (ev) {
      var bg = plot("graph-bg");
      if (!bg || gd._fullLayout.scene) return;
      var upd = {};
      ["xaxis.range[0]", "xaxis.range[1]", "yaxis.range[0]", "yaxis.range[1]"].forEach(
        function (key) { if (key in ev) upd[key] = ev[key]; });
      if (ev["xaxis.autorange"] || ev["yaxis.autorange"]) {
        upd["xaxis.range"] = gd._fullLayout.xaxis.range.slice();
        upd["yaxis.range"] = gd._fullLayout.yaxis.range.slice();
      }
      if (Object.keys(upd).length) window.Plotly.relayout(bg, upd);
    });
  }

  function render(k) {
    var gd = plot("graph");
    if (!state.meta || !gd || !gd._fullLayout) return;
    state.k = k;
    if (gd._fullLayout.scene) draw3d(gd, state.meta.rows, k);
    else draw2d(gd, state.meta, k);
    drawCursors(k);
    drawLegend(state.meta, k);
    var text = document.getElementById("frame-text");
    if (text) text.textContent = "step " + k + " / " + state.meta.steps;
  }

  /* 2-D: Plotly draws the contour (a graph of its own, underneath), the minima and the
   * saddles; every row's whole path (faint), path so far (bold) and current position,
   * and the start, are drawn here on a canvas over the plot from meta, every frame and
   * for every new run (a Plotly redraw costs 50 ms to 1 s in software rendering; the
   * canvas a few ms). */
  function draw2d(gd, meta, k) {
    var fl = gd._fullLayout, xa = fl.xaxis, ya = fl.yaxis, rows = meta.rows;
    var canvas = overlay(gd);
    var ctx = canvas.getContext("2d");
    var ratio = window.devicePixelRatio || 1;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.save();
    ctx.beginPath();
    ctx.rect(xa._offset, ya._offset, xa._length, ya._length);
    ctx.clip();
    ctx.lineJoin = "round";
    var X = function (v) { return xa._offset + xa.c2p(v); };
    var Y = function (v) { return ya._offset + ya.c2p(v); };
    var paths = rows.map(function (r) { return [decode(r.x), decode(r.y)]; });
    function line(gx, gy, n) {
      ctx.beginPath();
      ctx.moveTo(X(gx[0]), Y(gy[0]));
      for (var j = 1; j <= n; j++) ctx.lineTo(X(gx[j]), Y(gy[j]));
      ctx.stroke();
    }
    ctx.globalAlpha = 0.45;                         // whole paths, faint
    ctx.lineWidth = 1.5;
    paths.forEach(function (p, i) { ctx.strokeStyle = rows[i].color; line(p[0], p[1], p[0].length - 1); });
    ctx.globalAlpha = 1;                            // paths so far, bold
    ctx.lineWidth = 3.5;
    paths.forEach(function (p, i) {
      ctx.strokeStyle = rows[i].color;
      line(p[0], p[1], Math.min(k, p[0].length - 1));
    });
    if (meta.start) {                               // the start, an open circle
      ctx.beginPath();
      ctx.arc(X(meta.start[0]), Y(meta.start[1]), 7, 0, 2 * Math.PI);
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = "#222";
      ctx.stroke();
    }
    paths.forEach(function (p, i) {                 // current positions
      var n = Math.min(k, p[0].length - 1);
      ctx.beginPath();
      ctx.arc(X(p[0][n]), Y(p[1][n]), 6.5, 0, 2 * Math.PI);
      ctx.fillStyle = rows[i].color;
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = "white";
      ctx.stroke();
    });
    if (meta.inspect) drawArrows(ctx, meta, paths, k, X, Y);
    ctx.restore();
    drawInspector(meta, k);
    drawGradCheck(meta, k);
    drawData(meta, k);
    if (window.__optvizDrawn !== meta) {            // for tests and benchmarks
      window.__optvizDrawn = meta;
      window.__optvizDrawnAt = performance.now();
    }
  }

  /* the state inspector: at frame k, for each row, the negative gradient it saw (dashed,
   * a fixed 48 px: its direction; the size is in the table) and the step it took
   * (solid, to scale, at least 10 px so that it shows). Update t = k + 1 moves the point
   * from frame k to k + 1; at the last frame the last update is shown. */
  function inspectedUpdate(meta, k) { return Math.max(0, Math.min(k, meta.steps - 1)); }

  function arrow(ctx, x0, y0, x1, y1, color, dashed) {
    var dx = x1 - x0, dy = y1 - y0, len = Math.sqrt(dx * dx + dy * dy);
    if (!(len > 0)) return;
    ctx.save();
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = dashed ? 2 : 3;
    ctx.setLineDash(dashed ? [5, 4] : []);
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    ctx.setLineDash([]);
    var ux = dx / len, uy = dy / len, h = 9;
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - h * ux + h * 0.5 * uy, y1 - h * uy - h * 0.5 * ux);
    ctx.lineTo(x1 - h * ux - h * 0.5 * uy, y1 - h * uy + h * 0.5 * ux);
    ctx.closePath(); ctx.fill();
    ctx.restore();
  }

  function drawArrows(ctx, meta, paths, k, X, Y) {
    var t = inspectedUpdate(meta, k), drawn = [];
    meta.rows.forEach(function (r, i) {
      var g = decode(r.g), px = paths[i][0], py = paths[i][1];
      if (!g.length || t + 1 >= px.length) return;
      var x0 = X(px[t]), y0 = Y(py[t]);
      // -g in pixels (the y axis points down on the screen)
      var gx = X(px[t] - g[2 * t]) - x0, gy = Y(py[t] - g[2 * t + 1]) - y0;
      var gl = Math.sqrt(gx * gx + gy * gy);
      if (gl > 0) {
        var gx1 = x0 + 48 * gx / gl, gy1 = y0 + 48 * gy / gl;
        arrow(ctx, x0, y0, gx1, gy1, r.color, true);
        drawn.push({uid: r.uid, kind: "grad", x0: x0, y0: y0, x1: gx1, y1: gy1});
      }
      var sx = X(px[t + 1]) - x0, sy = Y(py[t + 1]) - y0, sl = Math.sqrt(sx * sx + sy * sy);
      if (sl > 0) {
        var f = Math.max(sl, 10) / sl;
        arrow(ctx, x0, y0, x0 + f * sx, y0 + f * sy, r.color, false);
        drawn.push({uid: r.uid, kind: "step", x0: x0, y0: y0, x1: x0 + f * sx, y1: y0 + f * sy});
      }
    });
    window.__optvizArrows = {frame: k, update: t + 1, arrows: drawn};
  }

  function pair(a, t) {
    if (!a || !a.length) return "–";
    return "(" + fmt(a[2 * t]) + ", " + fmt(a[2 * t + 1]) + ")";
  }

  function drawInspector(meta, k) {
    var box = document.getElementById("inspector");
    if (!box) return;
    if (!meta.inspect) { if (box.innerHTML) box.innerHTML = ""; return; }
    var t = inspectedUpdate(meta, k);
    var html = '<div class="inspector-title">State after update t = ' + (t + 1) +
      ' <span class="hint">(dashed arrow: −g, direction only; solid: the step taken)</span></div>' +
      "<table><thead><tr><th>row</th><th>−g</th><th>step Δw</th><th>m</th><th>v</th>" +
      '<th title="effective per-coordinate rate, e.g. α / (√v̂ + ε)">rate</th></tr></thead><tbody>';
    meta.rows.forEach(function (r) {
      var x = decode(r.x), y = decode(r.y), g = decode(r.g);
      var neg = g.length ? "(" + fmt(-g[2 * t]) + ", " + fmt(-g[2 * t + 1]) + ")" : "–";
      var step = t + 1 < x.length ? "(" + fmt(x[t + 1] - x[t]) + ", " + fmt(y[t + 1] - y[t]) + ")" : "–";
      var has = r.has || [];
      html += '<tr data-uid="' + escapeHtml(r.uid) + '"><td><span class="swatch" style="background:' +
        escapeHtml(r.color) + '"></span>' + escapeHtml(r.label) + "</td><td>" + neg + "</td><td>" +
        step + "</td><td>" + (has.indexOf("m") >= 0 ? pair(decode(r.m), t) : "–") + "</td><td>" +
        (has.indexOf("v") >= 0 ? pair(decode(r.v), t) : "–") + "</td><td>" +
        (has.indexOf("rate") >= 0 ? pair(decode(r.rate), t) : "–") + "</td></tr>";
    });
    box.innerHTML = html + "</tbody></table>";
  }

  /* the gradient check at frame k: analytic gradient, centred finite difference and their
   * relative error, per row (the lectures: below ~1e-7 is right, above ~1e-2 is a bug) */
  function drawGradCheck(meta, k) {
    var box = document.getElementById("gradcheck");
    if (!box) return;
    if (!meta.check) { if (box.innerHTML) box.innerHTML = ""; return; }
    var html = '<div class="inspector-title">Gradient check at step ' + k +
      ' <span class="hint">(centred differences, h = 10⁻⁶(1 + |w|))</span></div>' +
      "<table><thead><tr><th>row</th><th>analytic ∇L</th><th>finite difference</th>" +
      "<th>relative error</th></tr></thead><tbody>";
    meta.rows.forEach(function (r) {
      var rel = decode(r.rel), e = rel[Math.min(k, rel.length - 1)];
      html += '<tr data-uid="' + escapeHtml(r.uid) + '"><td><span class="swatch" style="background:' +
        escapeHtml(r.color) + '"></span>' + escapeHtml(r.label) + "</td><td>" +
        pair(decode(r.ga), k) + "</td><td>" + pair(decode(r.gf), k) + '</td><td class="rel">' +
        fmt(e) + "</td></tr>";
    });
    box.innerHTML = html + "</tbody></table>";
  }

  /* a data surface: each row's model at frame k over the data (its weights are the
   * row's position): a line, a decision boundary or the network's curve */
  function sigmoid(z) { return 0.5 * (1 + Math.tanh(0.5 * z)); }
  function drawData(meta, k) {
    var d = meta.data, gd = plot("data-plot");
    if (!d || !gd || !gd.data || gd.data.length < d.first + meta.rows.length) return;
    var xs = [], ys = [], idx = [];
    meta.rows.forEach(function (r, i) {
      var px = decode(r.x), py = decode(r.y), n = Math.min(k, px.length - 1);
      var w1 = px[n], w2 = py[n], fx = [], fy = [];
      if (d.model === "logistic") {          // boundary w1 x1 + w2 x2 = 0
        var len = Math.sqrt(w1 * w1 + w2 * w2) || 1, R = d.reach;
        fx = [-R * w2 / len, R * w2 / len];
        fy = [R * w1 / len, -R * w1 / len];
      } else {
        d.xs.forEach(function (x) {
          fx.push(x);
          fy.push(d.model === "linear" ? w1 * x + w2 : sigmoid(w2 * sigmoid(w1 * x)));
        });
      }
      xs.push(fx); ys.push(fy); idx.push(d.first + i);
    });
    window.Plotly.restyle(gd, {x: xs, y: ys}, idx);
  }

  /* the camera button: the contour, the plot and the paths on the canvas, as one PNG */
  function hookImage() {
    document.addEventListener("click", function (ev) {
      var btn = ev.target.closest && ev.target.closest("#graph .modebar-btn");
      if (!btn || (btn.getAttribute("data-title") || "").toLowerCase().indexOf("png") < 0) return;
      var gd = plot("graph"), bg = plot("graph-bg");
      if (!gd || gd._fullLayout.scene || !bg) return;    // 3-D: Plotly's own image
      ev.preventDefault();
      ev.stopPropagation();
      var w = gd.clientWidth, h = gd.clientHeight, opts = {format: "png", width: w, height: h};
      Promise.all([window.Plotly.toImage(bg, opts), window.Plotly.toImage(gd, opts)])
        .then(function (urls) {
          return Promise.all(urls.map(function (u) {
            return new Promise(function (ok) { var im = new Image(); im.onload = function () { ok(im); }; im.src = u; });
          }));
        }).then(function (images) {
          var out = document.createElement("canvas");
          out.width = w; out.height = h;
          var c = out.getContext("2d");
          c.drawImage(images[0], 0, 0, w, h);
          c.drawImage(images[1], 0, 0, w, h);
          var frame = gd.parentNode.querySelector("canvas.optviz-frame");
          if (frame) c.drawImage(frame, 0, 0, w, h);
          var a = document.createElement("a");
          a.href = out.toDataURL("image/png");
          a.download = "optviz.png";
          document.body.appendChild(a); a.click(); a.remove();
        });
    }, true);
  }
  hookImage();

  /* "copy link": the address bar holds the whole setup (see pushLink) */
  document.addEventListener("click", function (ev) {
    if (!ev.target.closest || !ev.target.closest("#copy-link")) return;
    var url = window.location.href, note = document.getElementById("link-note");
    function done(ok) { if (note) note.textContent = ok ? "link copied" : "copy this link: " + url; }
    function fallback() {          // plain http (no navigator.clipboard): a selected textarea
      var ta = document.createElement("textarea");
      ta.value = url;
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      ta.remove();
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  });

  /* an element of ours laid over a Plotly graph, created once */
  function layer(gd, tag, className) {
    var el = gd.parentNode.querySelector(tag + "." + className);
    if (!el) {
      el = document.createElement(tag);
      el.className = className;
      gd.parentNode.style.position = "relative";
      gd.parentNode.appendChild(el);
    }
    return el;
  }

  function overlay(gd) {
    var canvas = layer(gd, "canvas", "optviz-frame");
    var w = gd.clientWidth, h = gd.clientHeight, ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
      canvas.style.width = w + "px";
      canvas.style.height = h + "px";
    }
    return canvas;
  }

  /* 3-D: WebGL scatter traces restyled in place (slower, but no 2-D overlay applies) */
  function draw3d(gd, rows, k) {
    var idx = [], xs = [], ys = [], zs = [];
    for (var i = 0; i < rows.length; i++) {
      var g = FIRST_ROW_TRACE + 3 * i, ghost = gd.data[g];
      if (!ghost || !ghost.z) break;
      var gx = decode(ghost.x), gy = decode(ghost.y), gz = decode(ghost.z);
      var n = Math.min(k, gx.length - 1);
      idx.push(g + 1, g + 2);
      xs.push(gx.slice(0, n + 1), [gx[n]]);
      ys.push(gy.slice(0, n + 1), [gy[n]]);
      zs.push(gz.slice(0, n + 1), [gz[n]]);
    }
    if (idx.length) window.Plotly.restyle(gd, {x: xs, y: ys, z: zs}, idx);
  }

  /* the shared cursor on the side plots: a positioned line, not a Plotly relayout */
  function drawCursors(k) {
    ["loss-plot", "lr-plot", "gnorm-plot"].forEach(function (id) {
      var sp = plot(id);
      if (!sp || !sp._fullLayout || !sp._fullLayout.xaxis) return;
      if (!sp.__optvizHooked && sp.on) {            // a side plot drawn later: follow it
        sp.__optvizHooked = true;
        sp.on("plotly_afterplot", function () { if (state.k !== null) drawCursors(state.k); });
      }
      var xa = sp._fullLayout.xaxis, ya = sp._fullLayout.yaxis;
      var line = layer(sp, "div", "optviz-cursor"), px = xa.c2p(k);
      line.style.display = px >= 0 && px <= xa._length ? "block" : "none";
      line.style.left = (xa._offset + px) + "px";
      line.style.top = ya._offset + "px";
      line.style.height = ya._length + "px";
    });
  }

  function drawLegend(meta, k) {
    var legend = document.getElementById("legend");
    if (!legend) return;
    var rows = meta.rows, html = "";
    for (var j = 0; j < rows.length; j++) {
      var r = rows[j], losses = decode(r.loss);
      var L = losses.length ? losses[Math.min(k, losses.length - 1)] : null;
      var gone = r.diverged_at >= 0 && k >= r.diverged_at;
      var note = r.diverged_at >= 0
        ? (gone ? '<span class="diverged">diverged at step ' + r.diverged_at + "</span>"
                : '<span class="warn">diverges at step ' + r.diverged_at + "</span>")
        : "";
      html += '<div class="legend-row" data-uid="' + escapeHtml(r.uid) + '">' +
        '<span class="swatch" style="background:' + escapeHtml(r.color) + '"></span>' +
        '<span class="legend-label">' + escapeHtml(r.label) + "</span>" +
        (gone ? "" : '<span class="legend-loss">L = ' + fmt(L) + "</span>") + note + "</div>";
    }
    legend.innerHTML = html;
  }


  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    optviz: {
      /* play / pause / step / restart -> [frame, max, play label]. Playing runs a
       * requestAnimationFrame loop in this file: no Dash callback and no server request
       * per frame; the scrub slider is moved a few times a second. */
      control: function (nPlay, nFwd, nBack, nRestart, meta, speed, frame) {
        var steps = meta ? meta.steps : 0;
        var trig = (window.dash_clientside.callback_context.triggered || [])
          .map(function (t) { return t.prop_id; });
        var has = function (p) { return trig.indexOf(p) >= 0; };
        player.speed = speed || 1;
        player.steps = steps;
        var k = player.playing ? player.k : Math.max(0, Math.min(frame == null ? steps : frame, steps));
        if (has("meta.data") || trig.length === 0) {
          var wasPlaying = player.playing;
          stop();
          if (meta) {          // a new run: draw it now, not after the slider has moved
            state.meta = meta;
            window.__optvizMeta = meta;
            if (meta.resume != null) {     // a live change: go on from its frame
              var r = Math.min(meta.resume, steps);
              renderWhenReady(r, 0);
              if (wasPlaying && r < steps) { start(r); return [r, steps, "⏸ pause"]; }
              return [r, steps, "▶ play"];
            }
            renderWhenReady(steps, 0);
          }
          return [steps, steps, "▶ play"];
        }
        if (has("play.n_clicks")) {
          if (player.playing) { stop(); return [Math.round(player.k), steps, "▶ play"]; }
          if (k >= steps) k = 0;
          start(k);
          return [k, steps, "⏸ pause"];
        }
        if (has("speed.value")) return [no_update(), no_update(), no_update()];
        stop();
        if (has("step-fwd.n_clicks")) return [Math.min(Math.round(k) + 1, steps), steps, "▶ play"];
        if (has("step-back.n_clicks")) return [Math.max(Math.round(k) - 1, 0), steps, "▶ play"];
        if (has("restart.n_clicks")) return [0, steps, "▶ play"];
        return [no_update(), no_update(), no_update()];
      },

      /* draw frame k: paths so far, current positions, side-plot cursors, legend */
      draw: function (frame, meta) {
        if (!meta) return no_update();
        window.__optvizMeta = meta;
        state.meta = meta;
        var steps = meta.steps;
        var k = Math.max(0, Math.min(frame == null ? steps : frame, steps));
        if (player.playing && Math.abs(k - player.k) > 2 * player.speed + 1) player.k = k;
        if (!player.playing) renderWhenReady(k, 0);
        return k;
      },

      /* the side plots after the main one: hand them over on the next task, once the
       * paths of the new run are on the screen */
      sidePlots: function (figs) {
        if (!figs || figs.length !== 3) return [no_update(), no_update(), no_update()];
        var set = window.dash_clientside.set_props;
        if (!set) return figs;
        setTimeout(function () {
          set("loss-plot", {figure: figs[0]});
          set("lr-plot", {figure: figs[1]});
          set("gnorm-plot", {figure: figs[2]});
        }, 0);
        return [no_update(), no_update(), no_update()];
      },

      /* the update rules: typesetting them costs MathJax ~100 ms, so they are handed
       * over once the new paths have been drawn, and only when they changed */
      equationsLater: function (md) {
        if (typeof md !== "string" || md === state.equations) return no_update();
        state.equations = md;
        var set = window.dash_clientside.set_props;
        if (!set) return md;
        requestAnimationFrame(function () {
          setTimeout(function () { if (state.equations === md) set("equations", {children: md}); }, 30);
        });
        return no_update();
      },

      /* errors {box id or "row:uid": message} -> the boxes; unchanged boxes untouched */
      showErrors: function (errors) {
        errors = errors || {};
        var cc = window.dash_clientside.callback_context, outs = cc.outputs_list;
        var boxes = outs.slice(0, outs.length - 1), rowBoxes = outs[outs.length - 1] || [];
        var result = boxes.map(function (o) {
          return change(o.id, errors[o.id] || "");
        });
        result.push(rowBoxes.map(function (o) {
          return change(JSON.stringify(o.id), errors["row:" + o.id.row] || "");
        }));
        return result;
      },

      lrText: function (v) {
        if (v == null) return "";
        return "α = " + Number(Math.pow(10, v).toPrecision(2));
      },

      noiseText: function (v) {
        var el = document.getElementById("noise-text");
        var ref = el ? parseFloat(el.getAttribute("data-reference")) : 4;
        if (!v) return "σ = 0: full batch";
        var b = Math.pow(ref / v, 2);
        return "σ = " + v + " ≈ batch size " + (b >= 1 ? Math.round(b) : "< 1");
      },

      /* the setup's link -> the address bar (a new history entry), unless it is there */
      pushLink: function (query) {
        if (typeof query !== "string") return no_update();
        var search = query ? "?" + query : "";
        if (search !== window.location.search) {
          window.history.pushState(null, "", window.location.pathname + search);
        }
        return search;
      },

      resample: function () {
        return Math.floor(Math.random() * 1000000);
      },

      formulaField: function (surface) {
        return surface === "formula" ? {display: "flex"} : {display: "none"};
      },

      scheduleFields: function (s) {
        var show = {display: "inline-flex"}, hide = {display: "none"};
        return [s === "step" || s === "exponential" ? show : hide, s === "step" ? show : hide];
      }
    }
  });
})();
