/* optviz class mode in the page (the JSON API: optviz/web/classroom/api.py).
 * "start a class" creates one: the page moves to /c/CODE and becomes the projector (the
 * code, the address, a QR code, challenges, the results and the class picture); its key
 * stays in this browser (localStorage; "copy instructor link" carries it in the address's
 * #fragment, which no server sees). A student's page at /c/CODE follows the projector's
 * setup (polled each second, ETag: an unchanged class costs a 304), breaks away with
 * "try it yourself", comes back with "follow again", and submits its knob values to a
 * challenge; the server computes the result. */
(function () {
  "use strict";
  var API = "/api/classes/";
  var state = {code: null, key: null, role: null, etag: null, following: true, data: null,
               results: null, busy: false, timer: null, pushTimer: null, shown: ""};
  window.optvizClass = state;                      // (tests read it)

  function esc(s) { return window.optvizUtil.escapeHtml(s); }
  function fmt(v) { return window.optvizUtil.fmt(v); }
  function panel() { return document.getElementById("class-panel"); }
  function query() { return window.location.search.replace(/^\?/, ""); }
  function stored(code) {
    try { return window.localStorage.getItem("optviz.class." + code); } catch (e) { return null; }
  }
  function store(code, key) {
    try { window.localStorage.setItem("optviz.class." + code, key); } catch (e) { /* private mode */ }
  }

  function call(method, path, body) {
    var headers = {"Content-Type": "application/json"};
    if (state.key) headers["X-Class-Key"] = state.key;
    return fetch(path ? API + path : API.replace(/\/$/, ""), {method: method, headers: headers,
                              body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) {
            var err = new Error(j.error || ("the server answered " + r.status));
            err.status = r.status;
            err.retryAfter = Number(r.headers.get("Retry-After")) || 1;
            throw err;
          }
          j.httpStatus = r.status;
          return j;
        });
      });
  }

  /* this browser's token: its first try claims the name it uses in a class, and no
   * other browser can try under that name */
  function token() {
    var t = null;
    try { t = window.localStorage.getItem("optviz.student"); } catch (e) { /* */ }
    if (!t || !/^[A-Za-z0-9_-]{16,100}$/.test(t)) {
      var bytes = new Uint8Array(18);
      window.crypto.getRandomValues(bytes);
      t = btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-")
        .replace(/\//g, "_").replace(/=+$/, "");
      try { window.localStorage.setItem("optviz.student", t); } catch (e) { /* */ }
    }
    return t;
  }

  /* -- the projector's setup, pushed as it changes (optviz.js pushLink calls this) -- */
  state.setupChanged = function (q) {
    if (state.role !== "teacher") return;
    clearTimeout(state.pushTimer);
    state.pushTimer = setTimeout(function () {
      call("PUT", state.code + "/state", {state: q}).catch(say);
    }, 250);
  };

  function say(err) {
    var box = document.getElementById("class-say");
    if (box) box.textContent = err && err.message ? err.message : String(err || "");
  }

  function apply(setup) {                          // a student follows the projector
    if (setup === query() || !window.dash_clientside.set_props) return;
    window.dash_clientside.set_props("link", {data: "?" + setup});
  }

  function poll() {
    clearTimeout(state.timer);
    if (!state.code) return;
    var headers = state.etag ? {"If-None-Match": state.etag} : {};
    fetch(API + state.code, {headers: headers}).then(function (r) {
      if (r.status === 304) return null;
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          throw new Error(j.error || ("the server answered " + r.status));
        });
      }
      state.etag = r.headers.get("ETag");
      return r.json();
    }).then(function (data) {
      if (data) {
        state.data = data;
        if (state.role === "student" && state.following) apply(data.state);
        render();
      }
      if (state.role === "teacher" && state.data && state.data.challenge) return results();
    }).catch(function (err) {
      if (state.data) { say(err); return; }
      var p = panel();                             // a wrong or closed code: say so
      if (p) {
        p.hidden = false;
        p.innerHTML = '<div class="class-bar" role="alert"><b>Class ' + esc(state.code) +
          ":</b> " + esc(err.message) + "</div>";
      }
    }).then(function () {
      state.timer = setTimeout(poll, state.role === "teacher" ? 2000 : 1000);
    });
  }

  /* the projector asks only for the tries it has not seen (and for all of them again
   * when the class's version says something was removed) */
  function results() {
    var ch = state.data.challenge;
    if (state.triesFor !== ch.id || state.triesVersion !== state.data.version) {
      state.triesFor = ch.id;
      state.triesVersion = state.data.version;
      state.tries = [];
      state.after = 0;
    }
    var map = (state.mapFor === ch.id && state.mapStatus !== "computing") ? Promise.resolve() :
      call("GET", state.code + "/challenges/" + ch.id + "/map").then(function (j) {
        state.map = j.map;
        state.mapStatus = j.status;
        state.mapFor = ch.id;
      });
    return map.then(function () {
      return call("GET", state.code + "/challenges/" + ch.id + "/results?after=" + state.after);
    }).then(function (res) {
      state.tries = state.tries.concat(res.tries);
      state.after = res.next;
      state.results = res;
      renderResults();
    });
  }

  /* -- what a student's page sends: the values its controls show -- */
  function knobValue(knob) {
    var row = null, name = knob;
    if (knob.indexOf(":") > 0) { row = knob.split(":")[0]; name = knob.split(":")[1]; }
    if (row) {
      var type = {lr: "row-lr", mu: "row-b1", b2: "row-b2", sigma: "row-noise"}[name];
      var box = document.getElementById(JSON.stringify({row: row, type: type}));
      if (box && box.value !== "") return Number(box.value);
    }
    if (name === "lr") {
      var h = document.querySelector("#lr [role=slider]");
      return Number(Math.pow(10, Number(h.getAttribute("aria-valuenow"))).toPrecision(3));
    }
    var id = {mu: "beta1", b2: "beta2", sigma: "noise"}[name];
    var input = document.querySelector("#" + id + " input");
    return input ? Number(input.value) : NaN;
  }

  function submit(attempt) {
    var ch = state.data && state.data.challenge, name = document.getElementById("class-name");
    if (!ch || !name) return;
    var values = {};
    ch.knobs.forEach(function (k) { values[k] = knobValue(k); });
    try { window.localStorage.setItem("optviz.class.name", name.value); } catch (e) { /* */ }
    call("POST", state.code + "/challenges/" + ch.id + "/submissions",
         {name: name.value, values: values, token: token()}).then(function (j) {
      say("submitted: " + outcome(j.result, ch));
    }).catch(function (err) {
      // busy (503) or too soon (429): sent again by itself, a few times
      if ((err.status === 503 || err.status === 429) && (attempt || 0) < 5) {
        say(err.message + " (sending again in " + err.retryAfter + " s)");
        setTimeout(function () { submit((attempt || 0) + 1); }, 1000 * err.retryAfter);
      } else say(err);
    });
  }

  function outcome(r, ch) {
    if (r.diverged_at !== null) return "diverged at step " + r.diverged_at;
    if (ch.goal.kind === "reach") {
      return (r.reached_at !== null ? "reached at step " + r.reached_at : "not reached") +
        ", L = " + fmt(r.loss);
    }
    return "L = " + fmt(r.loss) + " at step " + ch.steps;
  }

  function goalText(ch) {
    var g = ch.goal;
    return (g.kind === "reach" ? "reach L − L* ≤ " + g.epsilon + " within " + ch.steps +
            " steps" : "the lowest loss at step " + ch.steps) + " (row " + g.row +
           "), turning " + ch.knobs.join(", ");
  }

  /* -- the panel -- */
  function render() {
    var p = panel();
    if (!p || !state.code) return;
    p.hidden = false;
    var d = state.data || {}, ch = d.challenge, html;
    if (state.role === "teacher") {
      var url = window.location.origin + "/c/" + state.code;
      html = '<div class="class-join"><img class="class-qr" title="click: larger" alt="QR code of ' + esc(url) +
        '" src="' + API + state.code + '/qr.svg"><div><div class="class-code">' +
        esc(state.code) + '</div><div class="class-url">' + esc(url) + "</div>" +
        '<button class="btn small" id="class-copy">copy instructor link</button></div></div>' +
        '<div class="class-work">';
      if (ch && ch.open) {
        html += '<div><b>Challenge:</b> ' + esc(goalText(ch)) +
          ' <button class="btn small" id="class-close">close it</button></div>';
      } else {
        html += '<div class="class-pose"><b>Pose a challenge</b> from this setup: ' +
          ["lr", "mu", "b2", "sigma"].map(function (k) {
            return '<label><input type="checkbox" name="class-knob" value="' + k + '"' +
              (k === "lr" || k === "mu" ? " checked" : "") + "> " +
              {lr: "α", mu: "μ/β₁", b2: "β₂", sigma: "σ"}[k] + "</label>";
          }).join(" ") +
          ' <select id="class-goal" aria-label="goal"><option value="reach">reach L − L* ≤ ε</option>' +
          '<option value="lowest">lowest loss</option></select>' +
          ' <label>ε <input id="class-eps" class="num" type="number" value="0.001" step="any"></label>' +
          ' <label>steps <input id="class-steps" class="num" type="number" value="300" min="1" max="5000"></label>' +
          ' <label>minutes <input id="class-minutes" class="num" type="number" min="0.1" max="600" step="any" placeholder="no limit"></label>' +
          ' <button class="btn small" id="class-pose">pose</button>' +
          (ch ? ' <span class="hint">(the last one closed)</span>' : "") + "</div>";
      }
      html += '<div id="class-results"></div><div id="class-say" class="hint" role="status"></div></div>';
    } else {
      html = '<div class="class-bar"><b>Class ' + esc(state.code) + "</b> · " +
        (state.following ? 'following the projector <button class="btn small" id="class-away">try it yourself</button>'
                         : 'on your own <button class="btn small" id="class-follow">follow again</button>') + "</div>";
      if (ch && ch.open) {
        var name = "";
        try { name = window.localStorage.getItem("optviz.class.name") || ""; } catch (e) { /* */ }
        html += '<div class="class-challenge"><b>Challenge:</b> ' + esc(goalText(ch)) +
          ' <label>your name <input id="class-name" maxlength="24" value="' + esc(name) + '"></label>' +
          ' <button class="btn small" id="class-submit">submit my values</button></div>';
      }
      html += '<div id="class-say" class="hint" role="status"></div>';
    }
    var key = JSON.stringify([state.role, state.following, d.version, ch && ch.open]);
    if (key === state.shown) return;             // (keeps what a student is typing)
    state.shown = key;
    p.innerHTML = html;
    if (state.role === "teacher") renderResults();
  }

  function renderResults() {
    var box = document.getElementById("class-results"), res = state.results;
    if (!box || !res) return;
    var ch = res.challenge, subs = res.board;
    var html = '<div class="class-counts">' + res.students + " joined · " +
      state.tries.length + " tries" +
      (state.mapStatus === "computing" ? " · computing the map…" : "") + ' <label><input type="checkbox" id="class-names"' +
      (res.show_names ? " checked" : "") + "> show names</label>" +
      ' <button class="btn small" id="class-csv">CSV</button>' +
      ' <button class="btn small" id="class-best" title="the best three tries as rows of the ' +
      'plot, for everyone following">show the best on the plot</button></div>' +
      '<table class="class-board"><thead><tr><th>#</th><th>name</th>' +
      ch.knobs.map(function (k) { return "<th>" + esc(k) + "</th>"; }).join("") +
      "<th>result</th><th></th></tr></thead><tbody>";
    subs.slice(0, 10).forEach(function (s, i) {
      html += "<tr><td>" + (i + 1) + "</td><td>" + (res.show_names ? esc(s.name) : "student " + s.student) +
        "</td>" + ch.knobs.map(function (k) { return "<td>" + fmt(s.values[k]) + "</td>"; }).join("") +
        "<td>" + esc(outcome(s, ch)) + '</td><td><button class="btn small class-remove" ' +
        'data-id="' + s.id + '" aria-label="remove submission ' + s.id + '">remove</button></td></tr>';
    });
    box.innerHTML = html + '</tbody></table><div id="class-picture" class="class-picture"></div>';
    picture(ch, state.tries);
  }

  /* every submission on the knob plane (or one knob against the loss), by outcome */
  function picture(ch, subs) {
    var div = document.getElementById("class-picture");
    if (!div || !window.Plotly || !subs.length) return;
    var kx = ch.knobs[0], ky = ch.knobs[1];
    var groups = {reached: [], other: [], diverged: []};
    subs.forEach(function (s) {
      var g = s.diverged_at !== null ? "diverged" :
        (ch.goal.kind === "reach" && s.reached_at === null ? "other" : "reached");
      groups[g].push(s);
    });
    var names = {reached: ch.goal.kind === "reach" ? "reached the goal" : "finished",
                 other: "not reached", diverged: "diverged"};
    var style = {reached: ["#009E73", "circle"], other: ["#E69F00", "diamond"],
                 diverged: ["#222", "x"]};
    var data = [];
    if (state.map && state.mapFor === ch.id && ky) {   // the same challenge, computed
      var m = state.map;                                // over both knobs' ranges
      data.push({type: "heatmap", x: m.x, y: m.y, z: m.z, colorscale: "Greys",
                 reversescale: true, opacity: 0.55, hoverinfo: "skip", showlegend: false,
                 colorbar: {title: {text: "log₁₀ L"}, thickness: 10, len: 0.9}});
    }
    data = data.concat(Object.keys(groups).map(function (g) {
      return {type: "scatter", mode: "markers", name: names[g],
              x: groups[g].map(function (s) { return s.values[kx]; }),
              y: groups[g].map(function (s) { return ky ? s.values[ky] : (s.loss || null); }),
              marker: {color: style[g][0], symbol: style[g][1], size: 11,
                       line: {width: 1, color: "white"}}};
    }));
    window.Plotly.react(div, data, {
      margin: {l: 55, r: 10, t: 10, b: 40}, height: 200, legend: {orientation: "h", y: -0.3},
      xaxis: {title: {text: kx}, type: /lr$/.test(kx) ? "log" : "linear"},
      yaxis: {title: {text: ky || "final loss"}, type: ky ? (/lr$/.test(ky) ? "log" : "linear") : "log"}},
      {displayModeBar: false, responsive: true});
  }

  /* -- clicks -- */
  document.addEventListener("click", function (ev) {
    var t = ev.target, id = t && t.id;
    if (id === "class-start") start();
    else if (id === "class-away") { state.following = false; render(); }
    else if (id === "class-follow") {
      state.following = true;
      if (state.data) apply(state.data.state);
      render();
    } else if (id === "class-submit") submit();
    else if (id === "class-close") {
      call("POST", state.code + "/challenges/" + state.data.challenge.id + "/close")
        .then(poll).catch(say);
    } else if (id === "class-pose") pose();
    else if (id === "class-copy") {
      var link = window.location.origin + "/c/" + state.code + "#key=" + state.key;
      (navigator.clipboard ? navigator.clipboard.writeText(link) : Promise.reject())
        .then(function () { say("copied: open it on your other device"); },
              function () { window.prompt("the instructor link (keep it private):", link); });
    } else if (id === "class-csv") csv();
    else if (id === "class-best") showBest();
    else if (t && t.classList && t.classList.contains("class-remove")) {
      call("DELETE", state.code + "/challenges/" + state.data.challenge.id + "/submissions/" +
           t.getAttribute("data-id")).then(results).catch(say);
    }
    else if (id === "class-names") {
      call("PUT", state.code + "/names", {show_names: t.checked}).then(results).catch(say);
    }
  });

  function pose() {
    var knobs = Array.prototype.map.call(
      document.querySelectorAll("input[name=class-knob]:checked"), function (i) { return i.value; });
    var kind = document.getElementById("class-goal").value;
    var goal = kind === "reach" ? {kind: "reach", epsilon: Number(document.getElementById("class-eps").value)}
                                : {kind: "lowest"};
    var minutes = document.getElementById("class-minutes").value;
    var body = {knobs: knobs, goal: goal, steps: Number(document.getElementById("class-steps").value)};
    if (minutes !== "") body.minutes = Number(minutes);
    call("POST", state.code + "/challenges", body)
      .then(function () { state.etag = null; poll(); }).catch(say);
  }

  /* the best three tries that did not diverge, as copies of the challenge's row with
   * their own values, on the projector's plot (and so on every follower's) */
  function showBest() {
    var res = state.results, ch = res && res.challenge;
    if (!ch || !window.dash_clientside.set_props) return;
    var row = ch.goal.row, best = res.board.filter(function (s) {
      return s.diverged_at === null;
    }).slice(0, 3);
    if (!best.length) { say("no try that did not diverge yet"); return; }
    var params = new URLSearchParams(ch.state);
    params.set("steps", String(ch.steps));
    params.set("rows", best.map(function (s, i) {
      return (i ? row + "~" + (i + 1) : row) + ch.knobs.map(function (k) {
        var name = k.indexOf(":") > 0 ? k.split(":")[1] : k;
        return ":" + name + "=" + s.values[k];
      }).join("");
    }).join(","));
    window.dash_clientside.set_props("link", {data: "?" + params.toString()});
  }

  /* the QR code full height for the back of the hall, and back */
  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.classList && ev.target.classList.contains("class-qr")) {
      ev.target.classList.toggle("class-qr-big");
    }
  });

  function csv() {
    var ch = state.data.challenge;
    fetch(API + state.code + "/challenges/" + ch.id + "/results?format=csv",
          {headers: {"X-Class-Key": state.key}}).then(function (r) { return r.blob(); })
      .then(function (blob) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = "optviz-class-" + state.code + "-" + ch.id + ".csv";
        document.body.appendChild(a);
        a.click();
        a.remove();
      }).catch(say);
  }

  function start() {
    call("POST", "", {state: query()}).then(function (made) {
      store(made.code, made.key);
      window.history.pushState(null, "", "/c/" + made.code + window.location.search);
      join(made.code);
    }).catch(function (e) { window.alert("could not start a class: " + e.message); });
  }

  function join(code) {
    state.code = code;
    var m = /(?:^|[#&])key=([A-Za-z0-9_-]+)/.exec(window.location.hash);
    if (m) {                                      // an instructor link: keep the key here,
      store(code, m[1]);                          // not in the address bar
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    state.key = stored(code);
    state.role = state.key ? "teacher" : "student";
    state.etag = null;
    state.shown = "";
    var button = document.getElementById("class-start");
    if (button) button.hidden = true;
    poll();
  }

  /* a page opened at /c/CODE joins once Dash has drawn the panel */
  var m = /^\/c\/([A-Za-z0-9]{6})\/?$/.exec(window.location.pathname);
  if (m) {
    (function wait(tries) {
      if (panel()) join(m[1].toUpperCase());
      else if (tries < 600) setTimeout(function () { wait(tries + 1); }, 100);
    })(0);
  }
})();
