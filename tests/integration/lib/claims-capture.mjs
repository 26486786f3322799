// Records every frame the test's network namespace sends out of its veth, for the C24 test
// ("no Veil component contacts a service outside the deployment").
//
// lib/in-netns gives the test namespace exactly `lo` and one veth whose peer end sits in a second,
// otherwise empty namespace (`<VEIL_NETNS_NAME>-peer`). Everything a process in the test namespace
// sends to an address that is not its own (the default route, the resolver in /etc/resolv.conf,
// multicast, any other host) must cross that veth, while traffic between the deployment's
// components stays on `lo` (their own addresses). So a raw AF_PACKET socket bound to the peer end
// sees every attempt to reach the outside, whichever process made it. No tcpdump or nftables is
// installed here; the capture is a few lines of Python (standard library only) run in the peer
// namespace.
//
//   const capture = await startCapture();   // inside lib/in-netns
//   ...
//   const frames = await capture.stop();     // [{kind, src, dst, proto, dport, icmp6}, ...]
//   outsideContacts(frames)                  // frames that are more than kernel link upkeep
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { sleep, waitFor } from './stack.mjs';

// Runs in the peer namespace: prints one JSON line per frame received from the test namespace
// (PACKET_OUTGOING frames are the peer's own and are skipped), until SIGTERM.
const capturer = String.raw`
import json, signal, socket, struct, sys
iface = sys.argv[1]
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL
sock.bind((iface, 0))
sock.settimeout(0.2)
running = True
def stop(*_):
    global running
    running = False
signal.signal(signal.SIGTERM, stop)
print(json.dumps({"ready": iface}), flush=True)
limit = 50000  # frames kept; more than that fails the capture (never silently)
seen = 0
def qname(payload):
    labels, at = [], 12
    while at < len(payload) and payload[at] and len(labels) < 40:
        labels.append(payload[at + 1:at + 1 + payload[at]].decode("ascii", "replace"))
        at += 1 + payload[at]
    return ".".join(labels)
def describe(out, proto, payload):
    # What was asked: the DNS question, or the first line and agent of a text (SSDP/mDNS) datagram.
    data = payload[8:] if proto == 17 else b""
    if out.get("dport") == 53 and len(data) > 12:
        out["dns"] = qname(data)
    elif data[:1].isalpha():
        text = data[:400].decode("ascii", "replace").split("\r\n")
        out["text"] = [line for line in text if line and (line == text[0] or
                       line.upper().startswith(("ST:", "USER-AGENT:", "SERVER:")))]
def ports(proto, payload):
    if proto in (6, 17) and len(payload) >= 4:
        return struct.unpack("!HH", payload[:4])
    return (None, None)
while running:
    try:
        frame, addr = sock.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    seen += 1
    if seen > limit:
        continue
    ethertype = struct.unpack("!H", frame[12:14])[0]
    out = {"ethertype": hex(ethertype)}
    body = frame[14:]
    if ethertype == 0x0806 and len(body) >= 28:
        out.update(kind="arp", op=struct.unpack("!H", body[6:8])[0],
                   src=socket.inet_ntoa(body[14:18]), dst=socket.inet_ntoa(body[24:28]))
    elif ethertype == 0x0800 and len(body) >= 20:
        header = (body[0] & 15) * 4
        proto = body[9]
        sport, dport = ports(proto, body[header:])
        out.update(kind="ipv4", proto=proto, src=socket.inet_ntoa(body[12:16]),
                   dst=socket.inet_ntoa(body[16:20]), sport=sport, dport=dport)
        describe(out, proto, body[header:])
    elif ethertype == 0x86DD and len(body) >= 40:
        proto = body[6]
        offset = 40
        while proto in (0, 43, 60) and len(body) >= offset + 8:  # hop-by-hop, routing, dest opts
            proto, offset = body[offset], offset + (body[offset + 1] + 1) * 8
        sport, dport = ports(proto, body[offset:])
        out.update(kind="ipv6", proto=proto, src=socket.inet_ntop(socket.AF_INET6, body[8:24]),
                   dst=socket.inet_ntop(socket.AF_INET6, body[24:40]), sport=sport, dport=dport)
        describe(out, proto, body[offset:])
        if proto == 58 and len(body) > offset:
            out["icmp6"] = body[offset]
    else:
        out["kind"] = "other"
    print(json.dumps(out), flush=True)
print(json.dumps({"done": seen, "limit": limit}), flush=True)
`;

