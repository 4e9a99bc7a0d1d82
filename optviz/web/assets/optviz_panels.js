/* optviz: the panels around the plot, all in the browser: the state inspector (arrows
 * and table), the gradient check, a data surface's fits, the camera button's composite
 * PNG and "copy link". assets/optviz.js draws the frame and calls drawArrows,
 * drawInspector, drawGradCheck and drawData for it. */
(function () {
  "use strict";
  var U = window.optvizUtil, decode = U.decode, plot = U.plot, fmt = U.fmt,
    escapeHtml = U.escapeHtml;

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
      // an averaging optimizer's average after the update (ASGD): a hollow diamond
      var avg = (r.has || []).indexOf("average") >= 0 ? decode(r.average) : null;
      if (avg && avg.length) {
        var ax = X(avg[2 * t]), ay = Y(avg[2 * t + 1]);
        ctx.save();
        ctx.strokeStyle = r.color; ctx.lineWidth = 2.5;
        ctx.beginPath();
        ctx.moveTo(ax, ay - 8); ctx.lineTo(ax + 8, ay); ctx.lineTo(ax, ay + 8);
        ctx.lineTo(ax - 8, ay); ctx.closePath(); ctx.stroke();
        ctx.restore();
        drawn.push({uid: r.uid, kind: "average", x0: ax, y0: ay, x1: ax, y1: ay});
      }
    });
    window.__optvizArrows = {frame: k, update: t + 1, arrows: drawn};
  }

  /* "(x, y)": each number kept whole when a narrow table wraps the pair */
  function xy(x, y) {
    return '(<span class="n">' + fmt(x) + '</span>, <span class="n">' + fmt(y) + "</span>)";
  }

  function pair(a, t) {
    if (!a || !a.length) return "–";
    return xy(a[2 * t], a[2 * t + 1]);
  }

  function extra(r, t) {
    var shows = r.shows || {};
    var parts = Object.keys(shows).map(function (name) {
      var a = decode(r[name]);
      var value = a[2 * t] === a[2 * t + 1] ? fmt(a[2 * t]) : pair(a, t);
      return '<span title="' + escapeHtml(shows[name]) + '">' + escapeHtml(name) + ": " +
        value + "</span>";
    });
    return parts.length ? parts.join("<br>") : "–";
  }

  function drawInspector(meta, k) {
    var box = document.getElementById("inspector");
    if (!box) return;
    if (!meta.inspect) { if (box.innerHTML) box.innerHTML = ""; return; }
    var t = inspectedUpdate(meta, k);
    // what some optimizers show beyond m, v and the rate (ASGD's average, L-BFGS's
    // evaluations): one more column, "name: value" (one number where x and y agree)
    var more = meta.rows.some(function (r) { return r.shows && Object.keys(r.shows).length; });
    // the scrubber says "step k": this is the update from step k to step k + 1
    var html = '<div class="inspector-title">Update t = ' + (t + 1) + ', step ' + t + ' → ' +
      (t + 1) + ': the gradient at step ' + t + ', the step taken, the state after it' +
      ' <span class="hint">(dashed arrow: −g, direction only; solid: the step)</span></div>' +
      "<table><thead><tr><th>row</th><th>−g</th><th>step Δw</th><th>m</th><th>v</th>" +
      '<th title="effective per-coordinate rate, e.g. α / (√v̂ + ε)">rate</th>' +
      (more ? "<th>more</th>" : "") + "</tr></thead><tbody>";
    meta.rows.forEach(function (r) {
      var x = decode(r.x), y = decode(r.y), g = decode(r.g);
      var neg = g.length ? xy(-g[2 * t], -g[2 * t + 1]) : "–";
      var step = t + 1 < x.length ? xy(x[t + 1] - x[t], y[t + 1] - y[t]) : "–";
      var has = r.has || [];
      html += '<tr data-uid="' + escapeHtml(r.uid) + '"><td><span class="swatch" style="background:' +
        escapeHtml(r.color) + '"></span>' + escapeHtml(r.label) + "</td><td>" + neg + "</td><td>" +
        step + "</td><td>" + (has.indexOf("m") >= 0 ? pair(decode(r.m), t) : "–") + "</td><td>" +
        (has.indexOf("v") >= 0 ? pair(decode(r.v), t) : "–") + "</td><td>" +
        (has.indexOf("rate") >= 0 ? pair(decode(r.rate), t) : "–") + "</td>" +
        (more ? "<td>" + extra(r, t) + "</td>" : "") + "</tr>";
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
    if (!d || !gd || !gd.data || gd.__optvizStale ||
        gd.data.length < d.first + meta.rows.length) return;
    if (d.model === "boundary") { drawBoundaries(gd, meta, k); return; }
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

  /* a network's training: each row's map at the latest kept step at or before frame k
   * (meta.data.steps), put in its trace only when that step changes */
  function drawBoundaries(gd, meta, k) {
    var d = meta.data, j = 0;
    while (j + 1 < d.steps.length && d.steps[j + 1] <= k) j++;
    if (gd.__optvizBoundary && gd.__optvizBoundary.meta === meta &&
        gd.__optvizBoundary.j === j) return;
    gd.__optvizBoundary = {meta: meta, j: j};
    var z = [], idx = [];
    meta.rows.forEach(function (r, i) {
      if (d.z[i] && d.z[i][j]) { z.push(d.z[i][j]); idx.push(d.first + i); }
    });
    if (idx.length) window.Plotly.restyle(gd, {z: z}, idx);
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

  /* A network's panel (layout.py _network_panel) and the surface menu's name, kept as one:
   * a new name (the menu, a link, a scenario, a class) sets the panel's controls; a
   * control changed writes the name (only the keys off their defaults, in the defaults'
   * order; the keys the panel has no control for kept as they were) and puts it in the
   * menu. The server checks every key when it runs the name. */
  function networkBox(surface) {
    var keys = arguments[arguments.length - 1], options = arguments[arguments.length - 2];
    var names = Object.keys(keys.fields), values = [].slice.call(arguments, 1, 1 + names.length);
    var none = window.dash_clientside.no_update;
    var keep = names.map(function () { return none; });
    var prefix = typeof surface !== "string" ? null :
      Object.keys(keys.defaults).filter(function (p) { return surface.indexOf(p) === 0; })[0];
    document.body.classList.toggle("optviz-training", prefix === "train:");
    if (!prefix) return [none, none, true, none].concat(keep, [none]);
    var defaults = keys.defaults[prefix], given = {};
    surface.slice(prefix.length).split(";").forEach(function (part) {
      var eq = part.indexOf("=");
      if (eq > 0) given[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
    });
    var ctx = window.dash_clientside.callback_context;
    var byField = (ctx.triggered || []).some(function (t) {
      return t.prop_id && t.prop_id.indexOf("surface.") !== 0 && t.prop_id !== ".";
    });
    if (!byField) {                        // the name -> the controls
      var shown = names.map(function (k, i) {
        var v = k in given ? given[k] : defaults[k];
        if (v === undefined) return none;
        if (keys.numbers.indexOf(k) >= 0) v = isFinite(Number(v)) && v !== "" ? Number(v) : null;
        return v === values[i] ? none : v;
      });
      var planes = keys.planes[prefix].map(function (p) { return {label: p, value: p}; });
      var at = function (k) { return k in given ? given[k] : defaults[k]; };
      var summary = [at("data"), at("hidden") || "no hidden layer", at("act")].join(" · ");
      return [none, none, false, summary].concat(shown, [planes]);
    }
    names.forEach(function (k, i) {        // the controls -> the name
      var v = values[i];
      if (v === null || v === undefined || (v === "" && k !== "hidden")) return;
      if (k === "plane" && keys.planes[prefix].indexOf(v) < 0) return;
      v = String(v).trim();
      if (v === defaults[k]) delete given[k]; else given[k] = v;
    });
    var order = Object.keys(defaults).concat(Object.keys(given).filter(function (k) {
      return !(k in defaults);
    }));
    var body = order.filter(function (k) { return k in given; })
      .map(function (k) { return k + "=" + given[k]; }).join(";");
    var name = prefix + body;
    if (name === surface) return [none, none, none, none].concat(keep, [none]);
    var what = prefix === "net:" ? "network slice: " : "network training: ";
    var menu = (options || []).filter(function (o) {
      return o.value === prefix || String(o.value).indexOf(prefix) !== 0;
    });
    if (body) menu.splice(Math.max(0, menu.length - 1), 0, {label: what + body, value: name});
    return [name, menu, none, none].concat(keep, [none]);
  }
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    optvizNet: {networkBox: networkBox}});

  window.optvizPanels = {drawArrows: drawArrows, drawInspector: drawInspector,
                         drawGradCheck: drawGradCheck, drawData: drawData};
})();
