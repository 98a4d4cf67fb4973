/**
 * A container's /etc/hosts, /etc/hostname and /etc/resolv.conf on disk: files in its
 * folder, written at each start and bind-mounted by the runtime. A live connect or
 * disconnect edits them in place (truncate and write: a bind mount pins the inode, so
 * a renamed new file would never be seen inside).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NetworkController } from '../../network/controller.js';
import type { EndpointRecord } from '../../network/model.js';
import type { MountSpec } from '../../runtime/index.js';
import {
  addHostsEntries,
  containerResolvConf,
  extraHostEntries,
  HOST_GATEWAY,
  ownHostNames,
  parseResolvConf,
  removeHostsEntries,
  renderHosts,
  renderResolvConf,
  type HostsEntry,
  type ResolverMode,
} from './files.js';
import type { ContainerRecord } from './model.js';
import { namespaceOwner } from './networking.js';

export interface EtcFilesDeps {
  networks: NetworkController;
  /** The daemon's --dns. */
  daemonDns: string[];
  /** Path of the host's resolv.conf, read at each start. */
  hostResolvConf: string;
  /** The container's folder. */
  dir(id: string): string;
  /** Another container, by name or ID (links, container:<x> mode). */
  find(idOrName: string): ContainerRecord;
  /** Whether the embedded resolver serves user networks (the DNS service is wired). */
  embeddedDns(): boolean;
  /** What --add-host name:host-gateway stands for (--host-gateway-ip, else the default bridge's gateways). */
  hostGatewayIps(): string[];
}

export class EtcFiles {
  constructor(private readonly deps: EtcFilesDeps) {}

  /**
   * At start: writes the three files from scratch and returns their bind mounts. A
   * container:<x> container writes none: it mounts the files of the namespace's owner,
   * as Docker does, so a connect to the owner shows in both.
   */
  write(c: ContainerRecord, endpoints: readonly EndpointRecord[], hostname: string): MountSpec[] {
    if (c.spec.networkMode.kind === 'container') return mountsOf(this.deps.dir(namespaceOwner(c, this.deps.find).id));
    const dir = this.deps.dir(c.id);
    const files: Record<EtcFile, string> = {
      hostname: `${hostname}\n`,
      hosts: this.hosts(c, endpoints, hostname),
      'resolv.conf': this.resolvConf(c, this.resolverMode(c, endpoints), endpoints),
    };
    for (const file of ETC_FILES) fs.writeFileSync(path.join(dir, file), files[file]);
    return mountsOf(dir);
  }

  /**
   * After a live connect: the new addresses go into /etc/hosts and, with the first user
   * network, resolv.conf names the embedded resolver (whose sockets are open by then).
   */
  joined(c: ContainerRecord, ep: EndpointRecord, hostname: string): void {
    this.edit(c.id, 'hosts', (text) => addHostsEntries(text, ownEntries([ep], ownHostNames(hostname, c.spec.domainname))));
    if (!this.onUserNetwork(ep) || !this.deps.embeddedDns()) return;
    const others = this.deps.networks.endpointsOf(c.id).filter((e) => e.id !== ep.id);
    if (others.some((e) => this.onUserNetwork(e))) return;
    this.edit(c.id, 'resolv.conf', () => this.resolvConf(c, 'embedded', [...others, ep]));
  }

  /** After a live disconnect: its addresses leave /etc/hosts; the resolver stays, as in Docker. */
  left(c: ContainerRecord, ep: EndpointRecord, hostname: string): void {
    this.edit(c.id, 'hosts', (text) => removeHostsEntries(text, ownEntries([ep], ownHostNames(hostname, c.spec.domainname))));
  }

  private edit(id: string, file: string, change: (text: string) => string): void {
    const at = path.join(this.deps.dir(id), file);
    fs.writeFileSync(at, change(fs.readFileSync(at, 'utf8')));
  }

  private onUserNetwork(ep: EndpointRecord): boolean {
    return !this.deps.networks.find(ep.networkId).record.predefined;
  }

  private resolverMode(c: ContainerRecord, endpoints: readonly EndpointRecord[]): ResolverMode {
    if (c.spec.networkMode.kind === 'host') return 'host';
    return this.deps.embeddedDns() && endpoints.some((e) => this.onUserNetwork(e)) ? 'embedded' : 'legacy';
  }

  private resolvConf(c: ContainerRecord, mode: ResolverMode, endpoints: readonly EndpointRecord[]): string {
    return renderResolvConf(
      containerResolvConf({
        host: parseResolvConf(readOr(this.deps.hostResolvConf, '')),
        mode,
        ipv6: endpoints.some((e) => e.ipv6 !== undefined),
        daemonDns: this.deps.daemonDns,
        dns: c.spec.dns,
        dnsSearch: c.spec.dnsSearch,
        dnsOptions: c.spec.dnsOptions,
      }),
    );
  }

  private hosts(c: ContainerRecord, endpoints: readonly EndpointRecord[], hostname: string): string {
    const gateways = c.spec.extraHosts.some((h) => h.endsWith(`:${HOST_GATEWAY}`)) ? this.deps.hostGatewayIps() : [];
    const extra = extraHostEntries(c.spec.extraHosts, gateways);
    if (c.spec.networkMode.kind === 'host') {
      // Docker copies the host's file, unless there are extra hosts: then it builds one
      // (so a name in the host's file can be overridden).
      return extra.length > 0 ? renderHosts([], [], extra) : readOr('/etc/hosts', '127.0.0.1\tlocalhost\n');
    }
    return renderHosts(ownEntries(endpoints, ownHostNames(hostname, c.spec.domainname)), this.linkEntries(c), extra);
  }

  /** /etc/hosts entries for legacy --link name:alias (default bridge). */
  private linkEntries(c: ContainerRecord): HostsEntry[] {
    return c.spec.links.flatMap((l) => {
      const [target, alias] = l.split(':');
      const t = this.deps.find(target!);
      const ep = this.deps.networks.endpointsOf(t.id).find((e) => e.ipv4);
      if (!ep?.ipv4) return [];
      const names = [...new Set([alias ?? t.spec.name, t.spec.name, t.id.slice(0, 12)])];
      return [{ address: ep.ipv4.address, names }];
    });
  }
}

const ETC_FILES = ['hostname', 'hosts', 'resolv.conf'] as const;
type EtcFile = (typeof ETC_FILES)[number];

function mountsOf(dir: string): MountSpec[] {
  return ETC_FILES.map((file) => ({ source: path.join(dir, file), destination: `/etc/${file}`, readonly: false }));
}

function ownEntries(endpoints: readonly EndpointRecord[], names: string[]): HostsEntry[] {
  return endpoints.flatMap((e) => [e.ipv4, e.ipv6].filter((a) => a !== undefined).map((a) => ({ address: a.address, names })));
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
