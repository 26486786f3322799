// Veil clinician app: sign in, consultations, invite, waiting room, the patient's redacted video
// and audio, the device-reported mode, mode requests, the clinician's own camera. Talks only to
// veil-server (cookie session for management, short-lived bearer tokens for media).
'use strict';

(() => {
  const POLL_MS = 2000;
  const KEEPALIVE_MS = 5000;  // also how fast a vanished patient feed is noticed
  const STATS_MS = 2000;
  // The device's SCTP association comes up a moment after its subscription's DTLS (what the
  // server reports as patient_receiving); a message sent before that is dropped by the SFU.
  const SCTP_SETTLE_MS = 1000;
  const TOKEN_RETRY_MS = 10000;
  const MODE_NAMES = { background: 'Background hidden', face: 'Face hidden',
    'background+face': 'Background and face hidden', 'voice-only': 'Voice only',
    'private-regions': 'Private regions hidden' };

  const $ = (id) => document.getElementById(id);
  // Read by tests and handy in the console; never holds tokens or media.
  const view = { phase: 'starting', consultation: null, messages: 0, last: null, subscriptions: 0,
    publishing: false, quality: null, waiting: 0, requestsSent: 0, request: null,
    tokenMints: 0 };
  window.veilApp = view;
  // Diagnostics of both connections (stats only; no media, no credentials).
  view.report = async () => ({
    subscriber: call.sub ? await VeilMedia.report(call.sub.pc) : null,
    publisher: call.pub ? await VeilMedia.report(call.pub.pc) : null });

  const call = { cid: null, token: null, turn: null, tokenTimer: null, pollTimer: null,
    statsTimer: null, keepaliveTimer: null, sub: null, subscribing: false, pub: null, stream: null,
    patientReceiving: false, settleTimer: null };
  // The clinician's latest mode request (latest wins): queued until it can reach the device,
  // then sent once; `applied` once the device reports that mode.
  const modeRequest = { mode: null, state: 'none' };

  function notice(text) { $('notice').textContent = text || ''; }
  function show(section) {
    for (const id of ['sign-in', 'dashboard', 'consultation']) $(id).hidden = id !== section;
    view.phase = section;
  }

  async function json(path, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, { credentials: 'same-origin', ...init, headers });
    const text = await response.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
    if (!response.ok) {
      const error = new Error((body && body.message) || `request failed (${response.status})`);
      error.status = response.status;
      error.code = body && body.error;
      throw error;
    }
    return body;
  }

  // --- sign-in ---
  async function start() {
    try {
      const me = await json('/api/v1/auth/me');
      signedIn(me);
    } catch (_) {
      show('sign-in');
      $('username').focus();
    }
  }

  function signedIn(me) {
    $('account').hidden = false;
    $('account-name').textContent = me.username;
    openDashboard();
  }

  $('sign-in-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const me = await json('/api/v1/auth/login', { method: 'POST',
        body: JSON.stringify({ username: $('username').value, password: $('password').value }) });
      $('password').value = '';
      notice('');
      signedIn(me);
    } catch (error) {
      notice(error.status === 429 ? 'Too many attempts. Wait a minute and try again.'
        : 'Sign-in failed: wrong user name or password.');
    }
  });

  $('sign-out').addEventListener('click', async () => {
    await leaveCall();
    await json('/api/v1/auth/logout', { method: 'POST' }).catch(() => {});
    $('account').hidden = true;
    show('sign-in');
  });

  // --- dashboard ---
  async function openDashboard() {
    await leaveCall();
    show('dashboard');
    const list = $('consultations');
    list.replaceChildren();
    const consultations = await json('/api/v1/consultations').catch(() => []);
    for (const c of consultations) {
      const item = document.createElement('li');
      const label = document.createElement('span');
      label.textContent = `Started ${new Date(c.created_at * 1000).toLocaleTimeString()} · minimum: ${
        MODE_NAMES[c.min_mode] || c.min_mode}`;
      const open = document.createElement('button');
      open.type = 'button';
      open.textContent = 'Open';
      open.addEventListener('click', () => openConsultation(c.id, null));
      item.append(label, open);
      list.append(item);
    }
  }

  $('create-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const created = await json('/api/v1/consultations', { method: 'POST',
        body: JSON.stringify({ min_mode: $('min-mode').value }) });
      openConsultation(created.id, created);
    } catch (error) {
      notice(`Could not create the consultation: ${error.message}`);
    }
  });

  $('back').addEventListener('click', () => openDashboard());

  // --- consultation ---
  function showInvite(invite) {
    $('invite-url').value = invite ? invite.invite_url : '';
    $('invite-expiry').textContent = invite
      ? new Date(invite.invite_expires_at * 1000).toLocaleString() : '— (create a new invite)';
  }

  async function openConsultation(cid, invite) {
    call.cid = cid;
    view.consultation = cid;
    show('consultation');
    showInvite(invite);
    $('consultation-title').textContent = 'Consultation';
    $('copy-invite').focus();
    await refreshToken();
    call.pollTimer = setInterval(poll, POLL_MS);
    call.statsTimer = setInterval(updateQuality, STATS_MS);
    poll();
  }

  async function refreshToken() {
    clearTimeout(call.tokenTimer);
    const cid = call.cid;
    try {
      const minted = await json(`/api/v1/consultations/${cid}/token`, { method: 'POST' });
      if (call.cid !== cid) return;  // left meanwhile
      call.token = minted.token;
      call.turn = minted.turn;
      view.tokenMints += 1;
      // Re-mint a minute before expiry (half-way for short test TTLs); the server's expires_in,
      // never the local clock.
      const seconds = Math.max(minted.expires_in / 2, minted.expires_in - 60);
      call.tokenTimer = setTimeout(refreshToken, seconds * 1000);
    } catch (error) {
      if (call.cid !== cid) return;
      if (error.status === 410 || error.status === 404) { ended('The consultation has ended.'); return; }
      if (error.status === 401) {
        await leaveCall();
        $('account').hidden = true;
        show('sign-in');
        notice('Your sign-in has expired. Sign in again.');
        return;
      }
      // A network blip: the current token is still valid for a while; try again soon.
      notice(`Could not renew media credentials (${error.message}); retrying.`);
      call.tokenTimer = setTimeout(refreshToken, TOKEN_RETRY_MS);
    }
  }

  $('copy-invite').addEventListener('click', async () => {
    const text = $('invite-url').value;
    if (!text) { notice('No invite to copy: create a new one.'); return; }
    try {
      await navigator.clipboard.writeText(text);
      notice('Invite copied.');
    } catch (_) {
      $('invite-url').select();
      notice('Press Ctrl+C to copy the selected invite.');
    }
  });

  $('new-invite').addEventListener('click', async () => {
    try {
      showInvite(await json(`/api/v1/consultations/${call.cid}/invite`, { method: 'POST' }));
      notice('New invite created; the previous one no longer works.');
    } catch (error) { notice(error.message); }
  });

  $('end').addEventListener('click', async () => {
    try {
      await json(`/api/v1/consultations/${call.cid}/end`, { method: 'POST' });
    } catch (_) { /* ended anyway or already gone */ }
    ended('Consultation ended. All links and credentials for it are revoked.');
  });

  async function ended(message) {
    await leaveCall();
    notice(message);
    openDashboard();
  }

  function renderWaiting(participants) {
    const list = $('waiting');
    list.replaceChildren();
    const waiting = participants.filter((p) => p.state === 'waiting');
    view.waiting = waiting.length;
    $('waiting-empty').hidden = waiting.length > 0;
    for (const p of waiting) {
      const item = document.createElement('li');
      const label = document.createElement('span');
      const minutes = Math.floor(p.waiting_seconds / 60);
      label.textContent = `${p.display_name || 'Patient'} — waiting ${minutes} min`;
      const admit = document.createElement('button');
      admit.type = 'button';
      admit.textContent = 'Admit';
      admit.setAttribute('aria-label', `Admit ${p.display_name || 'patient'}`);
      admit.addEventListener('click', () => decide(p.id, 'admit'));
      const reject = document.createElement('button');
      reject.type = 'button';
      reject.className = 'danger';
      reject.textContent = 'Reject';
      reject.setAttribute('aria-label', `Reject ${p.display_name || 'patient'}`);
      reject.addEventListener('click', () => decide(p.id, 'reject'));
      item.append(label, admit, reject);
      list.append(item);
    }
  }

  async function decide(participant, action) {
    try {
      await json(`/api/v1/consultations/${call.cid}/participants/${participant}/${action}`,
        { method: 'POST' });
      notice(action === 'admit' ? 'Patient admitted.' : 'Patient rejected.');
      poll();
    } catch (error) { notice(error.message); }
  }

  async function poll() {
    if (!call.cid) return;
    let state;
    try {
      state = await json(`/api/v1/consultations/${call.cid}`);
    } catch (error) {
      if (error.status === 410 || error.status === 404) ended('The consultation has ended.');
      return;
    }
    renderWaiting(state.participants);
    if (state.patient_publishing && !call.sub && !call.subscribing && call.token) subscribePatient();
    const receiving = state.patient_receiving === true;
    if (receiving && !call.patientReceiving) {
      clearTimeout(call.settleTimer);
      call.settleTimer = setTimeout(sendQueuedModeRequest, SCTP_SETTLE_MS);
    }
    call.patientReceiving = receiving;
  }

  // --- the patient's feed ---
  function setCallState(text, phase) {
    $('call-state').textContent = text;
    view.callPhase = phase;
  }

  function showDeviceState(message) {
    view.messages += 1;
    view.last = message;
    if (typeof message.mode === 'string') {
      $('mode').textContent = MODE_NAMES[message.mode] || message.mode;
      if (modeRequest.state === 'sent' && message.mode === modeRequest.mode) {
        setModeRequest(modeRequest.mode, 'applied');
      }
    }
    if (typeof message.state === 'string') {
      $('redaction-state').textContent = message.state;
      const fallback = message.state === 'degraded' || message.state === 'full';
      $('fallback').hidden = !fallback;
      $('fallback-state').textContent = message.state === 'full' ? 'whole picture hidden' : 'degraded';
    }
  }

  async function subscribePatient() {
    call.subscribing = true;
    setCallState('Connecting to the patient…', 'connecting');
    try {
      call.sub = await VeilMedia.subscribe({ cid: call.cid, token: call.token, turn: call.turn,
        onTrack: (stream) => { $('patient-video').srcObject = stream; },
        onData: showDeviceState });
      view.subscriptions += 1;
      call.sub.pc.addEventListener('connectionstatechange', () => {
        const s = call.sub && call.sub.pc.connectionState;
        if (s === 'connected') setCallState('Connected to the patient.', 'connected');
        if (s === 'disconnected') setCallState('Reconnecting…', 'reconnecting');
        if (s === 'failed') dropSubscription('Connection lost. Reconnecting…');
      });
      clearInterval(call.keepaliveTimer);
      call.keepaliveTimer = setInterval(async () => {
        if (!call.sub) return;
        const alive = await VeilMedia.keepalive({ cid: call.cid, token: call.token, id: call.sub.id })
          .catch(() => false);
        if (!alive) dropSubscription('The patient disconnected. Waiting for them to reconnect…');
      }, KEEPALIVE_MS);
    } catch (error) {
      setCallState('Patient not connected.', 'idle');
    } finally {
      call.subscribing = false;
    }
  }

  function dropSubscription(text) {
    if (call.sub) {
      call.sub.pc.close();
      fetch(`/api/v1/consultations/${call.cid}/subscribe/${call.sub.id}`,
        { method: 'DELETE', headers: { Authorization: `Bearer ${call.token}` } }).catch(() => {});
    }
    call.sub = null;
    clearInterval(call.keepaliveTimer);
    setCallState(text, 'reconnecting');
  }

  async function updateQuality() {
    if (!call.sub) { $('quality').textContent = '—'; return; }
    try {
      const q = await VeilMedia.quality(call.sub.pc);
      view.quality = q;
      const rtt = q.rttMs === null ? '' : `, ${Math.round(q.rttMs)} ms`;
      $('quality').textContent = `${q.level} (${Math.round(q.fps)} fps, ${q.lossPercent.toFixed(1)}% loss${rtt})`;
    } catch (_) { /* closed meanwhile */ }
  }

  // --- mode requests: sent to the device over the clinician's publisher data channel; the
  // device decides. The SFU delivers only while the device's receiving channel is open, so a
  // request made earlier is queued (latest wins) and sent once both channels are up.
  function setModeRequest(mode, state) {
    Object.assign(modeRequest, { mode, state });
    view.request = mode ? { mode, state } : null;
    const name = MODE_NAMES[mode] || mode;
    $('request-state').textContent = {
      none: 'No request pending.',
      queued: `"${name}" is queued: it is sent when your camera is on and the patient's device ` +
        'is connected.',
      sent: `"${name}" was sent. The patient's device decides.`,
      applied: `The patient's device applied "${name}".`,
    }[state];
  }

  function canReachDevice() {
    return Boolean(call.pub && call.pub.channel.readyState === 'open' && call.patientReceiving);
  }

  function sendQueuedModeRequest() {
    if (modeRequest.state !== 'queued' || !canReachDevice()) return;
    call.pub.channel.send(JSON.stringify({ request_mode: modeRequest.mode }));
    view.requestsSent += 1;
    setModeRequest(modeRequest.mode, 'sent');
  }

  $('mode-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const mode = $('request-mode').value;
    try {
      await json(`/api/v1/consultations/${call.cid}/mode-request`, { method: 'POST',
        body: JSON.stringify({ mode }) });
    } catch (error) { notice(error.message); return; }
    setModeRequest(mode, 'queued');
    sendQueuedModeRequest();
    if (modeRequest.state === 'queued' && !call.pub) {
      notice('Start your camera and microphone: requests travel with your media connection.');
    }
  });

  // --- the clinician's own camera and microphone ---
  $('start-camera').addEventListener('click', async () => {
    try {
      call.stream = await navigator.mediaDevices.getUserMedia({ audio: true,
        video: { width: 640, height: 360, frameRate: 15 } });
      $('self-video').srcObject = call.stream;
      call.pub = await VeilMedia.publish({ cid: call.cid, token: call.token, turn: call.turn,
        stream: call.stream });
      call.pub.channel.addEventListener('open', sendQueuedModeRequest);
      view.publishing = true;
      $('self-state').textContent = 'Your camera and microphone are on.';
      $('start-camera').disabled = true;
      $('mute').disabled = false;
      $('camera').disabled = false;
      $('mute').focus();
    } catch (error) {
      $('self-state').textContent = `Could not start your camera: ${error.message}`;
    }
  });

  function toggle(button, kind, onText, offText) {
    if (!call.stream) return;
    const pressed = button.getAttribute('aria-pressed') !== 'true';
    for (const track of call.stream.getTracks()) if (track.kind === kind) track.enabled = !pressed;
    button.setAttribute('aria-pressed', String(pressed));
    button.textContent = pressed ? onText : offText;
  }
  $('mute').addEventListener('click', () => toggle($('mute'), 'audio', 'Unmute', 'Mute'));
  $('camera').addEventListener('click', () => toggle($('camera'), 'video', 'Camera on', 'Camera off'));

  async function leaveCall() {
    clearInterval(call.pollTimer);
    clearInterval(call.statsTimer);
    clearInterval(call.keepaliveTimer);
    clearTimeout(call.tokenTimer);
    clearTimeout(call.settleTimer);
    if (call.sub) call.sub.pc.close();
    if (call.pub) {
      call.pub.pc.close();
      if (call.pub.location) {
        await fetch(call.pub.location, { method: 'DELETE',
          headers: { Authorization: `Bearer ${call.token}` } }).catch(() => {});
      }
    }
    if (call.stream) for (const track of call.stream.getTracks()) track.stop();
    Object.assign(call, { cid: null, token: null, sub: null, pub: null, stream: null,
      patientReceiving: false });
    setModeRequest(null, 'none');
    Object.assign(view, { consultation: null, publishing: false, messages: 0, last: null });
    $('patient-video').srcObject = null;
    $('self-video').srcObject = null;
    $('start-camera').disabled = false;
    $('mute').disabled = true;
    $('camera').disabled = true;
    $('fallback').hidden = true;
    $('mode').textContent = '—';
    $('redaction-state').textContent = '—';
    setCallState('Patient not connected.', 'idle');
  }

  start();
})();
