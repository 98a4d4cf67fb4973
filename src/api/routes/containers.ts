/** /containers routes: create, lifecycle, inspect, list, attach, wait, logs, resize. */
import { conflict, invalid, wrapError } from '../../errors.js';
import type { ContainerEngine } from '../../engine/containers/engine.js';
import { removeLegacyLink } from '../../engine/containers/legacy-links.js';
import type { WaitCondition } from '../../engine/containers/lifecycle.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { ImageStore } from '../../engine/images/index.js';
import type { VolumeStore } from '../../engine/volumes/store.js';
import type { NetworkController } from '../../network/controller.js';
import { drained } from '../../util/streams.js';
import { frame, MULTIPLEXED_STREAM, RAW_STREAM } from '../hijack.js';
import { logConfigOf } from '../../engine/containers/logging.js';
import { readLogFiles } from '../../logs/files/reader.js';
import { parseRfc3339, rfc3339NanoFixed, type LogRecord, type LogTime } from '../../logs/message.js';
import type { LogService } from '../../logs/service.js';
import type { Router } from '../router.js';
import { inspectShape, listShape, type ContainerView, type PortSummary } from '../shapes/container.js';
import { boolParam, parseFilters } from '../wire.js';
import { attachContainer } from './container-attach.js';
import { parseContainerCreate } from './container-create.js';
import { filterContainers } from './container-filters.js';

export interface ContainerRoutesDeps {
  engine: ContainerEngine;
  networks: NetworkController;
  images: ImageStore;
  volumes: VolumeStore;
  logs: LogService;
  /** Published ports of a container as inspect shows them (NetworkSettings.Ports). */
  ports(c: ContainerRecord): Record<string, { HostIp: string; HostPort: string }[] | null>;
}

export function containerView(deps: ContainerRoutesDeps, c: ContainerRecord): ContainerView {
  const { networks, engine } = deps;
  const lookup = (idOrName: string) => {
    try {
      return networks.find(idOrName);
    } catch {
      return undefined;
    }
  };
  return {
    c,
    endpoints: networks.endpointsOf(c.id),
    network: lookup,
    networkByName: lookup,
    etcDir: engine.facts.etcDir(c),
    logPath: deps.logs.logPath(c.id, logConfigOf(c)),
    sandboxKey: networks.sandboxPath(c.id),
    hostname: engine.facts.hostnameOf(c),
    domainname: engine.facts.domainnameOf(c),
    ports: deps.ports(c),
    graphDriverData: graphDriverData(deps, c),
  };
}

/** overlay2's names for the dirs of the container's root; null when its image is gone. */
function graphDriverData(deps: ContainerRoutesDeps, c: ContainerRecord): Record<string, string> | null {
  const dir = deps.engine.facts.dir(c.id);
  try {
    const layers = deps.images.layerDirs(c.spec.image.id);
    return { LowerDir: [...layers].reverse().join(':'), MergedDir: `${dir}/merged`, UpperDir: `${dir}/upper`, WorkDir: `${dir}/work` };
  } catch {
    return null;
  }
}

