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

  /* fmt, escapeHtml and the drawing both this page and the index page's first picture
   * use: web/first_picture.js, inlined in the index page, which runs first */
  var DRAW = window.optvizDraw, fmt = DRAW.fmt, escapeHtml = DRAW.escapeHtml;

  /* Live as you drag. A slider moved (dragged, held, typed) changes the setup many times
   * a second; each change asks the server for a run. At most one such request is on its
   * way per page: a new one waits until the answer to the one before is back, and a
   * newer one takes the place of one waiting (which is answered "no update", HTTP 204,
   * as Dash takes it). So the paths follow a moving slider as fast as the server and
   * the page can draw, never fall behind it in a queue, and end on its last value.
   *
   * The sliders that follow a drag (α, μ / β₁, β₂ / ρ, σ) are not inputs of Dash's run
   * callback: a student's move asks here for the run Dash would ask for (askAhead), with
   * no pass of Dash over the page on the way (~15 ms before its requests, ~30 ms after
   * their answers, on this page's ~300 components). Every other change is Dash's own
   * request, through the same gate. Every answer is drawn here as it arrives (onRun);
   * Dash gets its own once the frame with the new paths is painted. */
  var gate = {busy: false, waiting: null, sent: 0, shown: 0,   // shown: the runs sent
              last: null, asked: null};                        // before the one on screen
  window.__optvizGate = gate;                    // (tests and benchmarks read it)
  var realFetch = window.fetch.bind(window);
  function isRun(url, opts) {
    return String(url).indexOf("_dash-update-component") >= 0 && opts &&
      typeof opts.body === "string" && opts.body.indexOf('"output":"run.data"') >= 0;
  }
  /* a request: {url, opts, and Dash's resolve and reject (none for the page's own)} ->
   * ``result`` ({status, statusText, headers, body, parsed} or {error}) handed back */
  function settle(req, result) {
    if (result.error) { if (req.reject) req.reject(result.error); return; }
    if (!req.resolve) return;
    var r = new Response(result.body, {status: result.status, statusText: result.statusText,
                                       headers: result.headers});
    if (result.parsed) r.json = function () { return Promise.resolve(result.parsed); };
    req.resolve(r);
  }
  function enqueue(req) {
    if (gate.waiting) settle(gate.waiting, {status: 204, body: null});
    gate.waiting = req;
    pump();
  }
  function pump() {
    if (gate.busy || !gate.waiting) return;
    var req = gate.waiting;
    gate.waiting = null;
    gate.busy = true;
    gate.sent++;
    realFetch(req.url, req.opts).then(function (r) {
      // (the whole answer, not only its headers, before the next one goes)
      return r.arrayBuffer().then(function (body) {
        return {status: r.status, statusText: r.statusText, headers: r.headers, body: body,
                parsed: r.status === 200 ? drawAnswer(body) : null};
      });
    }).then(function (result) {
      gate.busy = false;
      // Dash takes the answer once the frame with its paths is painted
      handOver(function () { settle(req, result); });
      pump();
    }, function (e) { gate.busy = false; settle(req, {error: e}); pump(); });
  }
  /* a run's answer -> drawn by onRun, here, as it arrives (the store Dash keeps is for
   * Dash); the answer parsed, for Dash to take as it is */
  function drawAnswer(body) {
    var parsed;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body));
    } catch (e) {
      return null;                                  // (Dash says what is wrong)
    }
    var run = parsed && parsed.response && parsed.response.run && parsed.response.run.data;
    try {
      if (run) onRun(run);
    } catch (e) {
      if (window.console) console.error("optviz: drawing a run failed", e);
    }
    return parsed;
  }
  function handOver(fn) {
    var done = false, once = function () { if (!done) { done = true; fn(); } };
    if (document.hidden) { once(); return; }        // (no frames in a hidden tab)
    requestAnimationFrame(function () { setTimeout(once, 0); });
    setTimeout(once, 250);
  }
  window.fetch = function (url, opts) {
    if (!isRun(url, opts)) return realFetch(url, opts);
    gate.last = {url: url, opts: opts};
    gate.asked = opts.body;
    return new Promise(function (resolve, reject) {
      enqueue({url: url, opts: opts, resolve: resolve, reject: reject});
    });
  };
  /* a student moved slider ``id``: the run request Dash would make (its last one's
   * inputs and states, with their values now on the page), unless it is the one made
   * last. (Dash itself asks for a run only when a link, a class or a control that is
   * not one of these sliders changes: see callbacks._RUN.) */
  function askAhead(id) {
    var last = gate.last, api = window.dash_component_api;
    if (!last || !api || !api.getLayout) return;
    var o;
    try {
      o = JSON.parse(last.opts.body);
      (o.inputs || []).concat(o.state || []).forEach(function (item) {
        var props = (api.getLayout(item.id) || {}).props || {};
        if (props[item.property] === undefined) delete item.value;
        else item.value = props[item.property];
      });
    } catch (e) {
      return;
    }
    o.changedPropIds = o.parsedChangedPropsIds = [id + ".value"];
    var body = JSON.stringify(o);
    if (body === gate.asked) return;
    gate.asked = body;
    enqueue({url: last.url, opts: Object.assign({}, last.opts, {body: body})});
  }

  // shared with assets/optviz_panels.js (loaded after this file)
  window.optvizUtil = {decode: decode, plot: plot, fmt: fmt, escapeHtml: escapeHtml};

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

  /* class mode (assets/optviz_class.js): a projector tells its followers when its
   * playback changes (play, pause, a step, the scrubber, the speed: not every frame);
   * a follower is set to the projector's */
  function playbackChanged() {
    var cls = window.optvizClass;
    if (cls && cls.playbackChanged && player.remote === null) {
      cls.playbackChanged({playing: player.playing, speed: player.speed,
                           frame: Math.round(player.playing ? player.k : (state.k || 0))});
    }
  }
  player.remote = null;             // a frame being set to follow the projector
  window.optvizPlayback = function (p, elapsed) {
    var set = window.dash_clientside.set_props;
    if (!set || !state.meta) return;
    var steps = state.meta.steps, speed = p.speed || player.speed;
    player.speed = speed;
    player.steps = steps;
    set("speed", {value: speed});
    if (p.playing) {
      var k = Math.min(steps, p.frame + Math.max(0, elapsed || 0) * speed * 30);
      if (k < steps) {
        start(k);
        set("play", {children: "❚❚ pause"});
        return;
      }
    }
    stop();
    var frame = Math.min(steps, p.playing ? steps : p.frame);
    player.remote = frame;
    set("scrub", {value: frame});
    set("play", {children: "▶ play"});
    renderWhenReady(frame, 0);
  };

  /* the scrubber's thumb and bar at step k of n, in place (Radix's own placement: the
   * thumb kept inside the track by half its width, less towards the middle) */
  function moveScrubber(k, n) {
    var root = document.querySelector("#scrub .dash-slider-root");
    var thumb = root && root.querySelector("[role=slider]");
    if (!thumb || !n) return;
    var pct = 100 * k / n, half = thumb.offsetWidth / 2;
    var offset = half - half * pct / 50;
    thumb.parentElement.style.left = "calc(" + pct + "% + " + offset + "px)";
    var range = root.querySelector(".dash-slider-range");
    if (range) range.style.right = (100 - pct) + "%";
    thumb.setAttribute("aria-valuenow", String(k));
  }

  function tick(now) {
    if (!player.playing || !state.meta) return;
    var dt = Math.min(now - player.last, 100);
    player.last = now;
    player.k = Math.min(player.k + player.speed * dt * 30 / 1000, player.steps);
    var k = Math.floor(player.k), done = player.k >= player.steps;
    render(k);
    player.frames++;
    if (done) player.playing = false;
    // the scrubber follows the frame on the screen only (its thumb and bar moved in
    // place, as Radix places them); Dash learns the step when the animation stops (each
    // set_props is a pass of Dash over the page and React's: 10 a second cost the race
    // a third of its frames)
    if (done || now - player.synced > 100) {
      player.synced = now;
      moveScrubber(k, player.steps);
    }
    if (done) {
      var set = window.dash_clientside.set_props;
      if (set) {
        set("scrub", {value: k});
        set("play", {children: "▶ play"});
      }
    }
    if (player.playing) requestAnimationFrame(tick);
  }

  /* Plotly: Dash's graphs fetch it from window._dashPlotlyJSURL when the first graph is
   * drawn. Here they are handed Plotly's cartesian bundle (vendor-plotly-cartesian.min.js
   * beside this file: a third of the full one to fetch and parse, so the first picture
   * comes sooner); the 3-D view needs the full bundle (WebGL surface and scatter3d),
   * fetched when a student picks 3-D (or a 3-D figure arrives first), and the main graph
   * is drawn again with it. Dash's graphs call window.Plotly each time: they all move
   * over. */
  var script = document.currentScript && document.currentScript.src;
  var CARTESIAN = script ? script.replace(/optviz\.js(\?.*)?$/, "vendor-plotly-cartesian.min.js") : null;
  var FULL = null;                                // Dash's own address of the full bundle
  Object.defineProperty(window, "_dashPlotlyJSURL", {
    configurable: true,
    get: function () { return CARTESIAN && !window.__optvizPlotlyFull ? CARTESIAN : FULL; },
    set: function (url) { FULL = url; },
  });
  var fullPlotly = null;                          // a promise, once asked for
  function loadFullPlotly() {
    if (!fullPlotly) {
      fullPlotly = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = FULL;
        s.async = true;
        s.onload = function () { window.__optvizPlotlyFull = true; resolve(); };
        s.onerror = function (e) { fullPlotly = null; reject(e); };
        document.head.appendChild(s);
      });
    }
    return fullPlotly;
  }
  document.addEventListener("change", function (ev) {   // 3-D picked: fetch while the
    var t = ev.target;                                   // server computes the run
    if (t && t.value === "3d" && t.closest && t.closest("#view")) loadFullPlotly();
  });

  /* a 3-D figure the cartesian bundle drew (an empty plot): to be drawn again, with the
   * full bundle (which may have arrived while the figure was being drawn) */
  function wants3d(gd) { return !!(gd.layout && gd.layout.scene) && !gd._fullLayout.scene; }

  /* the figures arrive with the data; Plotly may not have drawn them yet */
  function renderWhenReady(k, tries) {
    var gd = plot("graph");
    var ready = gd && gd._fullLayout && gd.data;
    if (ready && wants3d(gd)) {                   // a 3-D figure, drawn by the 2-D bundle
      var canvas = gd.parentNode.querySelector("canvas.optviz-frame");
      if (canvas) canvas.style.display = "none";
      loadFullPlotly().then(function () {
        var now = plot("graph");
        if (!now || !now.layout || !now.layout.scene) return;   // back to 2-D meanwhile
        if (now.__optvizRedrawn === now.layout) return;          // once a figure (no
        now.__optvizRedrawn = now.layout;                        // WebGL: no loop)
        window.Plotly.react(now, now.data, now.layout).then(function () {
          renderWhenReady(state.k === null ? k : state.k, 0);
        });
      });
      return;
    }
    if (ready) {
      if (!gd.__optvizHooked) {
        gd.__optvizHooked = true;
        hookClicks(gd);
        hookHover(gd);
        gd.on("plotly_afterplot", function () {   // new figure, zoom, resize
          var pending = state.figurePending;
          state.figurePending = false;
          if (!state.meta || state.k === null || (player.playing && !pending)) return;
          if (wants3d(gd)) renderWhenReady(state.k, 0);   // (the full bundle draws it)
          // (not in 3-D: there render() itself restyles, which would call us again)
          else if (!gd._fullLayout.scene || pending) render(state.k);
        });
      }
      // a new figure on its way (a new surface, view or rows): drawn over its own axes
      // when Plotly has drawn them (above), not over the old ones first
      if (state.figurePending) {
        state.k = k;
        return;
      }
      render(k);
    } else if (tries < 600) {         // a cold page on a slow machine: up to a minute
      setTimeout(function () { renderWhenReady(k, tries + 1); }, 100);
    }
  }

  /* A mouse over a path (drawn so far, within 10 px) names its point: the row, the step,
   * its loss and, for a network's training, how far the point is from the plane the
   * paths are projected on (meta row "dist"). The canvas has no hover of Plotly's. */
  function hookHover(gd) {
    var tip = null, pending = null;
    function hide() { if (tip) tip.hidden = true; }
    function show(ev) {
      var meta = state.meta, kept = trails;
      if (!meta || kept.meta !== meta || !kept.px || state.k === null ||
          !gd._fullLayout || gd._fullLayout.scene) { hide(); return; }
      var box = gd.getBoundingClientRect(), mx = ev.clientX - box.left,
        my = ev.clientY - box.top, best = null, bestD = 100;        // (10 px, squared)
      kept.px.forEach(function (p, i) {
        var n = Math.min(state.k, p[0].length - 1);
        for (var j = 0; j <= n; j++) {
          var dx = p[0][j] - mx, dy = p[1][j] - my, d = dx * dx + dy * dy;
          if (d < bestD) { bestD = d; best = [i, j]; }
        }
      });
      if (!best) { hide(); return; }
      var row = meta.rows[best[0]], j = best[1];
      row.__loss = row.__loss || decode(row.loss);
      var text = row.label + " · step " + j + " · L = " + fmt(row.__loss[j]);
      if (row.dist) {
        row.__dist = row.__dist || decode(row.dist);
        text += " · " + fmt(row.__dist[j]) + " off the plane";
      }
      if (!tip) {
        tip = layer(gd, "div", "path-tip");
        tip.setAttribute("role", "status");
      }
      tip.textContent = text;
      tip.hidden = false;
      tip.style.left = Math.min(kept.px[best[0]][0][j] + 12, gd.clientWidth - tip.offsetWidth - 4) + "px";
      tip.style.top = Math.max(4, kept.px[best[0]][1][j] - 34) + "px";
    }
    gd.addEventListener("pointermove", function (ev) {
      if (ev.pointerType !== "mouse" || ev.buttons) { hide(); return; }
      if (pending) return;
      pending = requestAnimationFrame(function () { pending = null; show(ev); });
    });
    gd.addEventListener("pointerleave", hide);
  }

  /* a click or a tap anywhere on the 2-D plot (not only on a point) sets the start. From
   * pointer events: on a touch screen Plotly takes the touch for its zoom box and the
   * browser sends no click. A press that moved (a zoom, a pan) or was held is not one. */
  function hookClicks(gd) {
    var down = null;
    gd.addEventListener("pointerdown", function (ev) {
      down = ev.isPrimary ? {x: ev.clientX, y: ev.clientY, t: Date.now()} : null;
    }, true);
    // (on the document: a mouse press puts Plotly's drag cover over the page)
    document.addEventListener("pointerup", function (ev) {
      var fl = gd._fullLayout, d = down;
      down = null;
      if (!d || !ev.isPrimary || !fl || fl.scene || !window.dash_clientside.set_props) return;
      if (Math.abs(ev.clientX - d.x) > 6 || Math.abs(ev.clientY - d.y) > 6 ||
          Date.now() - d.t > 700) return;
      var box = gd.getBoundingClientRect(), xa = fl.xaxis, ya = fl.yaxis;
      var px = ev.clientX - box.left - xa._offset, py = ev.clientY - box.top - ya._offset;
      if (px < 0 || py < 0 || px > xa._length || py > ya._length) return;
      if (ev.target.closest && ev.target.closest(".modebar")) return;   // its buttons
      window.dash_clientside.set_props("click-start",
        {data: [xa.p2c(px), ya.p2c(py), Date.now()]});
      if (window.optvizClass && window.optvizClass.startSet) window.optvizClass.startSet();
    }, true);
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

  /* MathJax (700 KB of script, ~300 ms to start and typeset) is fetched only once the
   * first picture is on the screen and the browser is idle, by typesetting a hidden "x"
   * (the primer, whose text never changes; in a mathjax_ignore box, so MathJax's own
   * first sweep of the page leaves it to Dash). Only once it is typeset are the update
   * rules (showEquations) and a row's rule (when its settings open; its LaTeX waits in
   * the settings' data-tex until then) handed over: math handed over while MathJax was
   * still loading could be redrawn by React meanwhile, and Dash then typeset the
   * detached copy (NaN sizes in the console). */
  var mathjax = null;
  function loadMathJax() {
    if (!mathjax) {
      mathjax = new Promise(function (resolve) {
        var box = document.querySelector(".mathjax-primer");
        if (box) box.inert = true;          // (MathJax makes its math focusable: not here)
        window.dash_clientside.set_props("mathjax-primer", {mathjax: true});
        (function poll(tries) {
          var done = document.querySelector("#mathjax-primer mjx-container");
          if (done) done.closest(".mathjax-primer").style.display = "none";   // (its work
          if (done || tries > 600) resolve();                                // is done)
          else setTimeout(function () { poll(tries + 1); }, 50);
        })(0);
      });
    }
    return mathjax;
  }
  function idle(fn) {
    if (window.requestIdleCallback) window.requestIdleCallback(fn, {timeout: 3000});
    else setTimeout(fn, 500);
  }
  function typesetRow(details) {
    var set = window.dash_clientside && window.dash_clientside.set_props;
    var el = details.querySelector(".row-eq");
    if (!set || !el || !el.id || el.classList.contains("typeset")) return;
    var id;
    try { id = JSON.parse(el.id); } catch (e) { return; }   // Dash's id of {type, row}
    el.classList.add("typeset");
    idle(function () {
      loadMathJax().then(function () {
        set(id, {children: "$" + details.getAttribute("data-tex") + "$", mathjax: true,
                 className: "row-eq typeset"});
      });
    });
  }
  function typesetShown() {
    document.querySelectorAll("details.row-settings[open]").forEach(typesetRow);
  }
  document.addEventListener("toggle", function (ev) {   // (toggle does not bubble)
    var d = ev.target;
    if (d.open && d.matches && d.matches("details.row-settings")) typesetRow(d);
    // Dash's html.Details does not report its toggles: "more optimizers" draws its
    // panels when first opened (callbacks.more_rows)
    var set = window.dash_clientside && window.dash_clientside.set_props;
    if (d.id === "more" && set) set("more", {open: d.open});
  }, true);

  /* The read-outs under α's and σ's sliders, written here as a slider moves (no
   * callback of Dash's: each is a pass of Dash over the page, and a moving slider's run
   * goes first): "α = 0.0347" (the slider moves in log10 α; a screen reader says α
   * itself, not "−1.46"), and σ as a batch size. α's box follows once the slider rests. */
  var lrBoxWritten = null, lrBoxTimer = null;   // α's box as the slider last wrote it
  function writeText(el, text) {
    if (!el || el.textContent === text) return;
    if (el.firstChild && el.firstChild.nodeType === 3 && !el.firstChild.nextSibling) {
      el.firstChild.nodeValue = text;               // (React's own text node, kept)
    } else {
      el.textContent = text;
    }
  }
  function lrMoved(v) {
    var a = Number(Math.pow(10, v).toPrecision(3)), text = "α = " + a;   // as the server
    writeText(document.getElementById("lr-text"), text);                // takes it
    var thumb = document.querySelector("#lr [role=slider]");
    if (thumb && thumb.getAttribute("aria-valuetext") !== text) {
      thumb.setAttribute("aria-valuetext", text);
    }
    // α's box once the slider rests, and not while typed in
    clearTimeout(lrBoxTimer);
    lrBoxTimer = setTimeout(function () {
      var box = document.getElementById("lr-box");
      if (box && document.activeElement !== box && Number(box.value) !== a &&
          window.dash_clientside.set_props) {
        lrBoxWritten = a;
        window.dash_clientside.set_props("lr-box", {value: a});
      }
    }, 200);
  }
  function noiseMoved(v) {
    var el = document.getElementById("noise-text");
    var ref = el ? parseFloat(el.getAttribute("data-reference")) : 4;
    var b = v ? Math.pow(ref / v, 2) : 0;
    writeText(el, !v ? "σ = 0: full batch"
                     : "σ = " + v + " ≈ batch size " + (b >= 1 ? Math.round(b) : "< 1"));
  }
  var READOUTS = {lr: lrMoved, noise: noiseMoved};
  /* a slider a student is moving (a key, a pointer or a finger on it, or its number
   * box, in the last second: not one a link or a class sets) */
  var touched = {};
  ["keydown", "pointerdown", "pointermove", "touchmove", "input", "change",
   "focusout"].forEach(function (type) {
    document.addEventListener(type, function (ev) {
      if (type === "pointermove" && !ev.buttons) return;
      var box = ev.target && ev.target.closest && ev.target.closest(".dash-slider-container");
      if (box && box.id) touched[box.id] = performance.now();
    }, {capture: true, passive: true});
  });
  function readout(thumb) {
    var box = thumb.closest && thumb.closest(".dash-slider-container");
    var v = parseFloat(thumb.getAttribute("aria-valuenow"));
    if (!box || !isFinite(v)) return;
    if (READOUTS[box.id]) READOUTS[box.id](v);
    if (box.classList.contains("follows") &&          // (layout.LIVE_SLIDERS)
        performance.now() - (touched[box.id] || -1e9) < 1000) askAhead(box.id);
  }
  var readoutsWatched = false;
  function watchReadouts() {                     // (from the first run: the page is there)
    if (readoutsWatched) return;
    readoutsWatched = true;
    Object.keys(READOUTS).forEach(function (id) {
      var thumb = document.querySelector("#" + id + " [role=slider]");
      if (thumb) readout(thumb);
    });
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) { readout(m.target); });
    }).observe(document.body, {subtree: true, attributes: true,
                               attributeFilter: ["aria-valuenow"]});
  }

  /* a new run (onRun): the player stopped (a live change keeps it playing from the
   * change's frame), the scrubber at the run's end, the run drawn */
  var scrubShown = {value: null, max: null, label: "▶ play"};
  function newRun(meta) {
    var wasPlaying = player.playing, steps = meta.steps;
    stop();
    state.meta = meta;
    window.__optvizMeta = meta;
    player.steps = steps;
    var k = steps, play = false;
    if (meta.resume != null) {                  // a live change: go on from its frame
      k = Math.min(meta.resume, steps);
      play = wasPlaying && k < steps;
    }
    var set = window.dash_clientside.set_props;
    if (set) {                                  // (only what changes: each is a pass of
      var props = {};                           // Dash over the page)
      if (scrubShown.max !== steps) { props.max = steps; scrubShown.max = steps; }
      if (scrubShown.value !== k) { props.value = k; scrubShown.value = k; }
      if (Object.keys(props).length) { player.remote = k; set("scrub", props); }
      var label = play ? "❚❚ pause" : "▶ play";
      if (scrubShown.label !== label) { scrubShown.label = label; set("play", {children: label}); }
    }
    renderWhenReady(k, 0);
    if (play) start(k);
  }

  /* 3-D, the same figure: the traces that moved, in place (the surface stays) */
  function moveTraces3d(moved) {
    var gd = plot("graph");
    if (!gd || !gd.data || !window.Plotly) return;
    var data = gd.data.slice();
    moved.traces.forEach(function (t, j) { data[moved.first + j] = t; });
    window.Plotly.react(gd, data, gd.layout);
  }

  /* errors {box id or "row:uid": message} -> the boxes; boxes whose text is unchanged
   * untouched */
  function showErrors(errors) {
    var set = window.dash_clientside.set_props;
    if (!set) return;
    Object.keys(Object.assign({}, shownErrors, errors)).forEach(function (key) {
      var text = errors[key] || "";
      if ((shownErrors[key] || "") === text) return;
      if (text) shownErrors[key] = text; else delete shownErrors[key];
      set(key.indexOf("row:") === 0 ? {type: "row-err", row: key.slice(4)} : key,
          {children: text});
    });
  }

  /* the setup's link, once the runs stop coming (a slider dragged makes one entry in
   * the history, not one a move): -> the query store, which the address bar, the
   * downloads, Explore and a class follow */
  var linkTimer = null, pendingQuery = null, addressAt = 0;
  // the link last handed to the query store: pushLink, which Dash calls a moment later,
  // pushes nothing older (a newer setup drawn, or Back pressed, in that moment would be
  // undone: the address went back to the older setup)
  var storeWanted = null;
  function linkLater(query) {
    if (typeof query !== "string") return;
    showAddress(query);
    if (window.optvizClass) window.optvizClass.setupShown(query);   // (a class's, drawn)
    clearTimeout(linkTimer);
    pendingQuery = query;
    storeWanted = null;              // (one on its way to the store is already older)
    linkTimer = setTimeout(function () {
      var set = window.dash_clientside.set_props;
      pendingQuery = null;
      storeWanted = query;
      if (set) set("query", {data: query});
    }, 150);
  }

  /* the address bar shows the setup on the screen at once (Back must return to the
   * setup before it, however soon it is pressed); the runs of one slider moved (each
   * within a second of the last) share one history entry */
  function showAddress(query) {
    var search = query ? "?" + query : "";
    shownLink = query;
    if (search === window.location.search) return;
    var now = Date.now(), url = window.location.pathname + search;
    if (now - addressAt < 1000) window.history.replaceState(null, "", url);
    else window.history.pushState(null, "", url);
    addressAt = now;
  }

  /* the update rules: typesetting them costs MathJax 100-200 ms, so they are handed
   * over once the new paths have been drawn, only when they changed, and only while
   * they are on the screen (a slider dragged with the rules out of sight typesets
   * nothing; scrolled into sight, the latest are) */
  function showEquations(md) {
    if (typeof md !== "string" || md === state.equations) return;
    state.equations = md;
    if (!window.dash_clientside.set_props) return;
    watchEquations();
    if (equationsInView) typesetEquations(md);
  }

  var equationsInView = false, equationsShown = null, equationsWatched = false;
  function typesetEquations(md) {
    requestAnimationFrame(function () {
      setTimeout(function () {
        if (state.equations !== md || equationsShown === md) return;
        idle(function () {
          loadMathJax().then(function () {
            if (state.equations !== md || equationsShown === md) return;
            equationsShown = md;
            window.dash_clientside.set_props("equations", {children: md, mathjax: true});
          });
        });
      }, 30);
    });
  }
  function watchEquations() {
    if (equationsWatched) return;
    var box = document.getElementById("equations");
    if (!box) {                       // (Dash draws its Markdown once that code is in)
      setTimeout(watchEquations, 200);
      return;
    }
    equationsWatched = true;
    if (!window.IntersectionObserver) { equationsInView = true; return; }
    new IntersectionObserver(function (entries) {
      equationsInView = entries.some(function (e) { return e.isIntersecting; });
      if (equationsInView && state.equations) typesetEquations(state.equations);
    }, {rootMargin: "200px"}).observe(box.closest(".equations-box") || box);
  }

  /* the side plots of a new run, once its paths are on the screen (three more Plotly
   * graphs drawn before them put off the first picture by a fifth) */
  /* fn once the browser has painted the frame being prepared (the paths a student is
   * waiting for go on the screen first; then the side plots and the rest) */
  function afterPaint(fn) {
    requestAnimationFrame(function () { setTimeout(fn, 0); });
  }

  function flushSide() {
    var figs = state.side;
    if (!figs || !window.dash_clientside.set_props) return;
    // while a slider moves (a run on its way or waiting), the paths only: the side plots
    // (~40 ms of Plotly) are drawn for the run the slider stops at
    if (gate.busy || gate.waiting) return;
    state.side = null;
    SIDE.forEach(function (id, i) {
      side.pending[id] = figs[i];
      watchSide(id);
      if (sideInView(id)) drawSide(id);
    });
  }

  /* A side plot out of view (below the fold on a laptop or a phone, the usual place) is
   * drawn when a quarter of it scrolls into view, not for every run: three Plotly redraws
   * were a third of what a new run cost a page, on every page following a class at once. */
  var SIDE = ["loss-plot", "lr-plot", "gnorm-plot"];
  var side = {pending: {}, watched: {}, observer: null};
  function sideInView(id) {
    var el = document.getElementById(id);
    if (!el) return false;
    var r = el.getBoundingClientRect(), h = window.innerHeight, w = window.innerWidth;
    if (!r.height || r.right <= 0 || r.left >= w) return false;
    return Math.min(r.bottom, h) - Math.max(r.top, 0) >= 0.25 * r.height;
  }
  function drawSide(id) {
    var fig = side.pending[id];
    if (!fig) return;
    delete side.pending[id];
    // Plotly draws it in its box (layout.py: a plain div, not one of Dash's graphs)
    var box = document.getElementById(id);
    if (!box || !window.Plotly) { side.pending[id] = fig; return; }
    var gd = plot(id);
    if (!gd) {
      gd = document.createElement("div");
      gd.style.height = "100%";
      box.appendChild(gd);
    }
    window.Plotly.react(gd, fig.data, fig.layout, {displayModeBar: false, responsive: true});
  }
  function watchSide(id) {
    var el = document.getElementById(id);
    if (!el || side.watched[id] === el) return;
    if (!window.IntersectionObserver) { drawSide(id); return; }
    if (!side.observer) {
      side.observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          if (e.isIntersecting && side.pending[e.target.id] && sideInView(e.target.id)) {
            drawSide(e.target.id);
          }
        });
      }, {threshold: [0, 0.25, 0.5, 1]});
    }
    side.watched[id] = el;
    side.observer.observe(el);
  }
  window.__optvizSide = side;                     // (tests read what waits)

  /* The data panel's figure (a data surface's samples and fits; a network's decision
   * boundaries, six Plotly subplots: a network's first picture took 1.3 s longer with
   * them drawn before its paths) waits, as the side plots do, for the paths on the screen,
   * a slider at rest and the panel in view. Until then the figure there is stale: the
   * frames do not restyle it (optviz_panels.js drawData). */
  function deferData(fig) {
    state.dataFig = fig;
    var gd = plot("data-plot");
    if (gd) gd.__optvizStale = true;
  }
  var dataWatch = {observer: null};
  function flushData() {
    var fig = state.dataFig, set = window.dash_clientside.set_props;
    if (!fig || !set || gate.busy || gate.waiting) return;
    var box = document.getElementById("data-box");
    if (box && window.IntersectionObserver && !dataWatch.observer) {
      dataWatch.observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) flushData();
      }, {threshold: [0, 0.25, 0.5, 1]});
      dataWatch.observer.observe(box);
    }
    if (box && window.IntersectionObserver && !sideInView("data-box")) return;
    state.dataFig = null;
    // its traces at the step on the screen once Plotly has drawn the new figure
    function drawn() {
      var gd = plot("data-plot");
      if (!gd) return;
      gd.__optvizStale = false;
      gd.__optvizBoundary = null;
      if (state.meta && state.k !== null && window.optvizPanels) {
        window.optvizPanels.drawData(state.meta, state.k);
      }
    }
    var gd = plot("data-plot"), tries = 0;
    if (gd && gd.once) {
      gd.once("plotly_afterplot", drawn);
    } else {
      (function first() {              // (the panel's graph not made yet: its first figure)
        var g = plot("data-plot");
        if (g && g._fullLayout) drawn();
        else if (tries++ < 200) setTimeout(first, 50);
      })();
    }
    set("data-plot", {figure: fig});
  }

  /* The index page's first picture (web/first_picture.py): when React puts the page in
   * place of the skeleton, its canvas and legend move into the real plot's box (in the
   * same task: no frame shows the box empty), drawn again at its size; render() removes
   * them once it has drawn the paths. */
  (function handOverFirstPicture() {
    var root = document.getElementById("react-entry-point");
    if (!root || !window.optvizFirst) return;
    new MutationObserver(function (mutations, observer) {
      var first = window.optvizFirst;
      if (!first) { observer.disconnect(); return; }
      if (root.querySelector(".skeleton")) return;
      var area = root.querySelector(".plot-area");
      if (!area) return;
      observer.disconnect();
      first.draw(area);
    }).observe(root, {childList: true, subtree: true});
  })();

  function render(k) {
    var gd = plot("graph");
    if (!state.meta || !gd || !gd._fullLayout) return;
    state.k = k;
    state.renderedK = k;
    state.renderedMeta = state.meta;
    if (state.typesetFor !== state.meta) {        // once per run, after its picture
      state.typesetFor = state.meta;
      setTimeout(typesetShown, 50);
    }
    var canvas = gd.parentNode.querySelector("canvas.optviz-frame");
    if (gd._fullLayout.scene) {                     // 3-D: Plotly draws the paths; the
      if (canvas) canvas.style.display = "none";    // 2-D overlay must not linger on top
      draw3d(gd, state.meta.rows, k);
    } else {
      if (canvas) canvas.style.display = "";
      draw2d(gd, state.meta, k);
    }
    if (window.optvizFirst) window.optvizFirst.remove();   // (the index's picture)
    if (window.__optvizDrawn !== state.meta) {      // for tests and benchmarks
      window.__optvizDrawn = state.meta;
      window.__optvizDrawnAt = performance.now();
    }
    if (state.side) afterPaint(flushSide);
    if (state.dataFig) afterPaint(flushData);
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
  var trails = {meta: null, geo: null};
  function offscreen(like) {
    var c = document.createElement("canvas");
    c.width = like.width;
    c.height = like.height;
    return c;
  }
  /* a layer's context, scaled and clipped to the plot area as the overlay's is */
  function layerContext(c, ratio, xa, ya) {
    var x = c.getContext("2d");
    x.save();
    x.setTransform(ratio, 0, 0, ratio, 0, 0);
    x.beginPath();
    x.rect(xa._offset, ya._offset, xa._length, ya._length);
    x.clip();
    x.lineJoin = "round";
    x.lineCap = "round";
    return x;
  }
  var strokePx = DRAW.strokePx;

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
    // Per run and plot geometry, kept: every row's path in pixels, the faint whole paths
    // drawn once on a layer of their own, and the bold paths so far drawn on another up
    // to the frame shown, extended by the new steps only while the animation plays
    // forward (23 rows x 1000 steps stroked anew every frame made 16 frames a second).
    var geo = [xa.range, ya.range, xa._offset, xa._length, ya._offset, ya._length,
               canvas.width, canvas.height, ratio].join();
    var kept = trails.meta === meta && trails.geo === geo ? trails : null;
    if (!kept) {
      kept = trails = {meta: meta, geo: geo, k: -1,
                       px: paths.map(function (p) {
                         var n = p[0].length, x = new Float32Array(n), y = new Float32Array(n);
                         for (var j = 0; j < n; j++) { x[j] = X(p[0][j]); y[j] = Y(p[1][j]); }
                         return [x, y];
                       }),
                       faint: offscreen(canvas), bold: offscreen(canvas)};
      kept.box = [xa._offset - 8, ya._offset - 8, xa._offset + xa._length + 8,
                  ya._offset + ya._length + 8];   // (a line's width beyond the clip)
      kept.len = kept.px.map(DRAW.pathLength);       // length along the path, for dashes
      var f = layerContext(kept.faint, ratio, xa, ya);
      f.globalAlpha = 0.45;                         // whole paths, faint
      f.lineWidth = 1.5;
      kept.px.forEach(function (p, i) {
        f.strokeStyle = rows[i].color;
        strokePx(f, p, 0, p[0].length - 1, kept.box, kept.len[i]);
      });
      f.restore();
    }
    var b = kept.bold.getContext("2d");
    if (k < kept.k) {                              // back: the paths so far anew
      b.setTransform(1, 0, 0, 1, 0, 0);
      b.clearRect(0, 0, kept.bold.width, kept.bold.height);
      kept.k = -1;
    }
    if (k > kept.k) {                               // paths so far, bold: the new steps
      b = layerContext(kept.bold, ratio, xa, ya);
      b.lineWidth = 3.5;
      kept.px.forEach(function (p, i) {
        var n = p[0].length - 1, from = Math.max(0, Math.min(kept.k, n)), to = Math.min(k, n);
        if (to <= from && kept.k >= 0) return;
        b.strokeStyle = rows[i].color;
        var dash = dashOf(rows, i);
        b.setLineDash(dash);
        if (dash.length) b.lineDashOffset = kept.len[i][from];    // (the dash runs on)
        strokePx(b, p, from, to, kept.box, kept.len[i]);
      });
      b.restore();
      kept.k = k;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(kept.faint, 0, 0);
    ctx.drawImage(kept.bold, 0, 0);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.setLineDash([]);
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
    var panels = window.optvizPanels;           // assets/optviz_panels.js
    if (panels && meta.inspect) panels.drawArrows(ctx, meta, paths, k, X, Y);
    ctx.restore();
    if (panels) {
      panels.drawInspector(meta, k);
      panels.drawGradCheck(meta, k);
      panels.drawData(meta, k);
    }
  }

  /* an element of ours laid over a Plotly graph, created once */
  function layer(gd, tag, className) {
    var el = gd.parentNode.querySelector(tag + "." + className);
    if (!el) {
      el = document.createElement(tag);
      el.className = className;
      if (getComputedStyle(gd.parentNode).position === "static") {   // (a positioned
        gd.parentNode.style.position = "relative";                   // box as it is)
      }
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

  /* Past four rows each path also has its own dash pattern (its legend swatch shows it),
   * so that rows stay apart without colour: a projector's washed-out colours, a
   * colour-blind student, a black-and-white printout. */
  function dashOf(rows, i) { return DRAW.dashOf(rows.length, i); }
  window.__optvizDashOf = dashOf;

  function drawLegend(meta, k) {
    var legend = document.getElementById("legend");
    if (!legend) return;
    var rows = meta.rows;
    legend.innerHTML = DRAW.legendHtml(rows, k, function (j) {
      var losses = decode(rows[j].loss);
      return losses.length ? losses[Math.min(k, losses.length - 1)] : null;
    });
    legend.classList.toggle("legend-wide", rows.length > 8);
    legend.classList.toggle("legend-many", rows.length > 16);
    if (state.legendFor !== meta) {               // once per run: no jumping while it plays
      state.legendFor = meta;
      describeRun(meta);
      placeLegend(legend, meta);
    }
  }

  /* The plot in words, once per run: a table of every row's final loss, the step its
   * loss first came within 1e-6 of the minimum's or the step it diverged, and a short
   * polite announcement of the best row (a screen reader hears a run change once, not
   * every frame of the animation). */
  function describeRun(meta) {
    var table = document.getElementById("results"), say = document.getElementById("run-summary");
    if (!table && !say) return;
    var offset = meta.loss_offset || 0, best = null, html = "<table><thead><tr><th>row</th>" +
      "<th>final loss</th><th>L − L* ≤ 10⁻⁶ from step</th><th>diverged at step</th>" +
      "</tr></thead><tbody>";
    meta.rows.forEach(function (r) {
      var L = decode(r.loss), reached = "–";
      for (var j = 0; j < L.length; j++) {
        if (L[j] - offset <= 1e-6) { reached = String(j); break; }
      }
      var final = r.final_loss;
      if (r.diverged_at < 0 && final != null && (best === null || final < best.final)) {
        best = {label: r.label, final: final};
      }
      html += '<tr data-uid="' + escapeHtml(r.uid) + '"><td>' + escapeHtml(r.label) + "</td><td>" +
        (final == null ? "–" : fmt(final)) + "</td><td>" + reached + "</td><td>" +
        (r.diverged_at >= 0 ? r.diverged_at : "–") + "</td></tr>";
    });
    if (table) table.innerHTML = html + "</tbody></table>";
    if (say) {
      var diverged = meta.rows.filter(function (r) { return r.diverged_at >= 0; }).length;
      say.textContent = "Run of " + meta.rows.length + " optimizers over " + meta.steps +
        " steps" + (best ? "; lowest final loss: " + best.label + ", " + fmt(best.final) : "") +
        (diverged ? "; " + diverged + " diverged" : "") + ".";
    }
  }

  /* The legend: under the plot on a phone, beside a 3-D scene, else where it hides
   * least of a 2-D plot (optvizDraw.placeLegend2d, web/first_picture.js). */
  /* a phone: the plot area as tall as the view box's shape needs (one unit of x is one
   * unit of y: a wide box in a tall area left half of it blank), within a third to a
   * half of the screen, so that the plot, its legend and the α slider share it */
  var PHONE = window.matchMedia("(max-width: 900px)");
  /* the screen's height in CSS pixels at scale 1: innerHeight grows while a phone shows
   * the page shrunk to fit something too wide (1448 px on a Pixel 7 while a network's
   * page loaded, which left its plot box 483 px high for a 202 px plot) */
  function screenHeight() {
    var vv = window.visualViewport;
    return vv ? vv.height * vv.scale : window.innerHeight;
  }
  function fitPlotArea(gd) {
    var area = gd.closest(".plot-area"), lay = gd.layout || {}, m = gd._fullLayout.margin;
    var xr = (lay.xaxis || {}).range, yr = (lay.yaxis || {}).range;
    if (!area || !xr || !yr || !m) return;
    var ratio = Math.abs(yr[1] - yr[0]) / Math.abs(xr[1] - xr[0]);
    var want = (area.clientWidth - m.l - m.r) * ratio + m.t + m.b, tall = screenHeight();
    var h = Math.round(Math.max(tall / 3, Math.min(tall / 2, want)));
    if (Math.abs(area.clientHeight - h) <= 2) return;
    area.style.setProperty("--plot-h", h + "px");
    // (Dash's graphs follow only the window's size); then the paths again, to scale
    Promise.all([gd, plot("graph-bg")].map(function (g) {
      return g ? window.Plotly.Plots.resize(g) : null;
    })).then(function () { if (state.k !== null && !player.playing) render(state.k); });
  }
  PHONE.addEventListener("change", function () {        // (a phone turned, a window
    var legend = document.getElementById("legend");    // resized past the break)
    if (legend && state.meta) placeLegend(legend, state.meta);
  });

  function placeLegend(legend, meta) {
    var gd = plot("graph");
    legend.classList.toggle("legend-below", PHONE.matches);
    legend.classList.remove("legend-beside");
    legend.style.left = legend.style.bottom = legend.style.right = legend.style.top = "";
    legend.style.maxWidth = legend.style.maxHeight = "";
    if (!gd || !gd._fullLayout) return;
    if (PHONE.matches) {
      var scene = gd._fullLayout.scene;
      if (!scene) fitPlotArea(gd);                // 3-D: the whole width for the scene
      else if (scene.domain.x[1] < 1) window.Plotly.relayout(gd, {"scene.domain.x": [0, 1]});
      return;
    }
    if (gd._fullLayout.scene) {       // 3-D: in the plot's right quarter, which the scene
      legend.classList.add("legend-beside");    // leaves free (plots._layout_figure)
      legend.style.maxWidth = Math.max(120, 0.26 * legend.parentNode.clientWidth - 8) + "px";
      legend.dataset.corner = "beside";
      return;
    }
    if (!gd._fullLayout.xaxis) return;
    var xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    var g = {xo: xa._offset, yo: ya._offset, xl: xa._length, yl: ya._length,
             X: function (v) { return xa._offset + xa.c2p(v); },
             Y: function (v) { return ya._offset + ya.c2p(v); }};
    // Plotly's modebar (zoom, pan, download) sits on the plot's top right. On a touch
    // screen it is always shown: there a legend in a top corner that would reach under it
    // goes just below it. (With a mouse it shows only while the pointer is over the plot;
    // making room for it there moved 17 rows to the valley floor of the Rosenbrock race.)
    var modebar = gd.querySelector(".modebar"), bar = null;
    if (modebar && modebar.offsetWidth && window.matchMedia("(hover: none)").matches) {
      var box = modebar.getBoundingClientRect(), origin = legend.parentNode.getBoundingClientRect();
      bar = {left: box.left - origin.left, below: box.bottom - origin.top + 2};
    }
    legend.dataset.corner = DRAW.placeLegend2d(legend, g, {
      marks: meta.marks, start: meta.start,
      paths: meta.rows.map(function (r) { return [decode(r.x), decode(r.y)]; })}, bar);
  }


  /* A press on a slider's mark (its "0.1" under the track) sets that mark's value,
   * exactly: the slider itself took the pointer's position (α = 0.0891). The value is
   * read from where Dash placed the mark (left: calc(P% ± the thumb's inset)). */
  document.addEventListener("pointerdown", function (ev) {
    // (the slider's root is over its marks: the press is found on a mark by its place)
    var root = ev.target && ev.target.closest && ev.target.closest(".dash-slider-root");
    var box = root && root.closest(".dash-slider-container[id]");
    var mark = null;
    if (box) {
      box.querySelectorAll(".dash-slider-mark").forEach(function (m) {
        var r = m.getBoundingClientRect();
        if (ev.clientX >= r.left - 2 && ev.clientX <= r.right + 2 &&
            ev.clientY >= r.top - 2 && ev.clientY <= r.bottom + 2) mark = m;
      });
    }
    var thumb = mark && box.querySelector("[role=slider]");
    var set = window.dash_clientside && window.dash_clientside.set_props;
    var pct = mark && /calc\(\s*(-?[\d.]+)%/.exec(mark.style.left || "");
    if (!thumb || !pct || !set || !ev.isPrimary) return;
    var lo = parseFloat(thumb.getAttribute("aria-valuemin")),
        hi = parseFloat(thumb.getAttribute("aria-valuemax"));
    if (!isFinite(lo) || !isFinite(hi)) return;
    ev.preventDefault();
    ev.stopPropagation();                        // (before the slider's own handler)
    var value = Math.round((lo + parseFloat(pct[1]) / 100 * (hi - lo)) * 1e4) / 1e4;
    set(box.id, {value: value});
    thumb.focus();
  }, true);

  /* The plot, focused: the arrow keys move the start point (a tenth of the view a
   * press, with Shift a fiftieth), as a click there would. */
  document.addEventListener("keydown", function (ev) {
    var area = ev.target;
    var moves = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1]};
    if (!area || !area.classList || !area.classList.contains("plot-area") ||
        !moves[ev.key] || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var gd = plot("graph"), fl = gd && gd._fullLayout, meta = state.meta;
    var set = window.dash_clientside.set_props;
    if (!fl || fl.scene || !fl.xaxis || !meta || !meta.start || !set) return;
    ev.preventDefault();                         // (not the page's scrolling)
    var xr = fl.xaxis.range, yr = fl.yaxis.range, part = ev.shiftKey ? 50 : 10;
    // (keys pressed in a row go on from the last one, not from the run drawn, which may
    // be one or two presses behind)
    var from = state.keyStart && Date.now() - state.keyStartAt < 1500 ? state.keyStart
      : meta.start;
    var x = Math.min(Math.max(xr[0], xr[1]), Math.max(Math.min(xr[0], xr[1]),
              from[0] + moves[ev.key][0] * Math.abs(xr[1] - xr[0]) / part));
    var y = Math.min(Math.max(yr[0], yr[1]), Math.max(Math.min(yr[0], yr[1]),
              from[1] + moves[ev.key][1] * Math.abs(yr[1] - yr[0]) / part));
    state.keyStart = [x, y];
    state.keyStartAt = Date.now();
    set("click-start", {data: [x, y, Date.now()]});
  });

  /* Links and history. The page pushes an entry for every new setup (pushLink) and
   * hears Back / Forward itself: dcc.Location never saw those pushes, so it took the
   * address as unchanged when Back returned to the bare one. Only an address that is
   * not the setup on the screen goes to the link callback (one request). */
  var shownLink = null;              // the link (query) of the setup on the screen
  function linkPart(search) {
    var s = String(search || "").replace(/^\?/, "");
    try { return decodeURIComponent(s); } catch (e) { return s; }
  }
  window.addEventListener("popstate", function () {
    var search = window.location.search, set = window.dash_clientside.set_props;
    // a setup drawn but not yet in the address (linkLater): it is the one on the screen,
    // and it is not pushed over the entry Back or Forward has just gone to
    var pending = pendingQuery;
    addressAt = 0;                   // (the next change is an entry of its own)
    clearTimeout(linkTimer);
    pendingQuery = null;
    storeWanted = null;              // (a link on its way to the store: no longer wanted)
    if (shownLink !== null && linkPart(search) === linkPart(shownLink)) {
      if (pending !== null) { storeWanted = pending; set("query", {data: pending}); }
      return;
    }
    set("link", {data: search});
  });

  /* a run -> on the screen (called by the gate as its answer arrives): the paths first
   * (from the frame a live change resumes at, else the last), then the side plots and
   * the rules when the browser is free; the scrubber, the errors and the address only
   * where they change */
  function onRun(run) {
    if (!run) return;
    watchReadouts();
    gate.shown = gate.sent;
    showErrors(run.errors || {});
    if (!run.meta) return;                          // refused: the last picture stays
    var set = window.dash_clientside.set_props;
    if (set && run.set) {                          // a new surface, a click, a link
      if (run.set.graph && run.set.graph.figure) {
        state.figurePending = true;
        setTimeout(function () {                   // (should Plotly never say so)
          if (state.figurePending) { state.figurePending = false; renderWhenReady(state.k, 0); }
        }, 2000);
      }
      Object.keys(run.set).forEach(function (id) {
        if (id === "data-plot") { deferData(run.set[id].figure); return; }
        set(id, run.set[id]);
      });
    }
    if (run.traces3d) moveTraces3d(run.traces3d);
    newRun(run.meta);
    if (state.dataFig) setTimeout(function () {     // (after the paths, as the side plots)
      if (!state.figurePending) flushData();
    }, 300);
    if (run.side) {
      state.side = run.side;                      // drawn by render(), or in 300 ms
      setTimeout(function () {                    // (not before a new figure's paths:
        if (!state.figurePending) flushSide();    // the first picture goes first)
      }, 300);
    }
    showEquations(run.equations);
    linkLater(run.query);
  }

  /* A number typed in a box and committed (Enter, or leaving the box) reaches the page
   * even when it is the box's first value: dcc 4.4's Input compares it with the value of
   * its last commit, not with the one a link, a class or a panel has set since (after
   * ?steps=60, typing 300 did nothing). After dcc's own handler, a committed number that
   * is not the value Dash holds is set. */
  function commitNumber(ev) {
    var el = ev.target;
    if (!el || el.tagName !== "INPUT" || el.type !== "number" || !el.id) return;
    if (ev.type === "keypress" && ev.key !== "Enter") return;
    setTimeout(function () {
      var api = window.dash_component_api, set = window.dash_clientside.set_props;
      if (!api || !api.getLayout || !set || !el.checkValidity()) return;
      var id = el.id;
      if (id.charAt(0) === "{") { try { id = JSON.parse(id); } catch (e) { return; } }
      var node;
      try { node = api.getLayout(id); } catch (e) { return; }   // (not one of Dash's)
      if (!node || !node.props || node.props.debounce !== true) return;
      var v = el.value === "" ? null : Number(el.value), now = node.props.value;
      if (v !== null && !isFinite(v)) return;
      if (v === now || (v === null && now === undefined)) return;
      set(id, {value: v});
    }, 0);
  }
  document.addEventListener("keypress", commitNumber, true);
  document.addEventListener("focusout", commitNumber, true);

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    optviz: {
      /* play / pause / step / restart -> [frame, max, play label]. Playing runs a
       * requestAnimationFrame loop in this file: no Dash callback and no server request
       * per frame; the scrub slider is moved a few times a second. (A new run is
       * onRun's.) */
      control: function (nPlay, nFwd, nBack, nRestart, speed, frame) {
        var steps = state.meta ? state.meta.steps : 0;
        var trig = (window.dash_clientside.callback_context.triggered || [])
          .map(function (t) { return t.prop_id; });
        var has = function (p) { return trig.indexOf(p) >= 0; };
        player.speed = speed || 1;
        player.steps = steps;
        var k = player.playing ? player.k : Math.max(0, Math.min(frame == null ? steps : frame, steps));
        var out = [no_update(), no_update(), no_update()];
        if (has("play.n_clicks")) {
          if (player.playing) { stop(); out = [Math.round(player.k), no_update(), "▶ play"]; }
          else {
            if (k >= steps) k = 0;
            start(k);
            out = [k, no_update(), "❚❚ pause"];
          }
        } else if (!has("speed.value")) {
          stop();
          if (has("step-fwd.n_clicks")) out = [Math.min(Math.round(k) + 1, steps), no_update(), "▶ play"];
          else if (has("step-back.n_clicks")) out = [Math.max(Math.round(k) - 1, 0), no_update(), "▶ play"];
          else if (has("restart.n_clicks")) out = [0, no_update(), "▶ play"];
        }
        if (typeof out[0] === "number") state.k = out[0];
        if (typeof out[2] === "string") scrubShown.label = out[2];
        playbackChanged();
        return out;
      },


      /* draw frame k (the scrubber moved): paths so far, current positions, side-plot
       * cursors, legend */
      draw: function (frame) {
        var meta = state.meta;
        if (!meta) return no_update();
        var steps = meta.steps;
        var k = Math.max(0, Math.min(frame == null ? steps : frame, steps));
        if (player.playing && Math.abs(k - player.k) > 2 * player.speed + 1) player.k = k;
        if (!player.playing) {
          // (the frame a new run was just drawn at: not again)
          if (k !== state.renderedK || state.renderedMeta !== meta) renderWhenReady(k, 0);
          if (player.remote === k) player.remote = null;   // (set by us, not the user)
          else if (frame !== state.scrubbed && meta === state.scrubbedIn) {
            playbackChanged();                             // the scrubber moved
          }
        }
        state.scrubbed = frame;
        state.scrubbedIn = meta;
        scrubShown.value = frame;                          // (where the scrubber is now)
        return k;
      },

      /* every optimizer row's controls (seven pattern-matched lists) -> one list, in page
       * order: [{row: uid, "row-on": [...], "row-lr": value, ...}] keyed by control type.
       * The server reads this one store instead of the seven lists: Dash's handling of
       * ~100 pattern-matched values cost a fifth of each request's CPU. */
      rowsStore: function () {
        var rows = Object.create(null), order = [];
        window.dash_clientside.callback_context.inputs_list.forEach(function (list) {
          (list || []).forEach(function (item) {
            var uid = item.id.row;
            if (!rows[uid]) { rows[uid] = {row: uid}; order.push(uid); }
            rows[uid][item.id.type] = item.value === undefined ? null : item.value;
          });
        });
        return order.map(function (uid) { return rows[uid]; });
      },

      /* α typed in its box -> the slider, in log10 α (a value out of range goes on to the
       * server, which says which range; a half-typed one waits for Enter) */
      lrBox: function (a, now) {
        if (typeof a !== "number" || !isFinite(a)) return no_update();
        // the box written by lrMoved is no one's request (answered, a slider moving fast
        // would be set back to where it was a moment ago, and back and forth)
        if (a === lrBoxWritten) return no_update();
        if (!(a >= 1e-5 && a <= 10)) {                 // (the slider would clamp it)
          showErrors(Object.assign({}, shownErrors, {"lr-err": "lr: α = " +
            Number(a.toPrecision(3)) + " is not in [1e-05, 10]"}));
          return no_update();
        }
        var v = Math.log10(a);
        if (typeof now === "number" && Math.abs(Math.pow(10, now) - a) <= 5e-4 * a) {
          return no_update();                          // (the slider's own value, shown)
        }
        touched.lr = performance.now();                // (its run: asked as the thumb moves)
        return v;
      },

      /* the setup's link -> the address bar (a new history entry), unless it is there */
      pushLink: function (query) {
        if (typeof query !== "string" || query !== storeWanted) return no_update();
        shownLink = query;
        var search = query ? "?" + query : "";
        if (search !== window.location.search) {
          window.history.pushState(null, "", window.location.pathname + search);
        }
        if (window.optvizClass) window.optvizClass.setupChanged(query);   // a projector
        return search;
      },

      /* the address at load -> the link callback, read from the address bar itself (a
         plain load of the bare address: nothing to apply, the layout is that setup) */
      linkAtLoad: function () {
        return linkPart(window.location.search) ? window.location.search : no_update();
      },

      resample: function () {
        return Math.floor(Math.random() * 1000000);
      },

      /* this tab's random id, for the server's one-exploration-per-browser rule */
      clientId: function (_id, known) {
        if (known) return no_update();
        if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
        return String(Math.random()).slice(2) + String(Date.now());
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
