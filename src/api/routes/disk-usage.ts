/** GET /system/df: disk usage of images, containers, volumes (and an empty build cache), in API 1.44's shape. */
import type { DiskUsage } from '../../engine/disk-usage.js';
import { toDockerSummary } from '../../engine/images/index.js';
import { invalid } from '../../errors.js';
import { compareVersions, type Router } from '../router.js';
import { listShape } from '../shapes/container.js';
import { containerView, portsList, type ContainerRoutesDeps } from './containers.js';
import { shape as volumeShape } from './volumes.js';

const TYPES = ['container', 'image', 'volume', 'build-cache'] as const;

export function diskUsageRoutes(router: Router, usage: DiskUsage, containers: ContainerRoutesDeps): void {
  router.add('GET', '/system/df', async (req) => {
    // `type` (API 1.42 on) picks the parts; the others are left out of the answer.
    const asked = compareVersions(req.version, '1.42') >= 0 && req.query.has('type') ? req.query.getAll('type') : [...TYPES];
    for (const t of asked) if (!(TYPES as readonly string[]).includes(t)) throw invalid(`unknown object type: ${t}`);
    const want = (t: (typeof TYPES)[number]) => asked.includes(t);
    const du = await usage.measure({ images: want('image'), containers: want('container'), volumes: want('volume') });
    const volumePath = (name: string) => containers.volumes.get(name).mountpoint;
    return {
      status: 200,
      body: {
        ...(du.layersSize ? { LayersSize: du.layersSize } : {}),
        ...(du.images && {
          Images: du.images.map((u) => ({ ...toDockerSummary(u.image), Containers: u.containers, SharedSize: u.sharedSize })),
        }),
        ...(du.containers && {
          Containers: du.containers.map(({ container: c, sizeRw, sizeRootFs }) => ({
            ...listShape(containerView(containers, c), c.spec.image.ref, portsList(containers.ports(c)), volumePath),
            SizeRw: sizeRw,
            SizeRootFs: sizeRootFs,
          })),
        }),
        ...(du.volumes && { Volumes: du.volumes.map((u) => ({ ...volumeShape(u.volume), UsageData: { Size: u.size, RefCount: u.refCount } })) }),
        ...(want('build-cache') && { BuildCache: [] }),
      },
    };
  });
}
