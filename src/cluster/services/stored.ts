/**
 * How services live in the cluster store: one typed collection per kind of model.ts,
 * and the claims that keep two managers from giving one name or published port twice.
 *
 * Keys beside model.ts's: service-names/<name> (the service's ID) and
 * service-ports/<protocol>/<port> (the service's ID), both taken in the transaction that
 * writes the service, so a name or an ingress port is never held by two services.
 */
import { Collection } from '../../store/collection.js';
import { anyObject, arrayOf, num, object, str } from '../../store/check.js';
import type { ServiceRecord, TaskRecord, TaskStatus } from './model.js';

/** services/<id> */
export const SERVICES = new Collection<ServiceRecord>({
  prefix: 'services/',
  version: 1,
  check: (v) => object<ServiceRecord>({ id: str, version: num, createdAt: str, updatedAt: str, spec: anyObject, virtualIps: arrayOf(anyObject), ports: arrayOf(anyObject) })(v, 'service'),
});

/** tasks/<id> */
export const TASKS = new Collection<TaskRecord>({
  prefix: 'tasks/',
  version: 1,
  check: (v) => object<TaskRecord>({ id: str, version: num, createdAt: str, updatedAt: str, serviceId: str, nodeId: str, spec: anyObject, serviceVersion: num, desiredState: str })(v, 'task'),
});

/** task-status/<id> */
export const TASK_STATUS = new Collection<TaskStatus>({
  prefix: 'task-status/',
  version: 1,
  check: (v) => object<TaskStatus>({ state: str, message: str, timestamp: str, networks: arrayOf(anyObject) })(v, 'task status'),
});

/** service-names/<name>: the service's ID. */
export const SERVICE_NAMES = 'service-names/';

/** service-ports/<protocol>/<port>: the service that publishes it in ingress mode. */
export function portKey(protocol: string, port: number): string {
  return `service-ports/${protocol}/${port}`;
}
