/**
 * The swarm agent's containers, on this daemon's engine: a task's container is created
 * from Docker's create body as `POST /containers/create` reads it (the same checks and
 * defaults), marked as a task's so it may join swarm networks that are not attachable,
 * and started, stopped and removed as the engine does for any container. Exits are heard
 * from the events bus.
 */
import { parseContainerCreate } from '../api/routes/container-create.js';
import { TASK_LABELS } from '../cluster/services/model.js';
import type { TaskContainer, TaskContainers } from '../cluster/services/agent.js';
import type { ContainerEngine } from '../engine/containers/engine.js';
import type { ImageStore } from '../engine/images/index.js';
import { parseReference } from '../engine/images/reference.js';
import type { Registries } from '../engine/images/distribution/index.js';
import { decodeRegistryAuth } from '../api/routes/image-distribution.js';
import type { EventBus } from '../events/bus.js';
import { readLogFiles } from '../logs/files/reader.js';
import type { LogService } from '../logs/service.js';
import { logConfigOf } from '../engine/containers/logging.js';
import type { NetworkController } from '../network/controller.js';

export function taskContainers(deps: { engine: ContainerEngine; images: ImageStore; registries: Registries; networks: NetworkController; events: EventBus; logs: LogService }): TaskContainers {
  const { engine } = deps;
  return {
    list(): TaskContainer[] {
      return engine
        .list(true)
        .filter((c) => c.spec.labels[TASK_LABELS.taskId] !== undefined)
        .map((c) => ({ id: c.id, taskId: c.spec.labels[TASK_LABELS.taskId]!, status: c.state.status, ...(c.state.health ? { health: c.state.health.status } : {}), exitCode: c.state.exitCode, pid: c.state.pid, error: c.state.error }));
    },
    async create(name, body, registryAuth) {
      const { req, docker } = parseContainerCreate(body, name, undefined, (r) => deps.logs.settle(r));
      // The task's image, pulled with the service's credentials when this node has none (Docker's
      // executor pulls a tag again at every start; berth uses the image it has). A refused pull
      // rejects the task with the registry's words, shown in `service ps`.
      const creds = registryAuth ? decodeRegistryAuth(registryAuth) : undefined;
      const imageId = await deps.registries.ensure(deps.images, parseReference(req.imageRef), creds);
      const { imageRef, ...rest } = req;
      const networks = Object.fromEntries(Object.entries(rest.networks).map(([k, cfg]) => [k, { ...cfg, task: true }]));
      const c = await engine.create({ ...rest, networks, image: { ref: imageRef, id: imageId } }, docker);
      return c.id;
    },
    async start(id) {
      await engine.start(id);
    },
    async stop(id, graceSeconds) {
      await engine.stop(id, graceSeconds);
    },
    async remove(id) {
      await engine.remove(id, { force: true, volumes: true });
    },
    addresses(id) {
      return deps.networks
        .endpointsOf(id)
        .filter((ep) => ep.ipv4 !== undefined)
        .map((ep) => ({ networkId: ep.networkId, addresses: [`${ep.ipv4!.address}/${ep.ipv4!.prefixLen}`] }));
    },
    async *logs(taskId, opts, signal) {
      const c = engine.list(true).find((x) => x.spec.labels[TASK_LABELS.taskId] === taskId);
      if (!c) return;
      const running = c.state.status === 'running';
      // What conmon holds goes to the files first, as for docker logs.
      if (running) await deps.logs.sync(c.id);
      const read = { follow: opts.follow && running, signal, ...(opts.tail !== undefined ? { tail: opts.tail } : {}), ...(opts.since ? { since: opts.since } : {}) };
      yield* readLogFiles(deps.logs.reader({ id: c.id, config: logConfigOf(c) }), read);
    },
    onChange(f) {
      const sub = deps.events.subscribe({ match: (m) => m.Type === 'container' && (m.Action === 'die' || m.Action.startsWith('health_status: ')), onEvent: (m) => f(m.Actor.ID) });
      return () => sub.cancel();
    },
  };
}