export function containerRoutes(router: Router, deps: ContainerRoutesDeps): void {
  const { engine, images } = deps;
  const volumePath = (name: string) => deps.volumes.get(name).mountpoint;
  router
    .add('POST', '/containers/create', async (req) => {
      const { req: spec, docker, warnings } = parseContainerCreate(await req.json(), req.query.get('name'), req.version, (r) => deps.logs.settle(r));
      const image = images.resolve(spec.imageRef);
      const { imageRef, ...rest } = spec;
      const c = await engine.create({ ...rest, image: { ref: imageRef, id: image.id } }, docker);
      return { status: 201, body: { Id: c.id, Warnings: warnings } };
    })
    .add('GET', '/containers/json', async (req) => {
      const all = boolParam(req.query, 'all');
      const filters = parseFilters(req.query.get('filters'));
      const ports = (c: ContainerRecord) => portsList(deps.ports(c));
      let list = filterContainers(engine.list(all || 'status' in filters || 'exited' in filters), filters, { networks: deps.networks, ports });
      const limit = Number(req.query.get('limit') ?? '-1');
      if (limit > 0) list = list.slice(0, limit);
      return { status: 200, body: list.map((c) => listShape(containerView(deps, c), c.spec.image.ref, ports(c), volumePath)) };
    })
    .add('GET', '/containers/{id}/json', async (req) => {
      const c = engine.find(req.params.id!);
      return { status: 200, body: inspectShape(containerView(deps, c), volumePath) };
    })
    .add('POST', '/containers/{id}/start', async (req) => ({ status: (await engine.start(req.params.id!)) ? 204 : 304 }))
    .add('POST', '/containers/{id}/stop', async (req) => {
      const t = req.query.get('t');
      const stopped = await engine.stop(req.params.id!, t === null ? undefined : Number(t), req.query.get('signal') ?? undefined);
      return { status: stopped ? 204 : 304 };
    })
    .add('POST', '/containers/{id}/restart', async (req) => {
      const t = req.query.get('t');
      await engine.restart(req.params.id!, t === null ? undefined : Number(t));
      return { status: 204 };
    })
    .add('POST', '/containers/{id}/kill', async (req) => {
      const name = req.params.id!;
      // Docker (26 on) words every kill failure this way, with the name as given.
      await engine.kill(name, req.query.get('signal') || 'SIGKILL').catch((e: unknown) => {
        throw wrapError(e, `cannot kill container: ${name}`);
      });
      return { status: 204 };
    })
    .add('DELETE', '/containers/{name}', async (req) => {
      if (boolParam(req.query, 'link')) await removeLegacyLink(engine, req.params.name!);
      else await engine.remove(req.params.name!, { force: boolParam(req.query, 'force'), volumes: boolParam(req.query, 'v') });
      return { status: 204 };
    })
    .add('POST', '/containers/{id}/wait', async (req) => {
      const cond = (req.query.get('condition') || 'not-running') as WaitCondition;
      if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw invalid(`invalid condition: "${cond}"`);
      const c = engine.find(req.params.id!);
      const code = engine.wait(c.id, cond);
      // docker run sends wait before start and blocks until it has the headers.
      req.res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.44' });
      req.res.flushHeaders();
      req.res.end(JSON.stringify({ StatusCode: await code }) + '\n');
      return { handled: true };
    })
    .add('POST', '/containers/{id}/attach', async (req) => attachContainer(req, engine, deps.logs))
    .add('POST', '/containers/{id}/resize', async (req) => {
      const c = engine.find(req.params.id!);
      await deps.engine.resize(c.id, { rows: Number(req.query.get('h') ?? 24), cols: Number(req.query.get('w') ?? 80) });
      return { status: 200 };
    })
    .add('GET', '/containers/{id}/logs', async (req) => {
      const c = engine.find(req.params.id!);
      const stdout = boolParam(req.query, 'stdout');
      const stderr = boolParam(req.query, 'stderr');
      if (!stdout && !stderr) throw invalid('Bad parameters: you must choose at least one stream');
      if (c.state.status === 'removing') throw conflict('can not get logs from container which is dead or marked for removal');
      const files = deps.logs.reader({ id: c.id, config: logConfigOf(c) });
      const tailText = req.query.get('tail') ?? 'all';
      const follow = boolParam(req.query, 'follow');
      const timestamps = boolParam(req.query, 'timestamps');
      const details = boolParam(req.query, 'details');
      const since = timeParam(req.query.get('since'), 'since');
      const until = timeParam(req.query.get('until'), 'until');
      const tty = c.spec.process.tty;
      const running = c.state.status === 'running';
      // Everything conmon holds goes to the files first: a `docker logs` right after a
      // line was written shows it.
      if (running) await deps.logs.sync(c.id);
      req.res.writeHead(200, { 'Content-Type': tty ? RAW_STREAM : MULTIPLEXED_STREAM, 'Api-Version': '1.44' });
      // As dockerd: the status goes out at once, not with the first line, which a quiet
      // container may never write (docker-py's run() inspects as soon as it arrives).
      req.res.flushHeaders();
      const ac = new AbortController();
      req.res.on('close', () => ac.abort());
      const tail = /^\d+$/.test(tailText) ? Number(tailText) : undefined;
      const opts = {
        follow: follow && running,
        ...(tail !== undefined ? { tail } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
        signal: ac.signal,
      };
      for await (const r of readLogFiles(files, opts)) {
        if ((r.stream === 'stdout' && !stdout) || (r.stream === 'stderr' && !stderr)) continue;
        const line = renderLogLine(r, { timestamps, details });
        if (!req.res.write(tty ? line : frame(r.stream === 'stdout' ? 1 : 2, line))) {
          await drained(req.res); // a client gone meanwhile sends no 'drain': the abort ends the loop
        }
      }
      req.res.end();
      return { handled: true };
    });
}

/** Docker's since/until: unix seconds with up to nine fraction digits ("1700000000.123456789"), or RFC 3339. */
export function timeParam(v: string | null, name: string): LogTime | undefined {
  if (v === null || v === '' || v === '0') return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return { sec: Number(m[1]), nsec: Number((m[2] ?? '').padEnd(9, '0')) };
  const t = parseRfc3339(v);
  if (!t) throw invalid(`invalid value for "${name}": ${v}`);
  return t;
}

/** One line as `docker logs` shows it: -t's fixed-width time, --details' attributes (sorted, query-escaped). */
export function renderLogLine(r: LogRecord, o: { timestamps: boolean; details: boolean }): Buffer {
  let line = r.line;
  if (o.details) {
    const attrs = [...r.attrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`);
    line = Buffer.concat([Buffer.from(`${attrs.join(',')} `), line]);
  }
  if (o.timestamps) line = Buffer.concat([Buffer.from(`${rfc3339NanoFixed(r.time)} `), line]);
  return line;
}

/** Go's url.QueryEscape: spaces as "+", everything but letters, digits and -_.~ escaped. */
function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

/** The list view of published ports: one entry per binding, unpublished exposed ports without IP. */
export function portsList(ports: Record<string, { HostIp: string; HostPort: string }[] | null>): PortSummary[] {
  const out: PortSummary[] = [];
  for (const [key, bindings] of Object.entries(ports)) {
    const [port, type = 'tcp'] = key.split('/');
    if (!bindings || bindings.length === 0) out.push({ PrivatePort: Number(port), Type: type });
    else for (const b of bindings) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  return out;
}

