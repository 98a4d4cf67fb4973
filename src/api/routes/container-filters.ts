/** Docker's container list filters. */
import { invalid } from '../../errors.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { NetworkController } from '../../network/controller.js';

const KEYS = new Set(['ancestor', 'before', 'exited', 'id', 'label', 'name', 'status', 'since', 'network', 'volume', 'publish', 'expose', 'health', 'isolation', 'is-task']);

export function filterContainers(list: ContainerRecord[], f: Record<string, string[]>, networks: NetworkController): ContainerRecord[] {
  for (const k of Object.keys(f)) if (!KEYS.has(k)) throw invalid(`invalid filter '${k}'`);
  const any = (vals: string[] | undefined, test: (v: string) => boolean) => !vals || vals.length === 0 || vals.some(test);
  const names = (f.name ?? []).map((v) => {
    try {
      return new RegExp(v);
    } catch {
      throw invalid(`invalid filter 'name=${v}': not a regular expression`);
    }
  });
  return list.filter(
    (c) =>
      any(f.id, (v) => c.id.startsWith(v)) &&
      (names.length === 0 || names.some((re) => re.test(`/${c.spec.name}`))) &&
      any(f.status, (v) => c.state.status === v) &&
      any(f.exited, (v) => c.state.status === 'exited' && c.state.exitCode === Number(v)) &&
      any(f.ancestor, (v) => c.spec.image.ref === v || c.spec.image.id.includes(v)) &&
      any(f.network, (v) => networks.endpointsOf(c.id).some((e) => e.networkId.startsWith(v) || networks.find(e.networkId).record.name === v)) &&
      (f.label ?? []).every((l) => {
        const eq = l.indexOf('=');
        return eq < 0 ? l in c.spec.labels : c.spec.labels[l.slice(0, eq)] === l.slice(eq + 1);
      }),
  );
}
