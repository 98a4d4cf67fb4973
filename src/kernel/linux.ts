/** The Kernel port on this machine: iproute2, nft, /proc and sockets (see port.ts). */
import { forgetFlows } from './conntrack.js';
import { listFdb, listNeighbours } from './fdb.js';
import { kernelFeatures } from './features.js';
import { holdHostPorts } from './hostports.js';
import { batch, deleteLink, getLink, listLinks, removeAddresses, retiredLinksGone, retireLink } from './links.js';
import { amendNetns, deleteNetns, listNetnsFiles } from './netns.js';
import { nftIn } from './nft.js';
import type { Kernel } from './port.js';
import { listGatewayRoutes, listRoutes } from './routes.js';
import { readNamespace } from './namespace-view.js';
import { traceFlow } from './trace.js';
import { listU32, tcBatch } from './tc.js';
import { ensureSysctls, readSysctl } from './sysctl.js';
import { applyPlan, applyUndo, bridgeBatch, ensureSandbox } from './wiring.js';
import { addXfrm, deleteXfrm } from './xfrm.js';

export const linuxKernel: Kernel = {
  links: {
    list: listLinks,
    get: getLink,
    batch: async (commands) => void (await batch([...commands])),
    bridgeBatch,
    fdb: listFdb,
    neighbours: listNeighbours,
    delete: deleteLink,
    retire: retireLink,
    retiredGone: retiredLinksGone,
    removeAddresses: async (name, addresses) => removeAddresses(name, [...addresses]),
  },
  sandboxes: {
    apply: applyPlan,
    undo: applyUndo,
    amend: amendNetns,
    ensure: ensureSandbox,
    delete: deleteNetns,
    list: listNetnsFiles,
  },
  sysctls: {
    read: async (key) => readSysctl(key),
    ensure: async (settings) => ensureSysctls(settings),
  },
  nft: nftIn(),
  xfrm: { add: addXfrm, delete: deleteXfrm },
  conntrack: { forget: forgetFlows },
  tc: { batch: tcBatch, filters: listU32 },
  routes: listRoutes,
  gatewayRoutes: listGatewayRoutes,
  readNamespace,
  traceFlow,
  features: kernelFeatures,
  holdHostPorts,
};
