/**
 * docker rename, as dockerd's ContainerRename: the new name is checked and reserved, the
 * record takes it, and a running container's endpoints answer to it in the embedded DNS
 * (the old name no longer resolves). Other containers that name it follow it, as
 * dockerd's links follow a container rather than its name: their --link targets
 * (default bridge and user networks) and a container:<name> network mode; a running
 * one's /etc/hosts line for a legacy link names it anew. The rename event carries the
 * old name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid, messageOf, wrapError } from '../../errors.js';
import type { EventSink } from '../../events/types.js';
import type { NetworkController } from '../../network/controller.js';
import type { EndpointLink, EndpointRecord } from '../../network/model.js';
import type { Json } from '../../store/kv.js';
import { containerEvent } from './events.js';
import type { EngineLog, LifecycleHooks } from './lifecycle.js';
import type { ContainerId, ContainerRecord } from './model.js';
import { validateName } from './names.js';
import { parseLink } from './networking.js';
import type { ContainerRecords } from './records.js';

export interface RenameDeps {
  records: ContainerRecords;
  networks: NetworkController;
  hooks: readonly LifecycleHooks[];
  events: EventSink;
  log: EngineLog;
  /** Hold a name against creates and other renames (Docker's conflict when taken). */
  claimName(name: string, id: ContainerId): void;
  releaseName(name: string): void;
  /** The folder of a container's /etc files. */
  etcDir(c: ContainerRecord): string;
}

export async function renameContainer(deps: RenameDeps, oldRaw: string, newRaw: string): Promise<void> {
  const oldGiven = oldRaw.trim();
  const newGiven = newRaw.trim();
  if (oldGiven.replace(/^\//, '') === '' || newGiven.replace(/^\//, '') === '') throw invalid('Neither old nor new names may be empty');
  const { id } = deps.records.find(oldGiven);
  let oldName = '';
  let newName = '';
  await deps.records.lock(id).run(async () => {
    const c = deps.records.find(id);
    oldName = c.spec.name;
    if (newGiven.replace(/^\//, '') === oldName) throw invalid('Renaming a container with the same name as its current name');
    try {
      // dockerd checks the name with its slash, and says so.
      newName = validateName(`/${newGiven.replace(/^\//, '')}`);
      deps.claimName(newName, c.id);
    } catch (e: unknown) {
      throw wrapError(e, 'Error when allocating new name');
    }
    try {
      await deps.records.save({ ...c, spec: { ...c.spec, name: newName } });
    } finally {
      deps.releaseName(newName);
    }
  });
  const endpoints = await deps.networks.renameContainer(id, oldName, newName);
  for (const peer of deps.records.all()) {
    if (peer.id !== id && namesTarget(peer, oldName)) await relink(deps, peer.id, oldName, newName);
  }
  await republish(deps, endpoints);
  containerEvent(deps.events, deps.records.find(id), 'rename', { oldName: `/${oldName}` });
}

/** Whether the container names `target` in a link or its network mode. */
function namesTarget(c: ContainerRecord, target: string): boolean {
  const mode = c.spec.networkMode;
  const links = [...c.spec.links, ...Object.values(c.spec.networks).flatMap((n) => n.links)];
  return links.some((l) => parseLink(l).target === target) || (mode.kind === 'container' && mode.target === target);
}

/** A container that names the renamed one: its record names it anew, and its hosts line if it runs. */
async function relink(deps: RenameDeps, peerId: ContainerId, oldName: string, newName: string): Promise<void> {
  await deps.records.lock(peerId).run(async () => {
    const c = deps.records.get(peerId);
    if (!c) return;
    const mode = c.spec.networkMode;
    const networks = Object.fromEntries(Object.entries(c.spec.networks).map(([k, n]) => [k, { ...n, links: renamedLinks(n.links, oldName, newName) }]));
    const spec = {
      ...c.spec,
      links: renamedLinks(c.spec.links, oldName, newName),
      networks,
      networkMode: mode.kind === 'container' && mode.target === oldName ? { ...mode, target: newName } : mode,
    };
    await deps.records.save({ ...c, spec, docker: { ...c.docker, hostConfig: renamedHostConfig(c.docker.hostConfig, oldName, newName) } });
    if (c.state.status !== 'running') return;
    const hosts = path.join(deps.etcDir(c), 'hosts');
    for (const link of c.spec.links.map(parseLink).filter((l) => l.target === oldName)) {
      try {
        // Truncate and write: the file is bind-mounted, so its inode must stay.
        fs.writeFileSync(hosts, hostsWithRenamedLink(fs.readFileSync(hosts, 'utf8'), link, newName));
      } catch (e: unknown) {
        deps.log.warn(`renaming a link in ${c.spec.name}'s /etc/hosts: ${messageOf(e)}`);
      }
    }
  });
}

/** The running containers whose endpoints changed publish them again (the DNS names and link aliases). */
async function republish(deps: RenameDeps, endpoints: EndpointRecord[]): Promise<void> {
  for (const containerId of new Set(endpoints.map((e) => e.containerId))) {
    const c = deps.records.get(containerId as ContainerId);
    if (c?.state.status !== 'running') continue;
    const mine = endpoints.filter((e) => e.containerId === containerId);
    for (const h of deps.hooks) await h.renamed?.(c, mine).catch((e: unknown) => deps.log.warn(`renaming ${c.spec.name} in DNS: ${messageOf(e)}`));
  }
}

/** Links ("name", "name:alias", "/name:/parent/alias") to `oldName` now to `newName`, the alias kept. */
export function renamedLinks(links: readonly string[], oldName: string, newName: string): string[] {
  return links.map((l) => {
    const { target, alias } = parseLink(l);
    if (target !== oldName) return l;
    return l.startsWith('/') ? `/${newName}${l.slice(l.indexOf(':'))}` : `${newName}:${alias}`;
  });
}

/** The stored HostConfig with its Links and a container:<name> NetworkMode renamed. */
function renamedHostConfig(hc: Json, oldName: string, newName: string): Json {
  if (hc === null || typeof hc !== 'object' || Array.isArray(hc)) return hc;
  const out = { ...hc };
  if (Array.isArray(hc.Links)) out.Links = renamedLinks(hc.Links.filter((l): l is string => typeof l === 'string'), oldName, newName);
  if (hc.NetworkMode === `container:${oldName}`) out.NetworkMode = `container:${newName}`;
  return out;
}

/**
 * Pure: the hosts text with the link's line (alias first, the target's name, its short
 * ID last, as etc-files.ts writes it) naming the target by its new name.
 */
export function hostsWithRenamedLink(text: string, link: EndpointLink, newName: string): string {
  return text
    .split('\n')
    .map((line) => {
      const [address, ...names] = line.trim().split(/\s+/);
      const shortId = names.at(-1) ?? '';
      if (names.length < 2 || names[0] !== link.alias || !names.includes(link.target) || !/^[0-9a-f]{12}$/.test(shortId)) return line;
      return `${address}\t${[...new Set([link.alias, newName, shortId])].join(' ')}`;
    })
    .join('\n');
}
