// The shipped Janus config (deploy/janus) refuses what would let anyone with local access to the
// Janus API create rooms, record, forward media or walk into a consultation. Probes Janus directly,
// as an attacker on the SFU host would. No media here: see server_media.test.mjs for the checks
// that need a live publisher.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, listFiles } from './lib/stack.mjs';
import { JanusProbe } from './lib/janus-probe.mjs';

const UNAUTHORIZED = 433;
const MISSING_ELEMENT = 429;
const CONSULTATION = 'cfg-room';
let stack;
let probe;
let handle;
let room;

before(async () => {
  stack = await startStack({ demoConsultation: CONSULTATION });
  probe = await new JanusProbe(stack.janusUrl).connect();
  handle = await probe.attach();
  room = stack.roomInfo(CONSULTATION);
});

after(async () => {
  await probe?.destroy();
  await stack?.stop();
});

const ask = (body) => probe.request(handle, body);
const refusedWith = (reply, codes, what) => {
  assert.ok(codes.includes(reply.data?.error_code),
    `${what} must be refused with ${codes}, got ${JSON.stringify(reply)}`);
};

test('only the VideoRoom plugin and the HTTP transport are loaded, no event handlers', async () => {
  const info = await probe.post('', { janus: 'info' });
  assert.deepEqual(Object.keys(info.plugins), ['janus.plugin.videoroom']);
  assert.deepEqual(Object.keys(info.transports), ['janus.transport.http']);
  assert.deepEqual(info.events, {});
  assert.deepEqual(info.loggers, {});
  assert.equal(info.event_handlers, false);
  assert.equal(info['mdns-enabled'], false);
  assert.equal(info['session-timeout'], 60);
});

test('no demo rooms and no public rooms', async () => {
  for (const demo of [1234, 5678]) {
    assert.equal((await ask({ request: 'exists', room: demo })).data.exists, false, `room ${demo}`);
  }
  const list = await ask({ request: 'list' });
  assert.deepEqual(list.data.list, [], 'the consultation room exists but must not be listed');
  assert.equal((await ask({ request: 'exists', room: room.room })).data.exists, true);
});

test('creating a room needs the admin key', async () => {
  refusedWith(await ask({ request: 'create', room: 4242 }), [MISSING_ELEMENT], 'create without key');
  refusedWith(await ask({ request: 'create', room: 4242, admin_key: 'guess' }), [UNAUTHORIZED],
    'create with a wrong key');
  refusedWith(await ask({ request: 'create', room: 4243, record: true }), [MISSING_ELEMENT],
    'create with record: true and no key');
  assert.equal((await ask({ request: 'exists', room: 4242 })).data.exists, false);
  assert.equal((await ask({ request: 'exists', room: 4243 })).data.exists, false);
});

test('recording cannot be switched on without the room secret', async () => {
  refusedWith(await ask({ request: 'enable_recording', room: room.room, record: true }),
    [MISSING_ELEMENT], 'enable_recording without secret');
  refusedWith(await ask({ request: 'enable_recording', room: room.room, record: true,
    secret: 'guess' }), [UNAUTHORIZED], 'enable_recording with a wrong secret');
  refusedWith(await ask({ request: 'edit', room: room.room, new_rec_dir: '/tmp/steal' }),
    [MISSING_ELEMENT], 'edit of rec_dir without secret');
});

test('rtp_forward needs the admin key even with the room secret', async () => {
  const forward = { request: 'rtp_forward', room: room.room, publisher_id: 1,
    host: '127.0.0.1', video_port: 40000 };
  refusedWith(await ask({ ...forward, secret: room.secret }), [MISSING_ELEMENT],
    'rtp_forward without admin key');
  refusedWith(await ask({ ...forward, secret: room.secret, admin_key: 'guess' }), [UNAUTHORIZED],
    'rtp_forward with a wrong admin key');
  refusedWith(await ask({ ...forward, admin_key: stack.adminKey }), [MISSING_ELEMENT],
    'rtp_forward without room secret');
});

test('the room cannot be destroyed or joined without its secret and PIN', async () => {
  refusedWith(await ask({ request: 'destroy', room: room.room }), [MISSING_ELEMENT], 'destroy');
  const joiner = await probe.attach();
  refusedWith(await probe.request(joiner, { request: 'join', ptype: 'publisher', room: room.room }),
    [MISSING_ELEMENT], 'join without PIN');
  refusedWith(await probe.request(joiner, { request: 'join', ptype: 'publisher', room: room.room,
    pin: 'guess' }), [UNAUTHORIZED], 'join with a wrong PIN');
});

test('the Admin API needs the admin secret', async () => {
  const ask = async (extra) => (await fetch(stack.janusAdminUrl, { method: 'POST',
    body: JSON.stringify({ janus: 'list_sessions', transaction: 't', ...extra }) })).json();
  const refused = await ask({});
  assert.equal(refused.janus, 'error');
  assert.equal(refused.error.code, 403);
  assert.equal((await ask({ admin_secret: stack.adminKey })).janus, 'success');
});

test('the Janus API listens on 127.0.0.1 only', async () => {
  const outside = `http://${process.env.VEIL_NETNS_ADDR}:8088/janus`;
  await assert.rejects(fetch(outside, { method: 'POST',
    body: JSON.stringify({ janus: 'info', transaction: 't' }) }), 'reachable on the veth address');
  const adminOutside = `http://${process.env.VEIL_NETNS_ADDR}:7088/admin`;
  await assert.rejects(fetch(adminOutside, { method: 'POST', body: '{}' }));
});

test('Janus wrote nothing and its rendered config (with the key) is removed on stop', async () => {
  await probe.destroy();
  probe = null;
  await stack.stop({ keepWork: true });
  const janusFiles = listFiles(stack.janusState);
  assert.deepEqual(janusFiles, ['config/plugins/libjanus_videoroom.so',
    'config/transports/libjanus_http.so']);
  assert.deepEqual(readdirSync(join(stack.janusState, 'cwd')), []);
  assert.ok(!existsSync(join(stack.janusState, 'config/janus.jcfg')));
  rmSync(stack.work, { recursive: true, force: true });
  stack = null;
});
