/**
 * What a container's record implies once read with its image, its namespace owner and its
 * link targets: its folder, hostname, exposed ports, the ports a start publishes, the
 * process it runs and what an exec inherits. Pure reads (the hostname of a host-mode
 * container reads the machine's); nothing here changes state.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NetworkController } from '../../network/controller.js';
import { parsePortBindings, type PortSpec } from '../../network/ports/index.js';
import type { EngineImages } from './lifecycle.js';
import type { ContainerRecord } from './model.js';
import { namespaceOwner } from './networking.js';
import { resolveProcess, type ResolvedProcess } from './process.js';
import { linkEnv } from './run-spec.js';

/** Where a container's files live under the data root (its layers, /etc files, logs). */
export function containerDir(dataRoot: string, id: string): string {
  return path.join(dataRoot, 'containers', id);
}

export interface FactsDeps {
  dataRoot: string;
  images: EngineImages;
  networks: NetworkController;
  /** A container by ID or name; throws when there is none. */
  find(idOrName: string): ContainerRecord;
}

export class ContainerFacts {
  constructor(private readonly deps: FactsDeps) {}

  dir(id: string): string {
    return containerDir(this.deps.dataRoot, id);
  }

  /** "80/tcp" keys: --expose, the image's EXPOSE and every bound port. */
  exposedPorts(c: ContainerRecord): string[] {
    const image = this.deps.images.get(c.spec.image.id as never)?.config.config?.ExposedPorts ?? {};
    return [...new Set([...c.spec.exposedPorts, ...Object.keys(image), ...c.spec.portBindings.map((b) => b.port)])];
  }

  /** -p, and with -P every exposed port (the container's and the image's), as publication requests. */
  portRequests(c: ContainerRecord): PortSpec[] {
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const b of c.spec.portBindings) (bindings[b.port] ??= []).push({ HostIp: b.hostIp, HostPort: b.hostPort });
    return parsePortBindings(bindings, Object.fromEntries(this.exposedPorts(c).map((k) => [k, {}])), c.spec.publishAllPorts);
  }

  /** The hostname it runs with; a container:<x> container takes its namespace owner's, as in Docker. */
  hostnameOf(c: ContainerRecord): string {
    const owner = this.namespaceOwner(c);
    if (owner.spec.hostname) return owner.spec.hostname;
    return owner.spec.networkMode.kind === 'host' ? fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() : owner.id.slice(0, 12);
  }

  domainnameOf(c: ContainerRecord): string {
    return this.namespaceOwner(c).spec.domainname;
  }

  /** The folder of the /etc files it mounts (the owner's for a container:<x> container). */
  etcDir(c: ContainerRecord): string {
    return this.dir(this.namespaceOwner(c).id);
  }

  /** The process it runs (its image must exist); `hostname` when the caller has it already. */
  process(c: ContainerRecord, hostname = this.hostnameOf(c)): ResolvedProcess {
    return resolveProcess(c.spec, this.deps.images.resolve(c.spec.image.id).config.config ?? {}, hostname);
  }

  /** The process it runs, as its log drivers name it; undefined when its image is gone. */
  processIfImage(c: ContainerRecord): { args: string[]; env: string[] } | undefined {
    try {
      return this.process(c);
    } catch {
      return undefined;
    }
  }

  /** What an exec inherits from the container's process: its environment, working directory and user. */
  execDefaults(idOrName: string): { env: string[]; cwd: string; user: string } {
    const p = this.process(this.deps.find(idOrName));
    return { env: p.env, cwd: p.cwd, user: p.user };
  }

  /** The variables of its legacy --link targets. */
  linkEnv(c: ContainerRecord): string[] {
    const targets = c.spec.links.map((l) => {
      const [targetName, aliasRaw] = l.split(':');
      const t = this.deps.find(targetName!);
      return {
        alias: (aliasRaw ?? t.spec.name).replace(/^\//, ''),
        ip: this.deps.networks.endpointsOf(t.id).find((e) => e.ipv4)?.ipv4?.address,
        exposedPorts: this.exposedPorts(t),
        env: t.spec.process.env,
      };
    });
    return linkEnv(c.spec.name, targets);
  }

  /** Itself when the owner is gone (an exited container:<x> container whose target was removed). */
  private namespaceOwner(c: ContainerRecord): ContainerRecord {
    try {
      return namespaceOwner(c, this.deps.find);
    } catch {
      return c;
    }
  }
}
