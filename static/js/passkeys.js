// Passkeys (WebAuthn): registering one on the sign-in settings page, using one at the second step of
// signing in. The server sends the options as JSON (binary fields in base64url) and checks the answer;
// this script only converts between JSON and the browser's ArrayBuffers. Without WebAuthn the forms stay hidden.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) { return; }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(raw, function (ch) { return ch.charCodeAt(0); }).buffer;
  }
  function toText(buffer) {
    var raw = String.fromCharCode.apply(null, new Uint8Array(buffer));
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function withBytes(list) {
    return (list || []).map(function (item) { return Object.assign({}, item, { id: toBytes(item.id) }); });
  }
  function credentialJSON(credential) {
    var response = credential.response, out = {};
    ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"].forEach(function (key) {
      if (response[key]) { out[key] = toText(response[key]); }
    });
    if (response.getTransports) { out.transports = response.getTransports(); }
    return { id: credential.id, rawId: toText(credential.rawId), type: credential.type, response: out,
             clientExtensionResults: credential.getClientExtensionResults(),
             authenticatorAttachment: credential.authenticatorAttachment || undefined };
  }
  function post(form, url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": form.elements.csrf_token.value },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.error || "Something went wrong. Reload the page and try again."); }
        return data;
      });
    });
  }

  function wire(form, run) {
    var status = form.querySelector(".passkey-status");
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (status) { status.textContent = "Follow your browser's prompt…"; }
      post(form, form.getAttribute("data-options")).then(run).then(function (data) {
        window.location.assign(data.redirect);
      }).catch(function (error) {
        if (status) {
          status.textContent = error.name === "NotAllowedError" ? "The passkey was not used. You can try again." : error.message;
        }
      });
    });
  }

  var register = document.getElementById("passkey-register");
  if (register) {
    wire(register, function (options) {
      options.challenge = toBytes(options.challenge);
      options.user.id = toBytes(options.user.id);
      options.excludeCredentials = withBytes(options.excludeCredentials);
      return navigator.credentials.create({ publicKey: options }).then(function (credential) {
        return post(register, register.action, { name: register.elements.name.value, credential: credentialJSON(credential) });
      });
    });
  }
  var signIn = document.getElementById("passkey-sign-in");
  if (signIn) {
    wire(signIn, function (options) {
      options.challenge = toBytes(options.challenge);
      options.allowCredentials = withBytes(options.allowCredentials);
      return navigator.credentials.get({ publicKey: options }).then(function (credential) {
        return post(signIn, signIn.action, credentialJSON(credential));
      });
    });
  }
})();
