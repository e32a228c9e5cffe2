/* Encore player: turns each plain <audio controls> into play/pause, a waveform to seek on,
   time, previous/next in a pack and keyboard controls; reports what was heard (SPEC §9)
   to POST /v1/public/listens. Without this script the plain audio control still plays. */
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) return;
  var target = {};
  ["token", "slug", "ref"].forEach(function (k) {
    var v = main.getAttribute("data-beacon-" + k);
    if (v) target[k] = v;
  });
  function rid() {
    var a = new Uint8Array(12); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function stored(store, key) {
    try { var v = store.getItem(key); if (!v) { v = rid(); store.setItem(key, v); } return v; }
    catch (e) { return rid(); }
  }
  var visitorId = stored(window.localStorage, "encore.visitor");
  var sessionId = stored(window.sessionStorage, "encore.session");
  var queue = [];
  function flush() {
    while (queue.length) send(JSON.stringify({ beacons: queue.splice(0, 20) }));
  }
  function send(body) {
    var blob = new Blob([body], { type: "application/json" });
    if (!(navigator.sendBeacon && navigator.sendBeacon("/v1/public/listens", blob))) {
      fetch("/v1/public/listens", { method: "POST", body: body, keepalive: true,
        headers: { "content-type": "application/json" } }).catch(function () {});
    }
  }
  function fmt(s) {
    if (!isFinite(s) || s < 0) s = 0;
    s = Math.floor(s); return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }
  var players = [];

  function Player(box) {
    var self = this;
    var audio = box.querySelector("audio");
    var article = box.closest(".track");
    this.audio = audio; this.index = players.length; this.trackId = article.getAttribute("data-track-id");
    var title = article.querySelector("h2").textContent;
    var url = box.getAttribute("data-audio-url");
    var duration = parseFloat(box.getAttribute("data-duration")) || 0;
    // from: where the interval being heard began (null while not playing); at: the last
    // position reached by playing, which a seek's `seeking` event no longer tells
    var loaded = false, playId = null, from = null, at = 0, intervals = [];
    audio.removeAttribute("controls"); audio.removeAttribute("src"); audio.preload = "none";

    var controls = document.createElement("div"); controls.className = "controls";
    controls.setAttribute("role", "group"); controls.setAttribute("aria-label", "Player for " + title);
    function button(label, text, cls) {
      var b = document.createElement("button"); b.type = "button"; b.textContent = text;
      b.setAttribute("aria-label", label); if (cls) b.className = cls; controls.appendChild(b); return b;
    }
    var total = parseInt(box.getAttribute("data-total"), 10) || 1;
    var prev = total > 1 ? button("Previous track", "Previous", "secondary") : null;
    var play = button("Play " + title, "Play", "play");
    var next = total > 1 ? button("Next track", "Next", "secondary") : null;
    var time = document.createElement("span"); time.className = "time"; time.setAttribute("aria-live", "off");
    time.textContent = fmt(0) + " / " + fmt(duration); controls.appendChild(time);
    var wave = document.createElement("canvas"); wave.className = "wave"; wave.tabIndex = 0;
    wave.setAttribute("role", "slider"); wave.setAttribute("aria-label", "Seek in " + title);
    wave.setAttribute("aria-valuemin", "0"); wave.setAttribute("aria-valuemax", String(Math.round(duration)));
    wave.setAttribute("aria-valuenow", "0"); wave.setAttribute("aria-valuetext", fmt(0));
    box.appendChild(controls); box.appendChild(wave);
    var peaks = null;
    var peaksUrl = box.getAttribute("data-peaks-url");
    if (peaksUrl) {
      fetch(peaksUrl).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) { if (p && p.max && p.min) { peaks = p; draw(); } }).catch(function () {});
    }
    function length() { return isFinite(audio.duration) && audio.duration > 0 ? audio.duration : duration; }
    function draw() {
      var w = wave.clientWidth || 300, h = wave.clientHeight || 56, ratio = window.devicePixelRatio || 1;
      wave.width = w * ratio; wave.height = h * ratio;
      var g = wave.getContext("2d"); if (!g) return;
      g.scale(ratio, ratio); g.clearRect(0, 0, w, h);
      var done = length() ? audio.currentTime / length() : 0;
      if (peaks) {
        var n = peaks.max.length;
        wave.setAttribute("data-peaks", String(n));
        for (var x = 0; x < w; x++) {
          var i = Math.floor(x / w * n), top = (1 - peaks.max[i]) * h / 2, bottom = (1 - peaks.min[i]) * h / 2;
          g.fillStyle = x / w < done ? "#3b2fc9" : "#c9c6ee";
          g.fillRect(x, top, 1, Math.max(1, bottom - top));
        }
      } else {
        g.fillStyle = "#c9c6ee"; g.fillRect(0, h / 2 - 2, w, 4);
        g.fillStyle = "#3b2fc9"; g.fillRect(0, h / 2 - 2, w * done, 4);
      }
    }
    function close(to) {
      var end = to === undefined ? audio.currentTime : to;
      if (from !== null && end > from) intervals.push({ from: from, to: end });
      from = null;
    }
    function report() {
      close();
      if (playId && intervals.length) {
        var b = { visitorId: visitorId, sessionId: sessionId, playId: playId, trackId: self.trackId,
          intervals: intervals.splice(0, 50) };
        for (var k in target) b[k] = target[k];
        queue.push(b); flush();
      }
      if (!audio.paused) from = audio.currentTime;
    }
    this.report = report;
    function pick(signed) {
      var sources = signed.sources || [];
      for (var i = 0; i < sources.length; i++) {
        if (audio.canPlayType(sources[i].content_type)) return sources[i].url;
      }
      return signed.url;
    }
    // The signed URL is fetched before the click (`count=0`: not a play) and its first
    // bytes preloaded, so a click starts at once; the click itself is what counts the play
    // (one request, off the path to sound). The URL lives ~15 minutes: past it, or on an
    // error of the audio element (how an expired URL shows), a fresh one is fetched, also
    // uncounted, and playback resumes where it was.
    var expiresAt = 0, preparing = null, renewing = null, renewedAt = 0, wanted = false;
    var counted = false;
    function signedUrl() {
      return fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "count=0",
        { headers: { accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error("playback " + r.status); return r.json(); });
    }
    function use(signed) {
      audio.src = pick(signed); loaded = true;
      expiresAt = Date.parse(signed.expires_at) || 0;
    }
    function prepare() {
      if (!preparing) {
        preparing = signedUrl().then(function (signed) {
          // src first: a preload set while the page's own src (a counted /a/… URL) is
          // still the current source would fetch that one
          if (!loaded) { use(signed); audio.preload = "metadata"; }
        });
        preparing.catch(function () { preparing = null; });
      }
      return preparing;
    }
    this.prepare = prepare;
    function count() {
      if (counted) return;
      counted = true;
      fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin",
        keepalive: true }).catch(function () {});
    }
    function load() {
      if (renewing) return renewing;
      if (loaded) return expiresAt && Date.now() > expiresAt - 60000 ? renew() : Promise.resolve();
      return prepare();
    }
    function renew() {
      if (renewing) return renewing;
      var at = audio.currentTime;
      renewedAt = Date.now();
      renewing = signedUrl().then(function (signed) {
        return new Promise(function (done) {
          audio.addEventListener("loadedmetadata", function () { audio.currentTime = at; done(); }, { once: true });
          use(signed); audio.preload = "auto";
        });
      }).then(function () { renewing = null; if (wanted) return audio.play(); },
        function (e) { renewing = null; throw e; });
      return renewing;
    }
    audio.addEventListener("error", function () {
      if (!loaded || renewing || Date.now() - renewedAt < 10000) return;
      renew().catch(function () { time.textContent = "Can't play right now"; });
    });
    this.start = function () {
      players.forEach(function (p) { if (p !== self) p.pause(); });
      wanted = true; count();
      return load().then(function () { return audio.play(); }).catch(function () {
        time.textContent = "Can't play right now";
      });
    };
    this.pause = function () { wanted = false; audio.pause(); };
    this.toggle = function () { return audio.paused ? self.start() : self.pause(); };
    function seek(fraction) {
      var len = length(); if (!len) return;
      close(); audio.currentTime = Math.max(0, Math.min(len, fraction * len));
      tick();  // the next interval starts when the seek has landed (`seeked`)
    }
    play.addEventListener("click", function () { self.toggle(); });
    ["pointerenter", "focus"].forEach(function (n) { play.addEventListener(n, function () { prepare().catch(function () {}); }); });
    if (prev) prev.addEventListener("click", function () { go(self.index - 1); });
    if (next) next.addEventListener("click", function () { go(self.index + 1); });
    wave.addEventListener("click", function (e) {
      var r = wave.getBoundingClientRect();
      var seekTo = function () { seek((e.clientX - r.left) / r.width); };
      load().then(function () {
        if (audio.readyState >= 1) seekTo();
        else { audio.addEventListener("loadedmetadata", seekTo, { once: true }); audio.preload = "metadata"; }
      }).catch(function () {});
    });
    wave.addEventListener("keydown", function (e) {
      var len = length(); if (!len) return;
      if (e.key === "ArrowRight") { seek((audio.currentTime + 5) / len); e.preventDefault(); }
      else if (e.key === "ArrowLeft") { seek((audio.currentTime - 5) / len); e.preventDefault(); }
      else if (e.key === "Home") { seek(0); e.preventDefault(); }
      else if (e.key === "End") { seek(0.999); e.preventDefault(); }
    });
    audio.addEventListener("play", function () {
      if (!playId) playId = rid();
      from = audio.currentTime; play.textContent = "Pause"; play.setAttribute("aria-label", "Pause " + title);
    });
    audio.addEventListener("pause", function () {
      play.textContent = "Play"; play.setAttribute("aria-label", "Play " + title); report();
    });
    // a seek by any means (our waveform, the keyboard, the OS media controls): the interval
    // heard ends where playing had reached, and is reported at once (SPEC §9)
    audio.addEventListener("seeking", function () { close(at); report(); });
    audio.addEventListener("seeked", function () { if (!audio.paused) from = audio.currentTime; });
    audio.addEventListener("ended", function () { report(); playId = null; go(self.index + 1, true); });
    function tick() {
      if (!audio.seeking) at = audio.currentTime;
      time.textContent = fmt(audio.currentTime) + " / " + fmt(length());
      wave.setAttribute("aria-valuenow", String(Math.round(audio.currentTime)));
      wave.setAttribute("aria-valuetext", fmt(audio.currentTime) + " of " + fmt(length()));
      draw();
    }
    audio.addEventListener("timeupdate", tick);
    window.addEventListener("resize", draw);
    draw();
  }
  function go(index, auto) {
    var p = players[index];
    if (!p) return;
    players.forEach(function (o) { if (o !== p) o.pause(); });
    p.start();
    if (!auto) p.audio.closest(".track").scrollIntoView({ block: "nearest" });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".player"), function (box) {
    players.push(new Player(box));
  });
  if (players[0]) players[0].prepare().catch(function () {});  // the others on hover/focus
  setInterval(function () { players.forEach(function (p) { if (!p.audio.paused) p.report(); }); }, 10000);
  function leaving() { players.forEach(function (p) { p.report(); }); flush(); }
  window.addEventListener("pagehide", leaving);
  // mobile browsers may discard a hidden page without pagehide: report when it is hidden
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") leaving();
  });
  document.addEventListener("keydown", function (e) {
    if (e.target && /INPUT|TEXTAREA|BUTTON|CANVAS/.test(e.target.tagName)) return;
    var playing = players.filter(function (p) { return !p.audio.paused; })[0] || players[0];
    if (!playing) return;
    if (e.key === " " || e.key === "k") { playing.toggle(); e.preventDefault(); }
    else if (e.key === "n") go(playing.index + 1);
    else if (e.key === "p") go(playing.index - 1);
  });
  window.encorePlayers = players;
})();
