/** The driver registry: a name maps to a factory; adding a driver touches only this list. */
import { notFound } from '../../errors.js';
import type { DriverContext, NetworkDriver } from './driver.js';
import { bridgeDriver } from './bridge/index.js';
import { hostDriver } from './host/index.js';
import { ipvlanDriver } from './ipvlan/index.js';
import { macvlanDriver } from './macvlan/index.js';
import { nullDriver } from './null/index.js';
import { overlayDriver } from './overlay/index.js';

const FACTORIES: Record<string, (ctx: DriverContext) => NetworkDriver> = {
  bridge: bridgeDriver,
  host: hostDriver,
  macvlan: macvlanDriver,
  ipvlan: ipvlanDriver,
  null: nullDriver,
  overlay: overlayDriver,
};

export class DriverRegistry {
  private readonly drivers = new Map<string, NetworkDriver>();

  constructor(ctx: DriverContext) {
    for (const [name, make] of Object.entries(FACTORIES)) this.drivers.set(name, make(ctx));
  }

  /** The driver by name; an unknown name fails as Docker's plugin lookup does. */
  get(name: string): NetworkDriver {
    const d = this.drivers.get(name);
    if (!d) throw notFound(`plugin "${name}" not found`);
    return d;
  }

  /** The driver by name, if there is one. */
  lookup(name: string): NetworkDriver | undefined {
    return this.drivers.get(name);
  }

  all(): NetworkDriver[] {
    return [...this.drivers.values()];
  }
}

export type { DriverCapabilities, DriverContext, DriverNetwork, NetworkDriver } from './driver.js';
