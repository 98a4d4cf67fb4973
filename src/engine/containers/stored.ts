/** How containers are kept in the store: container/<id>, checked when loaded. */
import { Collection } from '../../store/collection.js';
import { anyObject, arrayOf, bool, num, object, str } from '../../store/check.js';
import type { ContainerRecord } from './model.js';

const spec = object({
  name: str,
  image: object({ ref: str, id: str }),
  process: object({ entrypoint: arrayOf(str), cmd: arrayOf(str), env: arrayOf(str), tty: bool, openStdin: bool }),
  networkMode: object({ kind: str }),
  networks: anyObject,
  mounts: arrayOf(object({ type: str, source: str, destination: str, readonly: bool })),
  restartPolicy: object({ name: str, maximumRetryCount: num }),
  healthcheck: anyObject,
}, ['healthcheck']);
const healthResult = object({ start: str, end: str, exitCode: num, output: str });
const health = object({ status: str, failingStreak: num, log: arrayOf(healthResult) });
const state = object({ status: str, pid: num, exitCode: num, error: str, startedAt: str, finishedAt: str, health }, ['health']);

export const CONTAINERS = new Collection<ContainerRecord>({
  prefix: 'container/',
  version: 1,
  check: (v) => object<ContainerRecord>({ id: str, created: str, spec, state, restartCount: num, docker: anyObject })(v, 'container'),
});
