/** Docker's container list filters (daemon/list.go). */
import { invalid } from '../../errors.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { NetworkController } from '../../network/controller.js';
import { stateText, type PortSummary } from '../shapes/container.js';

const KEYS = new Set(['ancestor', 'before', 'exited', 'id', 'label', 'name', 'status', 'since', 'network', 'volume', 'publish', 'expose', 'health', 'isolation', 'is-task']);
const HEALTH = ['none', 'starting', 'healthy', 'unhealthy'];

export interface ListFacts {
  networks: NetworkController;
  /** The container's list Ports: none while it is not running, as in Docker. */
  ports(c: ContainerRecord): PortSummary[];
}

export function filterContainers(list: ContainerRecord[], f: Record<string, string[]>, facts: ListFacts): ContainerRecord[] {
  for (const k of Object.keys(f)) if (!KEYS.has(k)) throw invalid(`invalid filter '${k}'`);
  const any = (vals: string[] | undefined, test: (v: string) => boolean) => !vals || vals.length === 0 || vals.some(test);
  const names = (f.name ?? []).map((v) => {
    try {
      return new RegExp(v);
    } catch {
      throw invalid(`invalid filter 'name=${v}': not a regular expression`);
    }
  });
  for (const v of f.health ?? []) {
    if (!HEALTH.includes(v)) throw invalid(`invalid filter 'health=${v}': invalid value for health (${v}): must be one of ${HEALTH.join(', ')}`);
  }
  const publish = portFilter('publish', f.publish ?? []);
  const expose = portFilter('expose', f.expose ?? []);
  const { networks } = facts;
  return list.filter(
    (c) =>
      any(f.id, (v) => c.id.startsWith(v)) &&
      // dockerd matches the name with and without its slash.
      (names.length === 0 || names.some((re) => re.test(`/${c.spec.name}`) || re.test(c.spec.name))) &&
      any(f.status, (v) => stateText(c) === v) &&
      any(f.exited, (v) => c.state.status === 'exited' && c.state.exitCode === Number(v)) &&
      any(f.ancestor, (v) => c.spec.image.ref === v || c.spec.image.id.includes(v)) &&
      any(f.network, (v) => networks.endpointsOf(c.id).some((e) => e.networkId.startsWith(v) || networks.find(e.networkId).record.name === v)) &&
      // A container without a health check is "none" (dockerd's NoHealthcheck).
      any(f.health, (v) => (c.state.health?.status ?? 'none') === v) &&
      any(f.volume, (v) => c.spec.mounts.some((m) => m.source === v || m.destination === v)) &&
      matchesPorts(facts.ports(c), publish, expose) &&
      (f.label ?? []).every((l) => {
        const eq = l.indexOf('=');
        return eq < 0 ? l in c.spec.labels : c.spec.labels[l.slice(0, eq)] === l.slice(eq + 1);
      }),
  );
}

/** Docker's test: any list entry whose public port is in `publish` or private port in `expose`. */
function matchesPorts(ports: PortSummary[], publish: Set<string>, expose: Set<string>): boolean {
  if (publish.size === 0 && expose.size === 0) return true;
  return ports.some((p) => publish.has(`${p.PublicPort ?? 0}/${p.Type}`) || expose.has(`${p.PrivatePort}/${p.Type}`));
}

/** "80", "80/udp", "8000-8080/tcp" as the set of "port/proto" they name (tcp when none is given). */
export function portFilter(key: string, values: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const value of values) {
    if (value.includes(':')) throw invalid(`filter for '${key}' should not contain ':': ${value}`);
    const fail = (why: string) => invalid(`error while looking up for ${key} ${value}: ${why}`);
    if (value === '') throw fail('invalid port range: value is empty');
    const [range = '', proto = ''] = splitOnce(value, '/');
    const [start = '', end] = splitOnce(range, '-');
    const from = portNumber(start, (why) => fail(`invalid start port '${start}': ${why}`));
    const to = end === undefined || end === start ? from : portNumber(end, (why) => fail(`invalid end port '${end}': ${why}`));
    if (to < from) throw fail(`invalid port range: ${value}`);
    for (let p = from; p <= to; p++) out.add(`${p}/${proto.toLowerCase() || 'tcp'}`);
  }
  return out;
}

function splitOnce(s: string, sep: string): [string, string?] {
  const i = s.indexOf(sep);
  return i < 0 ? [s] : [s.slice(0, i), s.slice(i + 1)];
}

/** Go's strconv.ParseUint(s, 10, 16), with its two error texts. */
function portNumber(s: string, fail: (why: string) => Error): number {
  if (s === '') throw fail('value is empty');
  if (!/^\d+$/.test(s)) throw fail('invalid syntax');
  const n = Number(s);
  if (n > 65535) throw fail('value out of range');
  return n;
}
