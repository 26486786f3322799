// Media through the real stack: Chromium publishes (fake camera + microphone + data channel) to
// veil-server's WHIP endpoint exactly as veil-patient does; the viewer page subscribes through
// the server. Then, with a live publisher, what Janus must refuse: cross-room subscription,
// recording, unkeyed rtp_forward; and the keyed tap tests use (veil-sfu-tap) really delivers RTP
// that GStreamer decodes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { spawn, spawnSync } from 'node:child_process';
import { startStack, waitFor, sleep, listFiles } from './lib/stack.mjs';
import { JanusProbe } from './lib/janus-probe.mjs';
import { launchBrowser, publishFromPage } from './lib/browser.mjs';

const CID = 'media-room';
const OTHER_CID = 'other-room';
const NO_SUCH_FEED = 428;
let stack;
let browser;
let publisherPage;
let viewerPage;
let probe;
let published;

before(async () => {
  stack = await startStack({ demoConsultation: `${OTHER_CID},${CID}` });
  browser = await launchBrowser({ fakeMedia: true });
  publisherPage = await browser.context.newPage();
  await publisherPage.goto(`${stack.serverUrl}/healthz`);  // same origin as the API, secure context
  probe = await new JanusProbe(stack.janusUrl).connect();
});

after(async () => {
  await probe?.destroy();
  await browser?.close();
  await stack?.stop();
});

async function feedsIn(consultation) {
  const handle = await probe.attach();
  const { room } = stack.roomInfo(consultation);
  const reply = await probe.request(handle, { request: 'listparticipants', room });
  return reply.data.participants.filter((p) => p.publisher).map((p) => p.id);
}

test('WHIP publish: 201, application/sdp answer with Janus candidates, Location', async () => {
  published = await publishFromPage(publisherPage,
    { consultation: CID, token: stack.mintToken(CID, 'patient') });
  assert.equal(published.status, 201, published.body);
  assert.match(published.contentType, /^application\/sdp/);
  assert.match(published.location, new RegExp(`^/api/v1/consultations/${CID}/whip/[0-9a-f]{32}$`));
  assert.match(published.body, /^v=0\r\n/);
  assert.match(published.body, /a=group:BUNDLE/);
  assert.match(published.body, /m=application .* webrtc-datachannel/);
  assert.ok(published.body.includes(`a=candidate:`) &&
    published.body.includes(process.env.VEIL_NETNS_ADDR), 'answer carries Janus candidates');
  await waitFor(() => publisherPage.evaluate(() =>
    window.veilPublisher.pc.connectionState === 'connected'), { what: 'publisher connected' });
  assert.equal((await feedsIn(CID)).length, 1);
});

test('the viewer page shows the video and the data-channel state', async () => {
  viewerPage = await browser.context.newPage();
  await viewerPage.goto(`${stack.serverUrl}/view/${CID}#token=${stack.mintToken(CID, 'viewer')}`);
  assert.ok(!viewerPage.url().includes('token='), 'token removed from the address bar');
  const frames = await waitFor(() => viewerPage.evaluate(() => new Promise((done) => {
    const video = document.getElementById('video');
    let count = 0;
    const onFrame = () => { count += 1; if (count < 10) video.requestVideoFrameCallback(onFrame); else done(video.videoWidth); };
    video.requestVideoFrameCallback(onFrame);
    setTimeout(() => done(0), 3000);
  })), { attempts: 10, what: 'decoded frames in the viewer' });
  assert.equal(frames, 640);
  await waitFor(() => viewerPage.evaluate(() => window.veilViewer.messages >= 5),
    { what: 'data channel messages in the viewer' });
  const shown = await viewerPage.evaluate(() => ({
    mode: document.getElementById('mode').textContent,
    state: document.getElementById('redaction-state').textContent,
    fallbackHidden: document.getElementById('fallback').hidden,
    audioTracks: document.getElementById('video').srcObject.getAudioTracks().length,
    last: window.veilViewer.last,
  }));
  assert.equal(shown.mode, 'background');
  assert.equal(shown.state, 'normal');
  assert.equal(shown.fallbackHidden, true);
  assert.equal(shown.audioTracks, 1);
  assert.ok(shown.last.seq > 1);
});

test('Janus refuses subscribing to the feed from another room (and allows it in its own)', async () => {
  const [feed] = await feedsIn(CID);
  const other = stack.roomInfo(OTHER_CID);
  const own = stack.roomInfo(CID);
  const crossHandle = await probe.attach();
  const cross = await probe.request(crossHandle, { request: 'join', ptype: 'subscriber',
    room: other.room, pin: other.pin, streams: [{ feed }] });
  assert.equal(cross.data.error_code, NO_SUCH_FEED, JSON.stringify(cross));
  assert.equal(cross.jsep, undefined);
  // Positive control: the same request in the feed's own room gets an offer.
  const ownHandle = await probe.attach();
  const same = await probe.request(ownHandle, { request: 'join', ptype: 'subscriber',
    room: own.room, pin: own.pin, streams: [{ feed }] });
  assert.equal(same.data.videoroom, 'attached', JSON.stringify(same));
  assert.equal(same.jsep.type, 'offer');
  await probe.post(`/${probe.session}/${ownHandle}`, { janus: 'detach' });
});

