// Talks to the Janus API directly, the way an attacker with local access would, so tests can
// show what our shipped config refuses. Only for tests: veil-server is the only legitimate client.
import { randomBytes } from 'node:crypto';

const transaction = () => randomBytes(8).toString('hex');

export class JanusProbe {
  constructor(url) { this.url = url; this.session = null; }

  async post(path, body) {
    const response = await fetch(`${this.url}${path}`, {
      method: 'POST', body: JSON.stringify({ transaction: transaction(), ...body }),
    });
    return response.json();
  }

  async connect() {
    const created = await this.post('', { janus: 'create' });
    if (created.janus !== 'success') throw new Error(`Janus create: ${JSON.stringify(created)}`);
    this.session = created.data.id;
    return this;
  }

  async attach(plugin = 'janus.plugin.videoroom') {
    const attached = await this.post(`/${this.session}`, { janus: 'attach', plugin });
    if (attached.janus !== 'success') throw new Error(`attach: ${JSON.stringify(attached)}`);
    return attached.data.id;
  }

  // A plugin request. Synchronous ones answer in the POST; asynchronous ones are acked and the
  // answer is fetched by long polling (bounded). Returns { data, jsep, janus }.
  async request(handle, body, jsep) {
    const tx = transaction();
    const message = { janus: 'message', body, transaction: tx };
    if (jsep) message.jsep = jsep;
    const response = await fetch(`${this.url}/${this.session}/${handle}`, {
      method: 'POST', body: JSON.stringify(message) });
    const reply = await response.json();
    if (reply.janus === 'success') return { janus: 'success', data: reply.plugindata?.data };
    if (reply.janus === 'error') return { janus: 'error', data: reply.error };
    for (let polls = 0; polls < 10; polls += 1) {
      const events = await (await fetch(`${this.url}/${this.session}?maxev=10`)).json();
      for (const event of Array.isArray(events) ? events : [events]) {
        if (event.transaction === tx && event.janus === 'event') {
          return { janus: 'event', data: event.plugindata?.data, jsep: event.jsep };
        }
      }
    }
    throw new Error(`no answer to ${JSON.stringify(body)}`);
  }

  async destroy() {
    if (this.session) await this.post(`/${this.session}`, { janus: 'destroy' }).catch(() => {});
    this.session = null;
  }
}
