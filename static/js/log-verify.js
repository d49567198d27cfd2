// Checks a petition's signature log in the browser: RFC 8785 entries, RFC 6962 root, Ed25519 head signature
// (WebCrypto), the net count, and optionally a signer's receipt. Mirrors undersign/verify.py.
(function () {
  "use strict";
  var form = document.getElementById("log-verify");
  var out = document.getElementById("log-verify-result");
  if (!form || !out) return;
  var enc = new TextEncoder();

  function canonical(v) {
    if (v === null || typeof v === "boolean" || typeof v === "number") return JSON.stringify(v);
    if (typeof v === "string") return JSON.stringify(v);
    if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
    var keys = Object.keys(v).sort(); // UTF-16 code unit order, as RFC 8785 wants
    return "{" + keys.map(function (k) { return JSON.stringify(k) + ":" + canonical(v[k]); }).join(",") + "}";
  }
  function concat(parts) {
    var n = parts.reduce(function (a, p) { return a + p.length; }, 0), r = new Uint8Array(n), o = 0;
    parts.forEach(function (p) { r.set(p, o); o += p.length; });
    return r;
  }
  function sha(bytes) { return crypto.subtle.digest("SHA-256", bytes).then(function (b) { return new Uint8Array(b); }); }
  function hex(b) { return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join(""); }
  function unhex(s) { var r = new Uint8Array(s.length / 2); for (var i = 0; i < r.length; i++) r[i] = parseInt(s.substr(i * 2, 2), 16); return r; }
  function unb64(s) { return Uint8Array.from(atob(s), function (c) { return c.charCodeAt(0); }); }
  async function root(leaves) {
    if (!leaves.length) return sha(new Uint8Array(0));
    var level = leaves;
    while (level.length > 1) {
      var next = [];
      for (var i = 0; i + 1 < level.length; i += 2) next.push(await sha(concat([Uint8Array.of(1), level[i], level[i + 1]])));
      if (level.length % 2) next.push(level[level.length - 1]);
      level = next;
    }
    return level[0];
  }
  function getJSON(path) {
    return fetch(path, { credentials: "omit" }).then(function (r) {
      if (!r.ok) throw new Error(path + ": " + r.status);
      return r.json();
    });
  }
  function say(text, ok) { out.textContent = text; out.className = ok ? "ok" : "error"; }
  function fill(t, values) { return t.replace(/%\((\w+)\)s/g, function (_, k) { return String(values[k]); }); }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var slug = form.dataset.slug, problems = [];
    try {
      var key = await getJSON("/.well-known/undersign-log-key");
      var head = await getJSON("/p/" + slug + "/log/head");
      var entries = [];
      while (entries.length < head.tree_size) {
        var page = (await getJSON("/p/" + slug + "/log/entries?start=" + entries.length + "&end=" + head.tree_size)).entries;
        if (!page.length) break;
        entries = entries.concat(page);
      }
      var leaves = [];
      for (var i = 0; i < entries.length; i++) leaves.push(await sha(concat([Uint8Array.of(0), enc.encode(canonical(entries[i]))])));
      if (leaves.length !== head.tree_size || hex(await root(leaves)) !== head.root_hash) problems.push("root");
      var signed = { campaign: head.campaign, tree_size: head.tree_size, root_hash: head.root_hash, timestamp: head.timestamp };
      var good;
      try {
        var pub = await crypto.subtle.importKey("raw", unb64(key.public_key), { name: "Ed25519" }, false, ["verify"]);
        good = await crypto.subtle.verify({ name: "Ed25519" }, pub, unb64(head.signature), enc.encode(canonical(signed)));
      } catch (e) { say(out.dataset.noWebcrypto, false); return; }
      if (!good) problems.push("signature");
      var published = {};
      (key.witnesses || []).forEach(function (w) { published[w.sponsor] = w.public_key; });
      var witnessed = [];
      for (var w = 0; w < (head.witnesses || []).length; w++) {
        var cosig = head.witnesses[w], wkey = published[cosig.sponsor], ok = false;
        if (wkey) {
          var wpub = await crypto.subtle.importKey("raw", unb64(wkey), { name: "Ed25519" }, false, ["verify"]);
          ok = await crypto.subtle.verify({ name: "Ed25519" }, wpub, unb64(cosig.signature), enc.encode(canonical(signed)));
        }
        if (ok) witnessed.push(cosig.sponsor); else problems.push("witness " + cosig.sponsor);
      }
      var net = entries.reduce(function (a, e) { return a + e.event.delta; }, 0);
      if (problems.length) { say(out.dataset.failed + " " + problems.join(", "), false); return; }
      var message = fill(out.dataset.ok, { n: entries.length, count: net });
      if (witnessed.length) message += " " + fill(out.dataset.witnessed, { sponsors: witnessed.join(", ") });
      var raw = form.elements.receipt.value.trim();
      if (raw) {
        var receipt = JSON.parse(raw);
        var email = form.elements.email.value.trim().toLowerCase();
        var commitment = hex(await sha(concat([unhex(receipt.salt), enc.encode(email)])));
        var entry = entries[receipt.index];
        if (!entry || entry.commitment !== commitment || entry.event.delta !== 1) { say(out.dataset.notYours, false); return; }
        message += " " + fill(out.dataset.included, { index: receipt.index });
      }
      say(message, true);
    } catch (e) { say(out.dataset.failed + " " + e.message, false); }
  });
})();
