/** berth's own version: what /version, /info and a swarm node's Engine.EngineVersion say. */
export const BERTH_VERSION = '0.1.0';
