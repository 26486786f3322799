// Veil clinician viewer (minimal): subscribes to the patient's redacted stream through
// veil-server (never Janus directly), shows it, and shows what the patient's device reports on the
// data channel. Plain JS, no build step. The viewer token comes in the URL fragment, which browsers
// never send to the server.
'use strict';

(() => {
  const RETRY_MS = 2000;
  const KEEPALIVE_MS = 15000;
  const GATHER_TIMEOUT_MS = 3000;
  const GATHER_NO_CANDIDATE_EXTRA_MS = 7000;

  const consultationId = decodeURIComponent(location.pathname.split('/').pop());
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  // Keep the token out of the address bar, history and screenshots.
  history.replaceState(null, '', location.pathname);

  const $ = (id) => document.getElementById(id);
  const api = `/api/v1/consultations/${encodeURIComponent(consultationId)}/subscribe`;
  const headers = { Authorization: `Bearer ${token}` };

  // Read by tests and handy in the console; never holds media or the token.
  const state = { phase: 'starting', messages: 0, last: null, subscriptions: 0 };
  window.veilViewer = state;

  let pc = null;
  let subscriptionId = null;
  let keepaliveTimer = null;
  let retryTimer = null;

  function setStatus(phase, text) {
    state.phase = phase;
    $('status').textContent = text;
  }

  function showPatientState(message) {
    state.messages += 1;
    state.last = message;
    $('message-count').textContent = String(state.messages);
    if (typeof message.mode === 'string') $('mode').textContent = message.mode;
    if (typeof message.state === 'string') {
      $('redaction-state').textContent = message.state;
      $('fallback').hidden = message.state === 'normal';
    }
  }

  function onData(event) {
    if (typeof event.data !== 'string' || event.data.length > 4096) return;
    try {
      const message = JSON.parse(event.data);
      if (message && typeof message === 'object') showPatientState(message);
    } catch (_) {
      // Not JSON: ignore rather than render untrusted text.
    }
  }

  function waitForGathering(peer) {
    if (peer.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { peer.removeEventListener('icegatheringstatechange', check); resolve(); };
      const check = () => { if (peer.iceGatheringState === 'complete') done(); };
      peer.addEventListener('icegatheringstatechange', check);
      // Send what there is after GATHER_TIMEOUT_MS, but not an offer without a single candidate
      // (relay-only ICE waits for a TURN allocation, which can take seconds): then wait longer.
      setTimeout(() => {
        if (/a=candidate/.test(peer.localDescription?.sdp ?? '')) done();
        else setTimeout(done, GATHER_NO_CANDIDATE_EXTRA_MS);
      }, GATHER_TIMEOUT_MS);
    });
  }

  function teardown() {
    clearInterval(keepaliveTimer);
    keepaliveTimer = null;
    if (pc) { pc.close(); pc = null; }
    if (subscriptionId) {
      fetch(`${api}/${subscriptionId}`, { method: 'DELETE', headers }).catch(() => {});
      subscriptionId = null;
    }
  }

  function retry(text) {
    teardown();
    setStatus('waiting', text);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(subscribe, RETRY_MS);
  }

  async function fail(response) {
    let detail = `HTTP ${response.status}`;
    try { detail = (await response.json()).message || detail; } catch (_) { /* keep status */ }
    teardown();
    setStatus('error', `Cannot open this consultation: ${detail}`);
  }

  async function subscribe() {
    if (!token) { setStatus('error', 'This link has no access token.'); return; }
    setStatus('connecting', 'Connecting…');
    let response;
    try {
      response = await fetch(api, { method: 'POST', headers });
    } catch (_) {
      retry('Server unreachable, retrying…');
      return;
    }
    if (response.status === 404) { retry('Waiting for the patient to connect…'); return; }
    if (response.status === 401 || response.status === 403) { await fail(response); return; }
    if (response.status !== 201) { retry(`Server busy (HTTP ${response.status}), retrying…`); return; }
    const offer = await response.json();
    subscriptionId = offer.id;
    state.subscriptions += 1;

    pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    const stream = new MediaStream();
    $('video').srcObject = stream;
    pc.ontrack = (event) => { stream.addTrack(event.track); };
    pc.ondatachannel = (event) => { event.channel.onmessage = onData; };
    pc.onconnectionstatechange = () => {
      if (!pc) return;
      if (pc.connectionState === 'connected') setStatus('live', 'Live');
      if (pc.connectionState === 'failed') retry('Connection lost, reconnecting…');
    };
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    // Opening a channel of our own starts the SCTP association; Janus then delivers the patient's
    // messages on a channel carrying the publisher's label (or on this one).
    pc.createDataChannel('veil-viewer').onmessage = onData;
    await pc.setLocalDescription(await pc.createAnswer());
    await waitForGathering(pc);
    const answered = await fetch(`${api}/${subscriptionId}/answer`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
    });
    if (answered.status !== 204) { retry('The media server refused the answer, retrying…'); return; }

    keepaliveTimer = setInterval(async () => {
      try {
        const alive = await fetch(`${api}/${subscriptionId}/keepalive`, { method: 'POST', headers });
        if (alive.status !== 200 || !(await alive.json()).publisher) {
          retry('The patient disconnected, waiting…');
        }
      } catch (_) { /* transient: try again next time */ }
    }, KEEPALIVE_MS);
  }

  $('sound').addEventListener('click', () => {
    const video = $('video');
    video.muted = !video.muted;
    $('sound').textContent = video.muted ? 'Turn sound on' : 'Turn sound off';
  });
  window.addEventListener('pagehide', teardown);
  subscribe();
})();