// ICMPv6 the kernel sends by itself when a link comes up (router solicitation, neighbour
// solicitation/advertisement, MLD reports): link upkeep, not a process contacting a service.
const kernelIcmp6 = new Set([130, 131, 132, 133, 135, 136, 143]);

// Frames that show a process trying to reach something beyond the namespace: any IPv4 packet,
// any ARP request (the kernel resolving a next hop for one), any IPv6 packet other than the
// kernel's own link upkeep, and anything unparsed.
export function outsideContacts(frames) {
  return frames.filter((f) => {
    if (f.kind === 'ipv6') return !(f.proto === 58 && kernelIcmp6.has(f.icmp6));
    if (f.kind === 'arp') return f.op === 1;
    return true;
  });
}

export function peerNamespace() {
  const name = process.env.VEIL_NETNS_NAME;
  if (!name) throw new Error('run through tests/integration/lib/in-netns');
  return `${name}-peer`;
}

// The veth end in the peer namespace (its only link besides lo).
function peerInterface(namespace) {
  const links = execFileSync('ip', ['-n', namespace, '-o', 'link', 'show']).toString()
    .split('\n').map((line) => line.split(':')[1]?.trim().split('@')[0]).filter(Boolean);
  const veth = links.filter((name) => name !== 'lo');
  if (veth.length !== 1) throw new Error(`peer namespace links: ${links.join(',')}`);
  return veth[0];
}

export async function startCapture() {
  const namespace = peerNamespace();
  const iface = peerInterface(namespace);
  const child = spawn('ip', ['netns', 'exec', namespace, 'python3', '-c', capturer, iface],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { text: '', errors: '' };
  child.stdout.on('data', (chunk) => { output.text += chunk.toString(); });
  child.stderr.on('data', (chunk) => { output.errors += chunk.toString(); });
  const exited = new Promise((done) => child.on('exit', done));
  await waitFor(() => output.text.includes('"ready"'),
    { attempts: 50, what: `capture on ${iface}: ${output.errors}` });
  const parse = () => output.text.split('\n').filter(Boolean).map((line) => JSON.parse(line))
    .filter((f) => !('ready' in f) && !('done' in f));
  return {
    iface,
    frames: parse,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      const done = output.text.split('\n').filter((line) => line.includes('"done"'))
        .map((line) => JSON.parse(line))[0];
      if (!done) throw new Error(`capture did not finish: ${output.errors}`);
      if (done.done > done.limit) throw new Error(`capture overflowed: ${done.done} frames`);
      return parse();
    },
  };
}

// Which process owns each local UDP/TCP port in this namespace right now: {port: "comm[pid]"}.
// Read from /proc (socket inodes in /proc/net/*, matched against every process's open fds), so a
// capture can say who sent a frame, as long as the socket still existed at the snapshot.
export function socketOwners() {
  const ownNet = readlinkSync('/proc/self/ns/net');
  const inodes = new Map();  // inode -> port
  for (const table of ['udp', 'udp6', 'tcp', 'tcp6']) {
    let text = '';
    try { text = readFileSync(`/proc/net/${table}`, 'utf8'); } catch (_) { continue; }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      inodes.set(fields[9], parseInt(fields[1].split(':').pop(), 16));
    }
  }
  const owners = {};
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== ownNet) continue;
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = target.match(/^socket:\[(\d+)\]$/)?.[1];
        if (inode && inodes.has(inode)) owners[inodes.get(inode)] = `${comm}[${pid}]`;
      }
    } catch (_) { /* exited meanwhile */ }
  }
  return owners;
}

// Polls socketOwners() every `intervalMs` until stop(); remembers every port's last owner.
export function watchSocketOwners(intervalMs = 500) {
  const seen = {};
  const timer = setInterval(() => Object.assign(seen, socketOwners()), intervalMs);
  return { owners: () => ({ ...seen, ...socketOwners() }), stop: () => clearInterval(timer) };
}
