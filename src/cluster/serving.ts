/** The cluster's own TLS endpoints (the join endpoint, the task log endpoint): started and stopped alike. */
import { once } from 'node:events';
import type * as https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Serving {
  /** The port it listens on (the one asked, or the kernel's choice for 0). */
  port: number;
  /** Stop listening and end every open connection. */
  close(): Promise<void>;
}

/** Listen on `at`; a client that breaks the protocol only loses its own socket. Resolves once listening. */
export async function serveOn(server: https.Server, at: { host: string; port: number }): Promise<Serving> {
  server.on('clientError', (_e, socket) => socket.destroy());
  server.listen(at.port, at.host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
