/** Facts about this client build, shown by `berth version` and `berth info`. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The version in berth's package.json (found above this module), or "dev" if absent. */
export function clientVersion(): string {
  if (cached !== undefined) return cached;
  cached = 'dev';
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
        cached = pkg.version;
        break;
      }
    } catch {
      // No package.json at this level; keep climbing.
    }
    dir = dirname(dir);
  }
  return cached;
}

/** Go's GOARCH name for this machine, as docker prints OS/Arch. */
export function goArch(): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' };
  return map[process.arch] ?? process.arch;
}