function collectUdp(port, ms) {
  return new Promise((done, fail) => {
    const socket = createSocket('udp4');
    const packets = [];
    socket.on('message', (message) => packets.push(message));
    socket.on('error', fail);
    socket.bind(port, '127.0.0.1', () => setTimeout(() => { socket.close(); done(packets); }, ms));
  });
}

test('rtp_forward: refused without the admin key, works keyed (veil-sfu-tap)', async () => {
  const [feed] = await feedsIn(CID);
  const room = stack.roomInfo(CID);
  const handle = await probe.attach();
  const unkeyed = await probe.request(handle, { request: 'rtp_forward', room: room.room,
    publisher_id: feed, secret: room.secret, host: '127.0.0.1', video_port: 41000 });
  assert.equal(unkeyed.data.error_code, 429, JSON.stringify(unkeyed));
  const wrongKey = await probe.request(handle, { request: 'rtp_forward', room: room.room,
    publisher_id: feed, secret: room.secret, admin_key: 'guess', host: '127.0.0.1',
    video_port: 41000 });
  assert.equal(wrongKey.data.error_code, 433, JSON.stringify(wrongKey));

  const video = collectUdp(41000, 2500);
  const audio = collectUdp(41002, 2500);
  const data = collectUdp(41004, 2500);
  await sleep(100);
  const reply = stack.tap(CID, { videoPort: 41000, audioPort: 41002, dataPort: 41004 });
  assert.ok(Array.isArray(reply.forwarders), JSON.stringify(reply));
  assert.equal(reply.publisher_id, feed);
  const types = reply.forwarders.map((f) => f.type).sort();
  assert.deepEqual(types, ['audio', 'data', 'video']);
  const rtp = (packets) => packets.filter((p) => p.length > 12 && (p[0] >> 6) === 2);
  const videoPackets = rtp(await video);
  const audioPackets = rtp(await audio);
  const dataMessages = (await data).map((p) => p.toString());
  assert.ok(videoPackets.length > 20, `video RTP packets: ${videoPackets.length}`);
  assert.ok(audioPackets.length > 20, `audio RTP packets: ${audioPackets.length}`);
  assert.ok(dataMessages.some((m) => m.includes('"seq"')), 'data channel messages forwarded');
  // The tap pins payload types so receivers can use fixed caps.
  assert.ok(videoPackets.every((p) => (p[1] & 0x7f) === 96), 'video forwarded as PT 96');
  assert.ok(audioPackets.every((p) => (p[1] & 0x7f) === 111), 'audio forwarded as PT 111');
  const forwardedVideo = reply.forwarders.find((f) => f.type === 'video');
  assert.equal(forwardedVideo.port, 41000);
  assert.equal(forwardedVideo.codec, 'vp8');
});

test('the tapped video decodes with GStreamer (the pipeline e2e tests build on)', async () => {
  const gst = spawn('gst-launch-1.0', ['-q',
    'udpsrc', 'port=41010', 'address=127.0.0.1',
    'caps=application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96', '!',
    'rtpjitterbuffer', 'latency=100', '!', 'rtpvp8depay', '!', 'vp8dec', '!',
    'identity', 'eos-after=15', '!', 'fakesink', 'sync=false'], { stdio: 'ignore' });
  const exited = new Promise((done) => gst.on('exit', (code) => done(code)));
  await sleep(500);  // let udpsrc bind before packets arrive
  const reply = stack.tap(CID, { videoPort: 41010 });
  assert.equal(reply.forwarders[0].type, 'video');
  // VideoRoom asks the publisher for a keyframe when a forwarder starts, so decoding can begin.
  const code = await Promise.race([exited, sleep(20000).then(() => 'timeout')]);
  if (code === 'timeout') gst.kill('SIGKILL');
  assert.equal(code, 0, 'GStreamer decoded 15 VP8 frames from the tap and reached EOS');
});

// A second PeerConnection in the publisher page, signalled directly through the Janus API by the
// probe: an attacker with local Janus access publishing into the room and asking to be recorded.
async function probePublish(body) {
  const room = stack.roomInfo(CID);
  const handle = await probe.attach();
  const joined = await probe.request(handle, { request: 'join', ptype: 'publisher', room: room.room,
    pin: room.pin });
  assert.equal(joined.data.videoroom, 'joined', JSON.stringify(joined));
  const offer = await publisherPage.evaluate(async () => {
    const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((done) => { setTimeout(done, 3000); pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'complete') done(); }; });
    (window.extraPublishers ||= []).push(pc);
    return pc.localDescription.sdp;
  });
  const reply = await probe.request(handle, body, { type: 'offer', sdp: offer, trickle: false });
  assert.equal(reply.jsep?.type, 'answer', JSON.stringify(reply.data));
  await publisherPage.evaluate((sdp) => window.extraPublishers.at(-1)
    .setRemoteDescription({ type: 'answer', sdp }), reply.jsep.sdp);
  await waitFor(() => publisherPage.evaluate(() =>
    window.extraPublishers.at(-1).connectionState === 'connected'), { what: 'probe publisher' });
  return handle;
}

