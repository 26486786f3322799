// A stand-in patient device for consultation tests, run in a headless Chromium page with a fake
// camera and microphone: redeems the invite, waits in the waiting room, publishes WHIP-style once
// admitted (same shape as veil-patient: complete offer, max-bundle, one data channel sending
// {"mode","state","seq"}), and subscribes to the clinician's feed. Test code only: a real patient
// uses veil-patient, which redacts on the device.
//
//   await page.goto(`${stack.serverUrl}/join`);   // any page of the server's origin
//   const creds = await patientRedeem(page, { invite, displayName, relay });
//   await patientPublish(page); await patientSubscribe(page); await patientReport(page);

// Installs the helpers once per page.
async function install(page) {
  await page.evaluate(() => {
    if (window.veilPatient) return;
    const waitForGathering = (pc) => new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') { resolve(); return; }
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') resolve();
      });
      // Bounded: a TURN allocation (a 401 challenge, then the real request) can take seconds on a
      // loaded machine, and an offer sent before it has no relay candidate at all.
      setTimeout(resolve, 10000);
    });
    const patient = { creds: null, relay: false, state: 'normal', mode: 'background', received: [],
      pub: null, sub: null };
    patient.rtcConfig = () => {
      const config = { bundlePolicy: 'max-bundle', iceServers: [] };
      if (patient.creds && patient.creds.turn) {
        const t = patient.creds.turn;
        config.iceServers.push({ urls: t.urls, username: t.username, credential: t.credential });
      }
      if (patient.relay) config.iceTransportPolicy = 'relay';
      return config;
    };
    patient.call = async (method, path, { body, type } = {}) => {
      const headers = { Authorization: `Bearer ${patient.creds.token}` };
      if (type) headers['Content-Type'] = type;
      const response = await fetch(path, { method, headers, body, credentials: 'omit' });
      const text = await response.text();
      let json = null;
      try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
      return { status: response.status, json, text, location: response.headers.get('Location') };
    };
    patient.waitForGathering = waitForGathering;
    patient.report = async (pc) => {
      const stats = await pc.getStats();
      const out = { framesDecoded: 0, audioEnergy: 0, packetsSent: 0, localCandidateType: null };
      let pairId = null;
      stats.forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') out.framesDecoded = r.framesDecoded || 0;
        if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audioEnergy = r.totalAudioEnergy || 0;
        if (r.type === 'outbound-rtp') out.packetsSent += r.packetsSent || 0;
        if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
      });
      const pair = pairId ? stats.get(pairId) : null;
      const local = pair ? stats.get(pair.localCandidateId) : null;
      out.localCandidateType = local ? local.candidateType : null;
      return out;
    };
    window.veilPatient = patient;
  });
}

export async function patientRedeem(page, { invite, displayName = '', relay = false }) {
  await install(page);
  return page.evaluate(async ({ invite, displayName, relay }) => {
    const patient = window.veilPatient;
    patient.relay = relay;
    const body = { invite };
    if (displayName) body.display_name = displayName;
    const response = await fetch('/api/v1/invites/redeem', { method: 'POST', credentials: 'omit',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const json = await response.json();
    if (response.ok) patient.creds = json;
    return { status: response.status, json };
  }, { invite, displayName, relay });
}

export async function patientStatus(page) {
  return page.evaluate(async () => {
    const p = window.veilPatient;
    return p.call('GET', `/api/v1/consultations/${p.creds.consultation}/status`);
  });
}

// Publishes the fake camera + microphone; returns the WHIP response (status, location).
export async function patientPublish(page) {
  return page.evaluate(async () => {
    const p = window.veilPatient;
    const media = await navigator.mediaDevices.getUserMedia({
      video: { width: 640, height: 360, frameRate: 15 }, audio: true });
    const pc = new RTCPeerConnection(p.rtcConfig());
    for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
    const channel = pc.createDataChannel('veil-state');
    await pc.setLocalDescription(await pc.createOffer());
    await p.waitForGathering(pc);
    const reply = await p.call('POST', `/api/v1/consultations/${p.creds.consultation}/whip`,
      { body: pc.localDescription.sdp, type: 'application/sdp' });
    if (reply.status !== 201) { pc.close(); return reply; }
    await pc.setRemoteDescription({ type: 'answer', sdp: reply.text });
    let seq = 0;
    channel.onopen = () => {
      p.stateTimer = setInterval(() => {
        seq += 1;
        channel.send(JSON.stringify({ mode: p.mode, state: p.state, seq }));
      }, 200);
    };
    p.pub = { pc, channel, media, location: reply.location };
    return { status: reply.status, location: reply.location };
  });
}

// Subscribes to the clinician's feed; data-channel messages land in veilPatient.received.
export async function patientSubscribe(page) {
  return page.evaluate(async () => {
    const p = window.veilPatient;
    const reply = await p.call('POST', `/api/v1/consultations/${p.creds.consultation}/subscribe`);
    if (reply.status !== 201) return reply;
    const pc = new RTCPeerConnection(p.rtcConfig());
    const stream = new MediaStream();
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    document.body.append(video);
    pc.ontrack = (event) => { stream.addTrack(event.track); video.srcObject = stream; };
    const listen = (channel) => {
      channel.onmessage = (event) => {
        try { p.received.push(JSON.parse(event.data)); } catch (_) { /* ignore */ }
      };
    };
    listen(pc.createDataChannel('veil-receive'));
    pc.ondatachannel = (event) => listen(event.channel);
    await pc.setRemoteDescription({ type: 'offer', sdp: reply.json.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await p.waitForGathering(pc);
    const answered = await p.call('POST',
      `/api/v1/consultations/${p.creds.consultation}/subscribe/${reply.json.id}/answer`,
      { body: pc.localDescription.sdp, type: 'application/sdp' });
    p.sub = { pc, id: reply.json.id };
    return { status: answered.status === 204 ? 201 : answered.status };
  });
}

export async function patientReport(page) {
  return page.evaluate(async () => {
    const p = window.veilPatient;
    return {
      publisher: p.pub ? await p.report(p.pub.pc) : null,
      subscriber: p.sub ? await p.report(p.sub.pc) : null,
      received: p.received.slice(-20),
    };
  });
}

// A reconnect as after a network change: refresh the credentials (rotation), drop the old
// publisher connection without saying goodbye, publish again with the new token.
export async function patientReconnect(page) {
  const refreshed = await page.evaluate(async () => {
    const p = window.veilPatient;
    const response = await fetch('/api/v1/session/refresh', { method: 'POST', credentials: 'omit',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: p.creds.refresh_token }) });
    const json = await response.json();
    if (response.ok) p.creds = json;
    clearInterval(p.stateTimer);
    if (p.pub) { p.pub.pc.close(); for (const t of p.pub.media.getTracks()) t.stop(); }
    p.pub = null;
    return { status: response.status, json };
  });
  if (refreshed.status !== 200) return refreshed;
  return patientPublish(page);
}

export async function patientSetState(page, state) {
  await page.evaluate((value) => { window.veilPatient.state = value; }, state);
}
