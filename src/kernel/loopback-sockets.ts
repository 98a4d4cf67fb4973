/**
 * Sockets on the daemon's own loopback, in the daemon's network namespace (plain Node
 * sockets: the daemon's process lives there). The embedded resolver asks the host's
 * loopback nameservers (systemd-resolved's 127.0.0.53) through them, as Docker does:
 * those servers cannot be reached from a container's namespace.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';

/**
 * An unconnected UDP socket bound to an ephemeral port of 127.0.0.1 or ::1: only
 * loopback servers can be asked, and nothing from off the host can reach it. Sends
 * made while the bind is in progress are queued by Node; a failed bind (no IPv6 in the
 * namespace) surfaces as the socket's 'error' event.
 */
export function openLoopbackUdp(family: 4 | 6): dgram.Socket {
  const socket = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
  socket.bind(0, family === 4 ? '127.0.0.1' : '::1');
  return socket;
}

/** A TCP connection from the daemon's namespace; rejects after `timeoutMs` without one. */
export async function connectLoopbackTcp(address: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: address, port });
    const fail = (e: Error): void => {
      sock.destroy();
      reject(e);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error(`connect to ${address}:${port} timed out`)));
    sock.once('error', fail);
    sock.once('connect', () => {
      sock.setTimeout(0);
      sock.off('error', fail);
      resolve(sock);
    });
  });
}