const recordings = () => listFiles(stack.janusState).filter((f) => !f.startsWith('config/'));

test('a participant asking to be recorded is refused: Janus writes no file', async () => {
  const refusalsBefore = (stack.janusLog().match(/Missing mandatory element \(secret\)/g) || []).length;
  await probePublish({ request: 'publish', record: true, filename: 'stolen' });
  await sleep(2000);  // media flowing for a while: a recorder would have written by now
  const refusals = (stack.janusLog().match(/Missing mandatory element \(secret\)/g) || []).length;
  assert.ok(refusals > refusalsBefore, 'Janus logged the refusal of record: true');
  assert.deepEqual(recordings(), []);
  const found = spawnSync('find', ['/tmp', '/work', '-xdev', '-name', '*.mjr*', '-newer',
    stack.secretFile], { encoding: 'utf8' });
  assert.equal(found.stdout.trim(), '', 'no Janus recording anywhere');
});

test('even with the room secret Janus cannot record: every folder is protected', async () => {
  // The detector sees files Janus's tree gets while it runs (the rendered config).
  assert.ok(listFiles(stack.janusState).includes('config/janus.jcfg'));
  const room = stack.roomInfo(CID);
  const handle = await probePublish({ request: 'publish' });
  const protectedBefore = (stack.janusLog().match(/is in protected folder/g) || []).length;
  const configured = await probe.request(handle, { request: 'configure', record: true,
    secret: room.secret, filename: 'control' });
  assert.equal(configured.data.configured, 'ok', JSON.stringify(configured));
  await waitFor(() => (stack.janusLog().match(/is in protected folder/g) || []).length >
    protectedBefore, { what: 'Janus refusing the recording path' });
  await sleep(1000);
  assert.deepEqual(recordings(), []);
  await probe.post(`/${probe.session}/${handle}`, { janus: 'detach' });
});

test('a second publish (patient reconnecting) replaces the first', async () => {
  const token = stack.mintToken(CID, 'patient');
  const before = await feedsIn(CID);
  const secondPage = await browser.context.newPage();
  await secondPage.goto(`${stack.serverUrl}/healthz`);
  const second = await publishFromPage(secondPage, { consultation: CID, token });
  assert.equal(second.status, 201, second.body);
  assert.notEqual(second.location, published.location);
  // Janus lists a publisher only once its connection is up, which under load comes some time
  // after the publish returns: wait (bounded) for the new feed instead of sampling once.
  const change = async () => {
    const after = await feedsIn(CID);
    return { added: after.filter((id) => !before.includes(id)),
      removed: before.filter((id) => !after.includes(id)) };
  };
  let last = { added: [], removed: [] };
  await waitFor(async () => {
    last = await change();
    return last.added.length === 1 && last.removed.length === 1;
  }, { attempts: 100, intervalMs: 200, what: 'the new feed listed and the previous one gone' })
    .catch(() => {});  // the assertions below say what is wrong
  const { added, removed } = last;
  assert.equal(added.length, 1, 'one new feed');
  assert.equal(removed.length, 1, 'the previous patient feed left the room');
  const stale = await fetch(`${stack.serverUrl}${published.location}`, { method: 'DELETE',
    headers: { Authorization: `Bearer ${token}` } });
  assert.equal(stale.status, 404, 'the replaced resource is gone');
  published = { ...second, feed: added[0] };
});

test('WHIP DELETE unpublishes; the viewer learns the patient left', async () => {
  const token = stack.mintToken(CID, 'patient');
  const gone = await fetch(`${stack.serverUrl}${published.location}`, { method: 'DELETE',
    headers: { Authorization: `Bearer ${token}` } });
  assert.equal(gone.status, 204);
  await waitFor(async () => !(await feedsIn(CID)).includes(published.feed),
    { what: 'publisher gone from the room' });
  const again = await fetch(`${stack.serverUrl}${published.location}`, { method: 'DELETE',
    headers: { Authorization: `Bearer ${token}` } });
  assert.equal(again.status, 404);
  await waitFor(() => viewerPage.evaluate(() => window.veilViewer.phase === 'waiting'),
    { attempts: 120, intervalMs: 250, what: 'viewer back to waiting (keepalive)' });
});

test('Janus logged no peer address (only its own at start-up)', () => {
  const address = process.env.VEIL_NETNS_ADDR;
  const lines = stack.janusLog().split('\n').filter((line) => line.includes(address))
    .filter((line) => !/as local IP|deployed on a private address/.test(line));
  assert.deepEqual(lines, []);
});
