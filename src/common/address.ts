import { isIPv6 } from 'node:net';

/**
 * Service addresses as the original writes them: `host:port`, `:port`, `port`, `[v6]:port`. Used for the
 * `*.listen` keys, the `analyzers` list and the client's `--analyzer`.
 */
export interface ServiceAddress {
  host: string;
  port: number;
}

/** Parse an address; returns an error string instead of throwing so that callers can name the key or flag. */
export function parseServiceAddress(value: unknown, defaultHost = '127.0.0.1'): ServiceAddress | string {
  if (typeof value === 'number') value = String(value);
  if (typeof value !== 'string' || value.trim() === '') return 'expected an address like 127.0.0.1:8082';
  const v = value.trim();
  let host: string;
  let portStr: string;
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(v);
  if (bracket) {
    host = bracket[1];
    portStr = bracket[2];
  } else if (/^\d+$/.test(v)) {
    host = '';
    portStr = v;
  } else {
    const i = v.lastIndexOf(':');
    if (i < 0) return `'${v}' has no port (expected host:port, e.g. 127.0.0.1:8082)`;
    host = v.slice(0, i);
    portStr = v.slice(i + 1);
    if (host.includes(':') && !isIPv6(host)) return `'${v}' is not a valid address (write IPv6 addresses as [addr]:port)`;
  }
  if (!/^\d+$/.test(portStr)) return `'${v}' has an invalid port '${portStr}'`;
  const port = Number(portStr);
  if (port < 1 || port > 65535) return `'${v}' has an out-of-range port ${port} (1-65535)`;
  if (host !== '' && !isIPv6(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) {
    return `'${v}' has an invalid host '${host}'`;
  }
  return { host: host || defaultHost, port };
}

/** `host:port` with IPv6 hosts bracketed, for URLs and messages. */
export function formatAddress(a: ServiceAddress): string {
  return isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** The address a local client should dial for a server listening on `a` (wildcards mean loopback). */
export function dialableAddress(a: ServiceAddress): ServiceAddress {
  if (a.host === '0.0.0.0' || a.host === '') return { host: '127.0.0.1', port: a.port };
  if (a.host === '::') return { host: '::1', port: a.port };
  return a;
}
