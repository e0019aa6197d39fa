// `http.listen` addresses: "127.0.0.1:9464" or "[::1]:9464". An IP literal only, so the server binds
// exactly where the operator said (a host name could resolve to something else, or to several).
import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
  /** as written in the config, for messages */
  text: string;
}

/** Parses a listen address; returns an error message (a string) when it is not one. */
export function parseListen(text: string, opts: { allowPortZero?: boolean } = {}): ListenAddress | string {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) return 'expected ADDRESS:PORT, e.g. 127.0.0.1:9464 or [::1]:9464 (IPv6 addresses in brackets)';
  const host = m[1]!;
  const bracketed = text.startsWith('[');
  const family = isIP(host);
  if (family === 0 || (family === 6) !== bracketed) {
    const kind = bracketed ? 'IPv6' : 'IPv4';
    return `"${host}" is not an ${kind} address (use an address such as 127.0.0.1 or [::1], not a host name)`;
  }
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port > 65535 || (port === 0 && !opts.allowPortZero))
    return `port ${m[2]} is out of range (1-65535)`;
  return { host, port, text };
}

/** host:port as a URL authority (brackets around IPv6). */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
