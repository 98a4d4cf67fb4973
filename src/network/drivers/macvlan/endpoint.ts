/**
 * How a macvlan endpoint is wired, as iproute2 commands (pure, golden-tested). The
 * link is made in the daemon's namespace, where its parent is, and born inside the
 * sandbox under its final name (`netns PATH`), so the sandbox must exist first: an
 * empty sandbox step creates it when the container has none yet. Then addresses, up,
 * default route inside the sandbox. Two spawns, three for a container's first network.
 */
import type { EndpointRecord } from '../../model.js';
import type { WiringPlan } from '../driver.js';
import { sandboxCommands, type DefaultRoute } from '../sublink/sandbox.js';
import type { MacvlanConfig, MacvlanMode } from './config.js';

export function planMacvlanJoin(c: MacvlanConfig, ep: EndpointRecord, sandbox: string): WiringPlan {
  return planMacvlanLink(c.parent.name, c.mode, ep, sandbox, macvlanRoute(c));
}

/** A macvlan of `parent` as the endpoint's interface (a macvlan network's, or an overlay's of its VXLAN link). */
export function planMacvlanLink(parent: string, mode: MacvlanMode, ep: EndpointRecord, sandbox: string, route: DefaultRoute): WiringPlan {
  // passthru hands the parent itself to the container: its MAC is the parent's, and setting one would change the parent's.
  const mac = ep.mac && mode !== 'passthru' ? ` address ${ep.mac}` : '';
  return {
    steps: [
      { in: 'sandbox', commands: [] },
      { in: 'host', commands: [`link add ${ep.ifName!} link ${parent}${mac} netns ${sandbox} type macvlan mode ${mode}`] },
      { in: 'sandbox', commands: sandboxCommands(ep, route) },
    ],
  };
}

export function macvlanRoute(c: MacvlanConfig): DefaultRoute {
  return c.internal ? 'none' : 'via-gateway';
}
