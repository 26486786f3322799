// WebRTC through veil-server (never Janus directly): publish the clinician's camera WHIP-style and
// subscribe to the patient's redacted feed (server offer). Plain JS, no build step.
'use strict';

window.VeilMedia = (() => {
  const GATHER_TIMEOUT_MS = 3000;
  const GATHER_NO_CANDIDATE_EXTRA_MS = 7000;

  function waitForGathering(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { pc.removeEventListener('icegatheringstatechange', check); resolve(); };
      const check = () => { if (pc.iceGatheringState === 'complete') done(); };
      pc.addEventListener('icegatheringstatechange', check);
      // Send what there is after GATHER_TIMEOUT_MS, but not an offer without a single candidate
      // (relay-only ICE waits for a TURN allocation, which can take seconds): then wait longer.
      setTimeout(() => {
        if (/a=candidate/.test(pc.localDescription?.sdp ?? '')) done();
        else setTimeout(done, GATHER_NO_CANDIDATE_EXTRA_MS);
      }, GATHER_TIMEOUT_MS);
    });
  }

  // RTCPeerConnection settings from the TURN credentials veil-server issued with the token.
  // `?relay=1` in the page URL forces relay-only ICE (used by the relay test).
  function rtcConfig(turn) {
    const config = { bundlePolicy: 'max-bundle', iceServers: [] };
    if (turn && Array.isArray(turn.urls)) {
      config.iceServers.push({ urls: turn.urls, username: turn.username, credential: turn.credential });
    }
    if (new URLSearchParams(location.search).get('relay') === '1') config.iceTransportPolicy = 'relay';
    return config;
  }

  async function api(path, token, init = {}) {
    const headers = { ...(init.headers || {}), Authorization: `Bearer ${token}` };
    const response = await fetch(path, { ...init, headers });
    if (!response.ok) {
      let code = `http_${response.status}`;
      try { code = (await response.json()).error || code; } catch (_) { /* not JSON */ }
      const error = new Error(code);
      error.status = response.status;
      error.code = code;
      throw error;
    }
    return response;
  }

  // Publishes `stream` plus a control data channel; returns {pc, channel, location}.
  async function publish({ cid, token, turn, stream }) {
    const pc = new RTCPeerConnection(rtcConfig(turn));
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    const channel = pc.createDataChannel('veil-control');
    await pc.setLocalDescription(await pc.createOffer());
    await waitForGathering(pc);
    const response = await api(`/api/v1/consultations/${cid}/whip`, token, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    const location = response.headers.get('Location');
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    return { pc, channel, location };
  }

  // Subscribes to the other side's feed; `onTrack(stream)`, `onData(message)`.
  async function subscribe({ cid, token, turn, onTrack, onData }) {
    const response = await api(`/api/v1/consultations/${cid}/subscribe`, token, { method: 'POST' });
    const offer = await response.json();
    const pc = new RTCPeerConnection(rtcConfig(turn));
    const stream = new MediaStream();
    pc.ontrack = (event) => { stream.addTrack(event.track); onTrack(stream); };
    const listen = (channel) => {
      channel.onmessage = (event) => {
        if (typeof event.data !== 'string' || event.data.length > 4096) return;
        try {
          const message = JSON.parse(event.data);
          if (message && typeof message === 'object') onData(message);
        } catch (_) { /* not JSON: ignored, never rendered */ }
      };
    };
    // A local channel starts SCTP; Janus then delivers the publisher's messages.
    listen(pc.createDataChannel('veil-receive'));
    pc.ondatachannel = (event) => listen(event.channel);
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await waitForGathering(pc);
    await api(`/api/v1/consultations/${cid}/subscribe/${offer.id}/answer`, token, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp });
    return { pc, id: offer.id, stream };
  }

  async function keepalive({ cid, token, id }) {
    const response = await api(`/api/v1/consultations/${cid}/subscribe/${id}/keepalive`, token,
      { method: 'POST' });
    return (await response.json()).publisher === true;
  }

  // Inbound video quality from getStats: frames per second, loss, round-trip time.
  async function quality(pc) {
    const stats = await pc.getStats();
    let video = null;
    let pair = null;
    stats.forEach((report) => {
      if (report.type === 'inbound-rtp' && report.kind === 'video') video = report;
      if (report.type === 'candidate-pair' && report.nominated && report.state === 'succeeded') pair = report;
    });
    const received = video ? video.packetsReceived || 0 : 0;
    const lost = video ? Math.max(0, video.packetsLost || 0) : 0;
    const lossPercent = received + lost > 0 ? (100 * lost) / (received + lost) : 0;
    const rttMs = pair && pair.currentRoundTripTime ? pair.currentRoundTripTime * 1000 : null;
    const fps = video && video.framesPerSecond ? video.framesPerSecond : 0;
    const framesDecoded = video ? video.framesDecoded || 0 : 0;
    let level = 'good';
    if (fps < 8 || lossPercent > 5 || (rttMs !== null && rttMs > 400)) level = 'poor';
    else if (fps < 12 || lossPercent > 1 || (rttMs !== null && rttMs > 200)) level = 'fair';
    return { level, fps, lossPercent, rttMs, framesDecoded };
  }

  // What a connection carries, for the UI's diagnostics and the tests: decoded frames, received
  // audio energy, and the type of the local ICE candidate in use (host/srflx/prflx/relay).
  async function report(pc) {
    const stats = await pc.getStats();
    const out = { framesDecoded: 0, frameWidth: 0, audioEnergy: 0, packetsSent: 0,
      localCandidateType: null };
    let pairId = null;
    stats.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        out.framesDecoded = r.framesDecoded || 0;
        out.frameWidth = r.frameWidth || 0;
      }
      if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audioEnergy = r.totalAudioEnergy || 0;
      if (r.type === 'outbound-rtp') out.packetsSent += r.packetsSent || 0;
      if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
    });
    const pair = pairId ? stats.get(pairId) : null;
    const local = pair ? stats.get(pair.localCandidateId) : null;
    out.localCandidateType = local ? local.candidateType : null;
    return out;
  }

  return { publish, subscribe, keepalive, quality, report, api };
})();
