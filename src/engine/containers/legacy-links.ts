/**
 * `docker rm --link /web/db`: a legacy link (default bridge) taken off the container
 * that made it, as dockerd's rmLink does. The link name is the parent's name and the
 * alias. The parent's record loses the link, so its next start neither checks the
 * target nor writes the alias's environment and hosts entry; a running parent's
 * /etc/hosts loses the alias's line now (its process keeps the environment it started
 * with, as in Docker). Unlike dockerd, the removal is stored: it survives a daemon restart.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conflict, notFound } from '../../errors.js';
import type { EndpointLink } from '../../network/model.js';
import type { ContainerFacts } from './facts.js';
import type { ContainerRecord } from './model.js';
import { parseLink } from './networking.js';

/** What the removal needs of the container engine. */
export interface LinkOwners {
  /** Every container, running or not. */
  list(all: true): ContainerRecord[];
  /** By ID, name or ID prefix; NotFound in Docker's words. */
  find(idOrName: string): ContainerRecord;
  /** etcDir: the folder of a container's /etc files. */
  facts: Pick<ContainerFacts, 'etcDir'>;
  /** Change a container's record under its lock. */
  updateRecord(id: string, change: (c: ContainerRecord) => Promise<ContainerRecord>): Promise<void>;
}

/** Remove the link named `name` ("/web/db" or "web/db"). */
export async function removeLegacyLink(owners: LinkOwners, name: string): Promise<void> {
  const full = name.startsWith('/') ? name : `/${name}`;
  const slash = full.lastIndexOf('/');
  if (slash === 0) {
    // A container's own name is its "default link name" to dockerd: found, but not removable.
    owners.find(name);
    throw conflict('Conflict, cannot remove the default link name of the container');
  }
  const parentName = full.slice(1, slash);
  const alias = full.slice(slash + 1);
  const parent = owners.list(true).find((c) => c.spec.name === parentName);
  if (parent === undefined || !parent.spec.links.some((l) => parseLink(l).alias === alias)) {
    throw notFound(`No such container: ${name}`);
  }
  await owners.updateRecord(parent.id, async (c) => {
    const removed = c.spec.links.map(parseLink).filter((l) => l.alias === alias);
    const kept = c.spec.links.filter((l) => parseLink(l).alias !== alias);
    if (c.state.status === 'running') for (const l of removed) dropHostsLine(path.join(owners.facts.etcDir(c), 'hosts'), l);
    return { ...c, spec: { ...c.spec, links: kept }, docker: { ...c.docker, hostConfig: withoutLink(c.docker.hostConfig, alias) } };
  });
}

/** HostConfig as the client sent it, without the link's entry in Links (inspect shows it). */
function withoutLink(hostConfig: ContainerRecord['docker']['hostConfig'], alias: string): ContainerRecord['docker']['hostConfig'] {
  if (hostConfig === null || typeof hostConfig !== 'object' || Array.isArray(hostConfig)) return hostConfig;
  const links = hostConfig.Links;
  if (!Array.isArray(links)) return hostConfig;
  return { ...hostConfig, Links: links.filter((l) => typeof l !== 'string' || parseLink(l).alias !== alias) };
}

/** The hosts file without the link's line. */
function dropHostsLine(file: string, link: EndpointLink): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return;
  }
  // Truncate and write: the file is bind-mounted, so its inode must stay.
  fs.writeFileSync(file, hostsWithoutLink(text, link));
}

/**
 * Pure: a hosts text without the link's entry, whatever its address (the target may have
 * restarted since): the line naming the alias first, then the target's name, last its
 * short ID, as etc-files.ts writes it. Other lines (--add-host ones too) stay.
 */
export function hostsWithoutLink(text: string, link: EndpointLink): string {
  const isLink = (line: string): boolean => {
    const names = line.trim().split(/\s+/).slice(1);
    return names.length >= 2 && names[0] === link.alias && names.includes(link.target) && /^[0-9a-f]{12}$/.test(names.at(-1)!);
  };
  return text
    .split('\n')
    .filter((line) => !isLink(line))
    .join('\n');
}
