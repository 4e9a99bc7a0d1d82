/* optviz class mode in the page (the JSON API: optviz/web/classroom/api.py).
 *
 * "start a class" creates one: the page moves to /c/CODE and becomes the projector; its
 * key stays in this browser (localStorage; "copy instructor link" carries it in the
 * address's #fragment, which no server sees).
 *
 * One class state. The class's stored setup and playback are the truth: every page at
 * /c/CODE polls them each second (ETag: an unchanged class costs a 304) and applies
 * them. An instructor's device pushes its own changes, never on opening (it loads the
 * class's setup first), so two instructor devices follow each other and students follow
 * whichever changed last.
 *
 * The projector: one line (the code, the join address, a small QR code that enlarges, the
 * counts, the challenge and its countdown) that folds away, and a drawer over the
 * settings column for posing a challenge, the leaderboard (a table, updated in place
 * without moving focus; changes announced politely), the class picture and the names:
 * the plot and the play bar stay in view. A student: one line (following / on your own)
 * and the challenge (its text in the slides' symbols, the countdown, the name, submit,
 * their own best and rank). Touching any of the page's controls switches a student to
 * "on your own" until they follow again; what they type survives every projector change
 * (the bar is built once and updated in place). */
(function () {
  "use strict";
  var API = "/api/classes/";
  /* how often a page asks for the class (an unchanged class costs the server a 304 from
   * its memory, ~0.5 ms of CPU): with the page's own drawing, a change is on every
   * screen within about a second */
  var POLL_MS = 500;
  var state = {code: null, key: null, role: null, etag: null, following: true, data: null,
               ready: false, pushed: null, applying: null, results: null, tries: [],
               after: 0, triesFor: null, triesVersion: null, map: null, mapFor: null,
               mapStatus: null, skew: 0, timer: null, pushTimer: null, playTimer: null,
               closing: null, me: null, meAt: 0, board: "", drawer: false, folded: false,
               playbackApplied: null, joined: false};
  window.optvizClass = state;                      // (tests read it)

  function esc(s) { return window.optvizUtil.escapeHtml(s); }
  function fmt(v) { return window.optvizUtil.fmt(v); }
  function $(id) { return document.getElementById(id); }
  function panel() { return $("class-panel"); }
  function query() { return window.location.search.replace(/^\?/, ""); }
  function set() { return window.dash_clientside && window.dash_clientside.set_props; }
  function stored(name) {
    try { return window.localStorage.getItem(name); } catch (e) { return null; }
  }
  function store(name, value) {
    try { window.localStorage.setItem(name, value); } catch (e) { /* private mode */ }
  }
  function text(id, value) {                       // a text written only when it changes
    var el = $(id);
    if (el && el.textContent !== value) el.textContent = value;
  }
  function show(id, visible) {
    var el = $(id);
    if (el && el.hidden === !!visible) el.hidden = !visible;
  }

  function call(method, path, body, headers) {
    var h = Object.assign({"Content-Type": "application/json"}, headers || {});
    if (state.key) h["X-Class-Key"] = state.key;
    return fetch(path ? API + path : API.replace(/\/$/, ""), {method: method, headers: h,
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

  function say(err) {
    text("class-say", err && err.message ? err.message : String(err || ""));
  }

  /* this browser's token: its first try claims the name it uses in a class, and no
   * other browser can try under that name */
  function token() {
    var t = stored("optviz.student");
    if (!t || !/^[A-Za-z0-9_-]{16,100}$/.test(t)) {
      var bytes = new Uint8Array(18);
      window.crypto.getRandomValues(bytes);
      t = btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-")
        .replace(/\//g, "_").replace(/=+$/, "");
      store("optviz.student", t);
    }
    return t;
  }

  function now() { return Date.now() / 1000 + state.skew; }   // the server's clock

  /* -- the class state: followed, and pushed by an instructor's own changes -- */
  function applySetup(setup, values) {
    if (setup === query() || !set()) return false;
    state.applying = setup;
    clearTimeout(state.applyTimer);                // (a setup the page could not show)
    state.applyTimer = setTimeout(function () { state.applying = null; }, 10000);
    if (!setValues(setup, values)) set()("link", {data: "?" + setup});
    return true;
  }

  /* The usual change of a lecture, a slider or a start: the page shows the class's
   * surface, rows and view already, so the controls are set here from the values the
   * server parsed once for everyone (the answer's "values", callbacks.follow_values),
   * and one run request goes out. Anything else (a new surface, rows, scenario or
   * formula) is the link's: the server sets the page up (one more round trip). */
  var SHAPE = ["scenario", "surface", "f", "fv", "fm", "rows", "view"];
  function setValues(setup, values) {
    var api = window.dash_component_api;
    if (!values || !values.set || !api || !api.getLayout) return false;
    var now = new URLSearchParams(query()), next = new URLSearchParams(setup);
    if (!SHAPE.every(function (k) { return now.get(k) === next.get(k); })) return false;
    var put = set();
    put("start", {data: values.start});
    put("live-store", {data: values.live});
    Object.keys(values.set).forEach(function (id) {   // (only what differs: each set
      var node = api.getLayout(id), v = values.set[id];   // draws its control again)
      if (!node || !node.props || node.props.value !== v) put(id, {value: v});
    });
    put("applied", {data: Date.now() / 1000});        // (the run, once, for all of them)
    return true;
  }

  /* the projector's playback, once the page shows the setup it belongs to */
  function applyPlayback(data) {
    var p = data.playback;
    if (!p || !window.optvizPlayback || state.playbackApplied === data.version) return;
    if (query() !== data.state || !window.__optvizDrawn ||
        !window.__optvizMeta || window.__optvizDrawn !== window.__optvizMeta) {
      setTimeout(function () { applyPlayback(data); }, 100);   // (the run is on its way)
      return;
    }
    state.playbackApplied = data.version;
    state.remotePlayback = true;
    window.optvizPlayback(p, p.playing ? now() - p.at : 0);
    setTimeout(function () { state.remotePlayback = false; }, 300);
  }

  /* the class's setup is on the screen (optviz.js linkLater, as its run is drawn): from
   * now on a change is the instructor's own, even one made before the link is written
   * (a slider pressed the moment the projector followed must still reach the class) */
  state.setupShown = function (q) {
    if (state.applying === null || q !== state.applying) return;
    state.applying = null;
    clearTimeout(state.applyTimer);
  };

  /* the page's link just changed (optviz.js pushLink): an instructor's own change goes
   * to the class; the class's own setup, applied here, does not go back */
  state.setupChanged = function (q) {
    if (state.role !== "teacher" || !state.ready) return;
    if (state.applying !== null) {              // the class's setup on its way to the page:
      if (q === state.applying) state.applying = null;   // nothing of the page's goes out
      return;
    }
    if (state.data && q === state.data.state) return;
    clearTimeout(state.pushTimer);
    state.pushTimer = setTimeout(function () {
      if (state.data && q === state.data.state) return;
      state.pushed = q;
      call("PUT", state.code + "/state", {state: q}).then(function (j) {
        if (state.data && j.version >= state.data.version) {   // (no echo from our poll)
          state.data.version = j.version;
          state.data.state = q;
          state.etag = null;
        }
      }).catch(say);
    }, 250);
  };

  state.playbackChanged = function (p) {
    if (state.role !== "teacher" || !state.ready || state.remotePlayback) return;
    clearTimeout(state.playTimer);
    state.playTimer = setTimeout(function () {
      call("PUT", state.code + "/playback", p).then(function (j) {
        if (state.data) { state.data.version = j.version; state.playbackApplied = j.version; }
      }).catch(say);
    }, 200);
  };

  function poll() {
    clearTimeout(state.timer);
    if (!state.code) return;
    var headers = state.etag ? {"If-None-Match": state.etag} : {};
    fetch(API + state.code, {headers: headers}).then(function (r) {
      if (r.status === 304) return null;
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          var err = new Error(j.error || ("the server answered " + r.status));
          err.status = r.status;
          throw err;
        });
      }
      state.etag = r.headers.get("ETag");
      return r.json();
    }).then(function (data) {
      if (data) received(data);
      if (state.role === "teacher" && state.data &&
          (data || Date.now() - (state.resultsAt || 0) > 1900)) {   // every 2 s, or news
        state.resultsAt = Date.now();
        if (state.data.challenge) return results();
        return call("GET", state.code + "/counts").then(function (j) {
          state.counts = j;
          render();
        });
      }
    }).catch(function (err) {
      if (state.data) { say(err); return; }
      var p = panel();                             // a wrong or closed code: say so
      if (p && err.status === 404) {
        p.hidden = false;
        p.innerHTML = '<div class="class-bar" role="alert"><b>Class ' + esc(state.code) +
          ":</b> " + esc(err.message) + "</div>";
        state.code = null;
      } else say(err);
    }).then(function () {
      if (state.code) state.timer = setTimeout(poll, POLL_MS);
    });
  }

  function received(data) {
    var old = state.data;
    state.data = data;
    state.skew = data.server_time - Date.now() / 1000;
    var follow = state.role === "teacher" || state.following;
    if (follow && (!old || old.state !== data.state || !state.ready)) {
      if (data.state !== state.pushed || state.role !== "teacher") {
        applySetup(data.state, data.values);
      }
    }
    if (follow) applyPlayback(data);
    state.ready = true;
    render();
  }

  /* -- the projector's results: only the tries it has not seen -- */
  function results() {
    var ch = state.data.challenge;
    if (state.triesFor !== ch.id || state.triesVersion !== state.data.version) {
      if (state.triesFor !== ch.id) { state.tries = []; state.after = 0; }
      else if (state.removed) { state.tries = []; state.after = 0; state.removed = false; }
      state.triesFor = ch.id;
      state.triesVersion = state.data.version;
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
      if (res.challenge.id !== ch.id) return;
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
    var ch = state.data && state.data.challenge, name = $("class-name");
    if (!ch || !name || !isOpen(ch)) return;
    var values = {};
    ch.knobs.forEach(function (k) { values[k] = knobValue(k); });
    store("optviz.class.name", name.value);
    text("class-say", "sending…");
    call("POST", state.code + "/challenges/" + ch.id + "/submissions",
         {name: name.value, values: values, token: token()}).then(function (j) {
      say("submitted: " + outcome(j.result, ch));
      mine(true);
    }).catch(function (err) {
      // busy (503) or too soon (429): sent again by itself, a few times
      if ((err.status === 503 || err.status === 429) && (attempt || 0) < 5) {
        say(err.message + " (sending again in " + err.retryAfter + " s)");
        setTimeout(function () { submit((attempt || 0) + 1); }, 1000 * err.retryAfter);
      } else say(err);
    });
  }

  /* a student's own best try and rank (after a try, then every 10 s) */
  function mine(now_) {
    var ch = state.data && state.data.challenge;
    if (!ch || state.role !== "student" || (!now_ && Date.now() - state.meAt < 10000)) return;
    state.meAt = Date.now();
    call("GET", state.code + "/challenges/" + ch.id + "/me", undefined,
         {"X-Student-Token": token()}).then(function (j) {
      state.me = j;
      state.meFor = ch.id;
      renderStudent();
    }).catch(function () { /* (shown on the next try) */ });
  }

  function outcome(r, ch) {
    if (r.diverged_at !== null) return "diverged at step " + r.diverged_at;
    var L = (ch.goal.training ? "test L = " : "L = ") + fmt(r.loss);
    if (reaches(ch)) {
      return (r.reached_at !== null ? "reached at step " + r.reached_at : "not reached") +
        ", " + L;
    }
    return L + " at step " + ch.steps;
  }

  /* a goal reached at a step: the loss within ε of the minimum, or a network's test
   * accuracy (the others rank the loss at the last step) */
  function reaches(ch) { return ch.goal.kind === "reach" || ch.goal.kind === "accuracy"; }

  /* a try's result in a few characters, for the leaderboard (outcome() in full) */
  function brief(r, ch) {
    if (r.diverged_at !== null) return "diverged";
    if (reaches(ch) && r.reached_at !== null) return "step " + r.reached_at;
    return "L " + fmt(r.loss);
  }

  function isOpen(ch) {
    return ch.open && (ch.closes_at === null || ch.closes_at > now());
  }

  function clock(ch) {
    if (!ch || ch.closes_at === null) return ch && !ch.open ? "closed" : "";
    var left = ch.open ? Math.max(0, Math.ceil(ch.closes_at - now())) : 0;
    return left ? Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") + " left"
                : "time is up";
  }

  /* -- the panel: built once per role, then updated in place -- */
  function build() {
    var p = panel();
    p.hidden = false;
    p.classList.add(state.role === "teacher" ? "class-projector" : "class-student");
    if (state.role === "teacher") {
      p.innerHTML =
        '<div class="class-bar" id="class-bar">' +
        '<button class="class-qr-button" id="class-qr-button" title="show the QR code large">' +
        '<img class="class-qr" alt="QR code of the join address" src="' + API + esc(state.code) +
        '/qr.svg"></button>' +
        '<div class="class-id"><span class="class-code" id="class-code">' + esc(state.code) +
        '</span><span class="class-url" id="class-url"></span></div>' +
        '<span class="class-warn" id="class-warn" role="note" hidden></span>' +
        '<span class="class-counts" id="class-counts"></span>' +
        '<span class="class-now" id="class-now"></span>' +
        '<span class="class-clock" id="class-clock" aria-live="off"></span>' +
        '<span class="class-buttons"><button class="btn small" id="class-drawer-toggle" ' +
        'aria-expanded="false" aria-controls="class-drawer">challenge &amp; results</button>' +
        '<button class="btn small" id="class-fold" aria-expanded="true" ' +
        'title="fold the class bar away">fold</button></span></div>' +
        '<aside class="class-drawer" id="class-drawer" hidden aria-label="class: challenge ' +
        'and results">' +
        '<div class="class-drawer-head"><b>Class ' + esc(state.code) + '</b>' +
        '<button class="btn small" id="class-drawer-close" aria-label="close the drawer">' +
        '×</button></div>' +
        '<div id="class-challenge-box"></div>' +
        '<table class="class-board" id="class-board"><caption id="class-caption">' +
        'Leaderboard</caption><thead id="class-board-head"></thead>' +
        '<tbody id="class-board-body"></tbody></table>' +
        '<div class="sr-only" id="class-announce" role="status" aria-live="polite"></div>' +
        '<div id="class-picture" class="class-picture"></div>' +
        '<div class="class-actions"><label><input type="checkbox" id="class-names"> show ' +
        'names</label> <button class="btn small" id="class-csv">CSV</button> ' +
        '<button class="btn small" id="class-best" title="the best three students\' tries ' +
        'as rows of the plot, for everyone following">show the best on the plot</button> ' +
        '<button class="btn small" id="class-copy">copy instructor link</button></div>' +
        '<details class="class-more" id="class-pose-box"><summary>pose a new challenge' +
        '</summary><div id="class-pose-form"></div></details>' +
        '<details class="class-more" id="class-students"><summary>names and seats' +
        '</summary><div id="class-students-list"></div></details>' +
        '<div id="class-say" class="hint" role="status"></div></aside>' +
        '<div class="class-qr-full" id="class-qr-full" hidden><img alt="QR code of the join ' +
        'address" src="' + API + esc(state.code) + '/qr.svg"><div class="class-qr-full-url" ' +
        'id="class-qr-full-url"></div><button class="btn" id="class-qr-close">close</button>' +
        "</div>";
    } else {
      var name = stored("optviz.class.name") || "";
      p.innerHTML =
        '<div class="class-bar" id="class-bar"><b>Class ' + esc(state.code) + '</b> · ' +
        '<span id="class-mode"></span> ' +
        '<button class="btn small" id="class-away">try it yourself</button>' +
        '<button class="btn small" id="class-follow" hidden>follow again</button></div>' +
        '<div class="class-challenge" id="class-challenge" hidden>' +
        '<b id="class-challenge-word">Challenge:</b> <span id="class-text"></span> ' +
        '<span class="class-clock" id="class-clock"></span> ' +
        '<span id="class-entry"><label>your name <input id="class-name" maxlength="24" ' +
        'autocomplete="nickname" value="' + esc(name) + '"></label> ' +
        '<button class="btn small" id="class-submit">submit my values</button></span> ' +
        '<span id="class-me" class="class-me"></span></div>' +
        '<div id="class-say" class="hint" role="status"></div>';
    }
    state.built = state.role;
  }

  function render() {
    if (!panel() || !state.code || !state.data) return;
    if (state.built !== state.role) build();
    if (state.role === "teacher") renderProjector();
    else renderStudent();
  }

  function renderProjector() {
    var d = state.data, ch = d.challenge, url = d.url || (window.location.origin + "/c/" + state.code);
    text("class-url", url);
    text("class-qr-full-url", url);
    var host = url.replace(/^https?:\/\//, "").split(/[/:]/)[0];
    var loop = /^(127\.|localhost$|\[?::1\]?$|0\.0\.0\.0$)/.test(host) || host === "[";
    text("class-warn", loop ? "⚠ phones cannot reach " + host : "");
    if (loop) {
      $("class-warn").title = "This address works only on this computer. Serve the page " +
        "on the network (HOST=0.0.0.0) and set OPTVIZ_PUBLIC_URL to the address students " +
        "type: see docs/classes.md.";
    }
    show("class-warn", loop);
    var p = panel();
    p.classList.toggle("class-folded", state.folded);
    $("class-fold").textContent = state.folded ? "unfold" : "fold";
    $("class-fold").setAttribute("aria-expanded", String(!state.folded));
    var res = state.results && ch && state.results.challenge.id === ch.id ? state.results : null;
    text("class-counts", (res ? res.joined : (state.counts || {joined: 0}).joined) + " joined" +
         (res ? " · " + state.tries.length + " tries" : ""));
    text("class-now", ch ? (isOpen(ch) ? "" : "closed: ") + ch.text : "");
    text("class-clock", clock(ch));
    renderChallengeBox(ch);
    text("class-drawer-clock", clock(ch));
    if (ch && ch.open && ch.closes_at !== null && ch.closes_at <= now() &&
        state.closing !== ch.id) {                 // the time is up: close it, once
      state.closing = ch.id;
      call("POST", state.code + "/challenges/" + ch.id + "/close").then(function () {
        state.etag = null;
      }).catch(say);
    }
  }

  /* the drawer's top: the challenge that runs (and "close it"), or the last one; the
   * form to pose one, open while there is none */
  function renderChallengeBox(ch) {
    var box = $("class-challenge-box"), open = ch && isOpen(ch);
    var key = ch ? (open ? "open " : "closed ") + ch.id : "none";
    if (!box || box.getAttribute("data-key") === key) return;
    box.setAttribute("data-key", key);
    box.innerHTML = !ch ? '<p class="hint">No challenge yet: pose one below.</p>' :
      '<div class="class-running"><b>' + (open ? "Challenge" : "Closed") + ":</b> " +
      esc(ch.text) + (open ? ' <span class="class-clock" id="class-drawer-clock"></span>' +
      ' <button class="btn small" id="class-close">close it</button>' : "") + "</div>";
    var form = $("class-pose-form");
    if (!form.innerHTML) form.innerHTML = poseForm();
    $("class-pose-box").open = !open && !ch;      // (open at first; folded under results)
    show("class-board", !!ch);
  }

  function poseForm() {
    var symbols = {lr: "α", mu: "μ / β₁", b2: "β₂ / ρ", sigma: "σ"};
    return '<div>turning ' + ["lr", "mu", "b2", "sigma"].map(function (k) {
        return '<label><input type="checkbox" name="class-knob" value="' + k + '"' +
          (k === "lr" || k === "mu" ? " checked" : "") + "> " + symbols[k] + "</label>";
      }).join(" ") + '</div><div><label>goal <select id="class-goal">' +
      '<option value="reach">the loss within ε of the minimum</option>' +
      '<option value="lowest">the lowest loss (a network: test loss)</option>' +
      '<option value="accuracy">a network: test accuracy ≥ a</option></select></label> ' +
      '<label>ε <input id="class-eps" class="num" type="number" value="0.001" step="any" ' +
      'min="1e-12"></label> <label>a <input id="class-acc" class="num" type="number" ' +
      'value="0.9" step="any" min="0" max="1"></label></div><div><label>steps <input id="class-steps" class="num" ' +
      'type="number" value="300" min="1" max="5000"></label> <label>minutes <input ' +
      'id="class-minutes" class="num" type="number" min="0.1" max="600" step="any" ' +
      'placeholder="no limit"></label> <button class="btn small" id="class-pose">pose' +
      "</button></div>";
  }

  function renderStudent() {
    var d = state.data, ch = d.challenge;
    text("class-mode", state.following ? "following the projector"
         : "on your own: the projector's changes no longer move your page");
    show("class-away", state.following);
    show("class-follow", !state.following);
    show("class-challenge", !!ch);                 // (a closed one stays, with its end)
    if (!ch) return;
    var open = isOpen(ch);
    text("class-challenge-word", open ? "Challenge:" : "Closed:");
    text("class-text", ch.text || ch.knobs.join(", "));
    text("class-clock", clock(ch));
    show("class-entry", open);
    var me = state.me && state.meFor === ch.id ? state.me : null;
    text("class-me", me && me.best ? "your best: " + outcome(me.best, ch) + " · rank " +
         me.rank + " of " + me.of : "");
  }

  /* -- the leaderboard, in place: rows rebuilt only when they change, focus kept -- */
  function renderResults() {
    var res = state.results, ch = res && res.challenge;
    if (!ch || !$("class-board-body")) return;
    var names = res.show_names, board = res.board;
    $("class-names").checked = names;
    text("class-caption", "Leaderboard: each student's best try (" + res.tried + " of " +
         res.joined + " joined have tried; " + state.tries.length + " tries in all)");
    var head = "<tr><th scope=col>#</th><th scope=col>student</th>" + ch.knobs.map(function (k) {
      return "<th scope=col>" + esc((ch.symbols || {})[k] || k) + "</th>";
    }).join("") + "<th scope=col>result</th><th scope=col><span class=sr-only>remove" +
      "</span></th></tr>";
    if ($("class-board-head").innerHTML !== head) $("class-board-head").innerHTML = head;
    var rows = board.map(function (s, i) {
      var who = names ? esc(s.name) : "student " + s.student;
      return "<tr data-id=" + s.id + "><td>" + (i + 1) + "</td><td>" + who + "</td>" +
        ch.knobs.map(function (k) { return "<td>" + fmt(s.values[k]) + "</td>"; }).join("") +
        '<td title="' + esc(outcome(s, ch)) + '">' + esc(brief(s, ch)) + "</td>" +
        '<td><button class="btn small class-remove" data-id="' + s.id + '" aria-label="' +
        "remove the try of " + who + '">×</button></td></tr>';
    }).join("");
    if (rows !== state.board) {
      var focused = document.activeElement, refocus = null;
      if (focused && focused.closest && focused.closest("#class-board-body")) {
        refocus = focused.getAttribute("data-id");
      }
      announce(board, names);
      state.board = rows;
      $("class-board-body").innerHTML = rows;
      if (refocus) {                            // (the same try's button, where it went)
        var again = document.querySelector('#class-board-body [data-id="' + refocus + '"].class-remove');
        if (again) again.focus();
      }
    }
    picture(ch, state.tries);
  }

  function announce(board, names) {
    var top = board[0], was = state.leader;
    if (!top) return;
    state.leader = top.id;
    if (was === undefined || was === top.id) return;
    text("class-announce", "New best: " + (names ? top.name : "student " + top.student) +
         ", " + outcome(top, state.results.challenge) + ".");
  }

  /* every try on the knob plane (or one knob against the loss), by outcome, over the map
   * of the same challenge */
  function picture(ch, subs) {
    var div = $("class-picture");
    if (!div || !window.Plotly || !subs.length || $("class-drawer").hidden) return;
    var kx = ch.knobs[0], ky = ch.knobs[1];
    var groups = {reached: [], other: [], diverged: []};
    subs.forEach(function (s) {
      var g = s.diverged_at !== null ? "diverged" :
        (reaches(ch) && s.reached_at === null ? "other" : "reached");
      groups[g].push(s);
    });
    var names = {reached: reaches(ch) ? "reached the goal" : "finished",
                 other: "not reached", diverged: "diverged"};
    var style = {reached: ["#009E73", "circle"], other: ["#E69F00", "diamond"],
                 diverged: ["#222", "x"]};
    var data = [];
    if (state.map && state.mapFor === ch.id && ky) {
      var m = state.map;
      data.push({type: "heatmap", x: m.x, y: m.y, z: m.z, colorscale: "Greys",
                 reversescale: true, opacity: 0.55, hoverinfo: "skip", showlegend: false,
                 colorbar: {title: {text: "log₁₀ L"}, thickness: 10, len: 0.9}});
    }
    data = data.concat(Object.keys(groups).map(function (g) {
      return {type: "scatter", mode: "markers", name: names[g],
              x: groups[g].map(function (s) { return s.values[kx]; }),
              y: groups[g].map(function (s) { return ky ? s.values[ky] : (s.loss || null); }),
              marker: {color: style[g][0], symbol: style[g][1], size: 10,
                       line: {width: 1, color: "white"}}};
    }));
    var sym = ch.symbols || {};
    window.Plotly.react(div, data, {
      margin: {l: 50, r: 10, t: 28, b: 40}, height: 240,
      legend: {orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: {size: 12}},
      xaxis: {title: {text: sym[kx] || kx}, type: /lr$/.test(kx) ? "log" : "linear"},
      yaxis: {title: {text: ky ? sym[ky] || ky : "final loss"},
              type: ky ? (/lr$/.test(ky) ? "log" : "linear") : "log"}},
      {displayModeBar: false, responsive: true});
    text("class-say", state.mapStatus === "computing" ? "computing the map of this " +
         "challenge…" : (state.mapStatus === "failed" ? "the map could not be computed" : ""));
  }

  function students() {
    call("GET", state.code + "/students").then(function (j) {
      var box = $("class-students-list");
      if (!box) return;
      box.innerHTML = j.students.length ? "<ul>" + j.students.map(function (s) {
        return "<li>" + esc(s.name) + " (student " + s.number + ", " + s.tries + " tries" +
          (s.blocked ? ", blocked" : "") + ') <button class="btn small class-unseat" ' +
          'data-id="' + s.id + '">remove</button> <button class="btn small class-block" ' +
          'data-id="' + s.id + '" data-blocked="' + s.blocked + '">' +
          (s.blocked ? "unblock" : "block") + "</button></li>";
      }).join("") + "</ul>" : '<p class="hint">nobody has tried yet</p>';
    }).catch(say);
  }

  /* -- clicks -- */
  document.addEventListener("click", function (ev) {
    var t = ev.target && ev.target.closest ? ev.target.closest("button, input") || ev.target
      : ev.target;
    var id = t && t.id;
    if (id === "class-start") start();
    else if (id === "class-away") { state.following = false; render(); }
    else if (id === "class-follow") {
      state.following = true;
      state.playbackApplied = null;
      if (state.data) {
        applySetup(state.data.state, state.data.values);
        applyPlayback(state.data);
      }
      render();
    } else if (id === "class-submit") submit();
    else if (id === "class-close") {
      call("POST", state.code + "/challenges/" + state.data.challenge.id + "/close")
        .then(function () { state.etag = null; poll(); }).catch(say);
    } else if (id === "class-pose") pose();
    else if (id === "class-copy") {
      var link = window.location.origin + "/c/" + state.code + "#key=" + state.key;
      (navigator.clipboard ? navigator.clipboard.writeText(link) : Promise.reject())
        .then(function () { say("copied: open it on your other device"); },
              function () { window.prompt("the instructor link (keep it private):", link); });
    } else if (id === "class-csv") csv();
    else if (id === "class-best") showBest();
    else if (id === "class-drawer-toggle" || id === "class-drawer-close") drawer(!state.drawer);
    else if (id === "class-fold") { state.folded = !state.folded; render(); }
    else if (id === "class-qr-button" || (t && t.closest && t.closest("#class-qr-button"))) {
      show("class-qr-full", true);
      $("class-qr-close").focus();
    } else if (id === "class-qr-close") show("class-qr-full", false);
    else if (t && t.classList && t.classList.contains("class-remove")) {
      state.removed = true;
      call("DELETE", state.code + "/challenges/" + state.data.challenge.id + "/submissions/" +
           t.getAttribute("data-id")).then(function () { state.etag = null; poll(); })
        .catch(say);
    } else if (t && t.classList && t.classList.contains("class-unseat")) {
      state.removed = true;
      call("DELETE", state.code + "/students/" + t.getAttribute("data-id"))
        .then(function () { students(); state.etag = null; poll(); }).catch(say);
    } else if (t && t.classList && t.classList.contains("class-block")) {
      state.removed = true;
      call("PUT", state.code + "/students/" + t.getAttribute("data-id"),
           {blocked: t.getAttribute("data-blocked") !== "true"})
        .then(function () { students(); state.etag = null; poll(); }).catch(say);
    } else if (id === "class-names") {
      call("PUT", state.code + "/names", {show_names: t.checked}).then(function () {
        state.board = "";
        return results();
      }).catch(say);
    }
  });
  document.addEventListener("toggle", function (ev) {
    if (ev.target && ev.target.id === "class-students" && ev.target.open) students();
  }, true);
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && $("class-qr-full") && !$("class-qr-full").hidden) {
      show("class-qr-full", false);
    } else if (ev.key === "Enter" && ev.target && ev.target.id === "class-name") submit();
  });

  function drawer(open) {
    state.drawer = open;
    show("class-drawer", open);
    $("class-drawer-toggle").setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("class-drawer-open", open);
    if (open) {
      $("class-drawer-close").focus();
      state.board = "";
      if (state.results) renderResults();
    }
  }

  /* a student who touches any of the page's own controls is on their own until they
   * follow again (the projector's next change would undo what they did) */
  var CONTROLS = "input, select, textarea, button, [role=slider], [role=combobox], " +
    ".Select, .dash-dropdown, .rc-slider, summary, label";
  function touched(ev) {
    var t = ev.target;
    if (state.role !== "student" || !state.following || !t || !t.closest) return;
    if (t.closest("#class-panel") || t.closest(".skip-link") || !t.closest(CONTROLS)) return;
    if (ev.type === "keydown" && /^(Tab|Shift|Control|Alt|Meta|Escape)$/.test(ev.key)) return;
    onYourOwn();
  }
  function onYourOwn() {
    if (state.role !== "student" || !state.following) return;
    state.following = false;
    say("on your own: press follow again to see the projector");
    render();
  }
  ["pointerdown", "keydown", "input"].forEach(function (kind) {
    document.addEventListener(kind, touched, true);
  });
  state.startSet = onYourOwn;                      // a tap on the plot (assets/optviz.js)

  function pose() {
    var knobs = Array.prototype.map.call(
      document.querySelectorAll("input[name=class-knob]:checked"), function (i) { return i.value; });
    var kind = $("class-goal").value;
    var goal = kind === "reach" ? {kind: "reach", epsilon: Number($("class-eps").value)}
      : kind === "accuracy" ? {kind: "accuracy", goal: Number($("class-acc").value)}
      : {kind: "lowest"};
    var minutes = $("class-minutes").value;
    var body = {knobs: knobs, goal: goal, steps: Number($("class-steps").value)};
    if (minutes !== "") body.minutes = Number(minutes);
    call("POST", state.code + "/challenges", body)
      .then(function () { state.etag = null; say(""); poll(); }).catch(say);
  }

  /* the best three students' tries that did not diverge, as copies of the challenge's
   * row with their own values, on the projector's plot (and so on every follower's) */
  function showBest() {
    var res = state.results, ch = res && res.challenge;
    if (!ch || !set()) return;
    var row = ch.goal.row, best = res.board.filter(function (s) {
      return s.diverged_at === null;
    }).slice(0, 3);
    if (!best.length) { say("no try that did not diverge yet"); return; }
    var params = new URLSearchParams(ch.state);
    params.set("steps", String(ch.steps));
    // (a network's σ is its minibatch, one for every row: the best try's, for all three)
    var knobs = ch.knobs.filter(function (k) { return !(ch.goal.training && k === "sigma"); });
    var sigma = best[0].values.sigma;
    if (knobs.length < ch.knobs.length && typeof sigma === "number") {
      params.set("sigma", String(sigma));
    }
    params.set("rows", best.map(function (s, i) {
      return (i ? row + "~" + (i + 1) : row) + knobs.map(function (k) {
        var name = k.indexOf(":") > 0 ? k.split(":")[1] : k;
        // (a try that left a knob out: the setup's own value for it)
        return typeof s.values[k] === "number" ? ":" + name + "=" + s.values[k] : "";
      }).join("");
    }).join(","));
    set()("link", {data: "?" + params.toString()});
  }

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
      store("optviz.class." + made.code, made.key);
      window.history.pushState(null, "", "/c/" + made.code + window.location.search);
      join(made.code);
    }).catch(function (e) { window.alert("could not start a class: " + e.message); });
  }

  function join(code) {
    state.code = code;
    var m = /(?:^|[#&])key=([A-Za-z0-9_-]+)/.exec(window.location.hash);
    if (m) {                                      // an instructor link: keep the key here,
      store("optviz.class." + code, m[1]);        // not in the address bar
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    state.key = stored("optviz.class." + code);
    state.role = state.key ? "teacher" : "student";
    state.etag = null;
    state.ready = false;
    var button = $("class-start");
    if (button) button.hidden = true;
    if (state.role === "student" && !state.joined) {
      state.joined = true;
      call("POST", code + "/join", {token: token()}).catch(function () { /* (a count) */ });
    }
    poll();
  }

  /* the countdown, and a student's rank now and then */
  setInterval(function () {
    if (!state.data || !state.code) return;
    render();
    var ch = state.data.challenge;
    if (state.role === "student" && ch && state.me && state.me.best) {
      if (isOpen(ch)) mine(false);                  // every 10 s while it runs,
      else if (state.meClosed !== ch.id) {          // and once when it has closed
        state.meClosed = ch.id;
        mine(true);
      }
    }
  }, 1000);

  /* a page opened at /c/CODE joins once Dash has drawn the panel */
  var m = /^\/c\/([A-Za-z0-9]{6})\/?$/.exec(window.location.pathname);
  if (m) {
    (function wait(tries) {
      if (panel()) join(m[1].toUpperCase());
      else if (tries < 600) setTimeout(function () { wait(tries + 1); }, 100);
    })(0);
  }
})();
