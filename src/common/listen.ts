import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { SkydiveError } from './errors.js';
import { formatAddress, type ServiceAddress } from './address.js';

/** Start listening; a busy or unavailable address is a runtime error naming the address and the config key. */
export async function listen(app: FastifyInstance, addr: ServiceAddress, key: string): Promise<ServiceAddress> {
  try {
    await app.listen({ host: addr.host, port: addr.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'address already in use' : code === 'EADDRNOTAVAIL' ? 'address not available on this host' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new SkydiveError('SKYDIVE_LISTEN_FAILED', `cannot listen on ${formatAddress(addr)} (${key}): ${why}`, 500);
  }
  const info = app.server.address() as AddressInfo;
  return { host: addr.host, port: info.port };
}
