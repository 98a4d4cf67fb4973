/**
 * Conntrack entries forgotten: a removed backend's UDP flows, so that a client's next
 * datagram is balanced again instead of following a flow to an address that is gone.
 * There is no conntrack tool here and Node has no netlink sockets, so a short Python
 * program (Debian's python3) speaks ctnetlink inside the namespace: it dumps the IPv4
 * table and deletes each entry of the protocol whose reply comes from one of the
 * addresses, by its original tuple.
 */
import { existsSync } from 'node:fs';
import { run } from './exec.js';

const PROTOCOLS = { tcp: 6, udp: 17 } as const;

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Forget, in the namespace at `netns` (undefined: the daemon's own), the `proto` flows whose replies come from `replySources`; returns how many went. */
export async function forgetFlows(netns: string | undefined, proto: keyof typeof PROTOCOLS, replySources: readonly string[]): Promise<number> {
  if (replySources.length === 0) return 0;
  const out = await run(PYTHON, ['-c', CTNETLINK, String(PROTOCOLS[proto]), ...replySources], netns === undefined ? {} : { netns });
  return Number(out.trim()) || 0;
}

/** argv: the protocol's number, then the reply sources. Prints how many entries it deleted. */
const CTNETLINK = `
import socket, struct, sys
# argv: proto number, then reply-source addresses whose flows to forget
proto = int(sys.argv[1]); targets = {socket.inet_aton(a) for a in sys.argv[2:]}
NFNL_SUBSYS_CTNETLINK = 1; GET = 1; DELETE = 2
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.bind((0, 0))
def send(kind, flags, payload=b''):
    body = struct.pack('=BBH', socket.AF_INET, 0, 0) + payload
    s.send(struct.pack('=IHHII', 16 + len(body), (NFNL_SUBSYS_CTNETLINK << 8) | kind, flags, 0, 0) + body)
def attrs(buf):
    i = 0
    while i + 4 <= len(buf):
        ln, ty = struct.unpack_from('=HH', buf, i)
        if ln < 4: break
        yield ty & 0x3fff, buf[i + 4:i + ln], buf[i:i + ln]
        i += (ln + 3) & ~3
def tuple_of(raw):
    ip = pr = None
    for ty, v, _ in attrs(raw):
        if ty == 1: ip = {t: x for t, x, _ in attrs(v)}
        if ty == 2: pr = {t: x for t, x, _ in attrs(v)}
    return ip or {}, pr or {}
send(GET, 0x1 | 0x300)
doomed = []
done = False
while not done:
    data = s.recv(1 << 16)
    i = 0
    while i + 16 <= len(data):
        ln, ty, fl, seq, pid = struct.unpack_from('=IHHII', data, i)
        if ty == 3: done = True; break
        if ty == 2: raise SystemExit('netlink error %d' % struct.unpack_from('=i', data, i + 16)[0])
        orig = None; hit = False
        for t, v, whole in attrs(data[i + 20:i + ln]):
            if t == 1: orig = whole
            if t == 2:
                ip, pr = tuple_of(v)
                if ip.get(1) in targets and pr.get(1, b'\\0')[0] == proto: hit = True
        if hit and orig is not None: doomed.append(orig)
        i += (ln + 3) & ~3
n = 0
for orig in doomed:
    send(DELETE, 0x1 | 0x4, orig)
    r = s.recv(1 << 16)
    err = struct.unpack_from('=i', r, 16)[0] if struct.unpack_from('=H', r, 4)[0] == 2 else 0
    if err == 0: n += 1
print(n)
`;
