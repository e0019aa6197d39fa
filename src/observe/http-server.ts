// The metrics and status HTTP server. Read-only, GET/HEAD only, bound to exactly the configured
// address. Bad requests get a proper status and are never allowed to take the daemon down.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { errorDetail } from '../lib/format.js';
import type { Logger } from '../lib/log.js';
import { formatHostPort, type ListenAddress } from '../config/listen.js';

export interface Reply {
  status: number;
  contentType: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

/** Gets the request's path: a route ending in "/" (other than "/" itself) serves every path under it. */
export type Handler = (path: string) => Reply | Promise<Reply>;

export interface HttpServerOptions {
  listen: Pick<ListenAddress, 'host' | 'port'> & { text?: string };
  routes: Record<string, Handler>;
  log: Logger;
  /** called after every response (metrics) */
  onResponse?: (handler: string, status: number) => void;
  /** default 16 KiB (Node's default): larger request heads get 431 */
  maxHeaderSize?: number;
  /** a client must send its request head within this (default 10 s), else 408 */
  headersTimeoutMs?: number;
}

export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'ListenError';
  }
}

const SECURITY_HEADERS: Record<string, string> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};
const TEXT = 'text/plain; charset=utf-8';
const MAX_CONNECTIONS = 64;

function explainListenError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use (is another nat64-health or exporter running? choose another http.listen port)';
    case 'EADDRNOTAVAIL':
      return 'address not available (not configured on any interface of this host)';
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges)';
    case 'EAFNOSUPPORT':
      return 'address family not supported (IPv6 disabled?)';
    default:
      return err.message;
  }
}

export class HttpServer {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: HttpServerOptions) {
    this.server = http.createServer(
      {
        maxHeaderSize: opts.maxHeaderSize ?? 16 * 1024,
        requestTimeout: Math.max(15_000, opts.headersTimeoutMs ?? 0),
        headersTimeout: opts.headersTimeoutMs ?? 10_000,
        keepAliveTimeout: 5_000,
        // how often the timeouts above are enforced (default 30 s): reaps slow clients sooner
        connectionsCheckingInterval: Math.min(1_000, opts.headersTimeoutMs ?? 1_000),
      },
      (req, res) => void this.handle(req, res),
    );
    this.server.maxConnections = MAX_CONNECTIONS;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // Malformed requests, oversized heads, timeouts: answer if the socket still can, then close it.
    const answered = new WeakSet<Socket>();
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // the parser may complain again about data that was already on its way: answer once
      if (answered.has(socket)) return void socket.destroy();
      answered.add(socket);
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      this.opts.log.debug('http: bad request', { code: err.code, status });
      this.opts.onResponse?.('invalid', status);
      if (socket.writable && !(err.code === 'ECONNRESET')) {
        const reason = http.STATUS_CODES[status] ?? 'Bad Request';
        const body = `${status} ${reason}\n`;
        const head = [
          `HTTP/1.1 ${status} ${reason}`,
          `Content-Type: ${TEXT}`,
          `Content-Length: ${Buffer.byteLength(body)}`,
          'Connection: close',
        ];
        socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
      }
      socket.destroySoon?.();
    });
    this.server.on('error', (err) => this.opts.log.error('http server error', { error: err.message }));
  }

  /** Binds the configured address; rejects with a ListenError that says why it cannot. */
  listen(): Promise<AddressInfo> {
    const { host, port } = this.opts.listen;
    const text = this.opts.listen.text ?? formatHostPort(host, port);
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(new ListenError(`cannot listen on ${text} (http.listen): ${explainListenError(err)}`, err.code));
      };
      this.server.once('error', onError);
      // ipv6Only: "[::]:9464" means IPv6 only; exclusive: never share the port with a cluster
      this.server.listen({ host, port, ipv6Only: host.includes(':'), exclusive: true }, () => {
        this.server.off('error', onError);
        const addr = this.server.address() as AddressInfo;
        this.opts.log.info('http: serving /metrics, /, /status.json and /history', {
          listen: formatHostPort(addr.address, addr.port),
        });
        resolve(addr);
      });
    });
  }

  address(): AddressInfo | null {
    return this.server.address() as AddressInfo | null;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let handlerName = 'other';
    const send = (r: Reply, method?: string) => {
      const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
      res.writeHead(r.status, {
        ...SECURITY_HEADERS,
        'Content-Type': r.contentType,
        'Content-Length': String(body.length),
        ...r.headers,
      });
      res.end(method === 'HEAD' ? undefined : body);
      this.opts.onResponse?.(handlerName, r.status);
    };
    try {
      // We never read request bodies: discard one if sent, and do not keep such a connection.
      if (req.headers['content-length'] || req.headers['transfer-encoding']) res.shouldKeepAlive = false;
      req.resume();
      let path: string;
      try {
        path = new URL(req.url ?? '/', 'http://localhost').pathname;
      } catch {
        res.shouldKeepAlive = false;
        return send({ status: 400, contentType: TEXT, body: '400 Bad Request: unparsable URL\n' });
      }
      const route = Object.hasOwn(this.opts.routes, path)
        ? path
        : Object.keys(this.opts.routes).find((r) => r !== '/' && r.endsWith('/') && path.startsWith(r));
      const handler = route === undefined ? undefined : this.opts.routes[route];
      if (!handler) {
        return send(
          {
            status: 404,
            contentType: TEXT,
            body: `404 Not Found: ${Object.keys(this.opts.routes).join(' ')} are served here\n`,
          },
          req.method,
        );
      }
      handlerName = route!;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.shouldKeepAlive = false;
        return send({
          status: 405,
          contentType: TEXT,
          body: '405 Method Not Allowed: this server is read-only\n',
          headers: { Allow: 'GET, HEAD' },
        });
      }
      send(await handler(path), req.method);
    } catch (err) {
      this.opts.log.error('http: handler failed', {
        path: req.url,
        error: errorDetail(err),
      });
      if (!res.headersSent) send({ status: 500, contentType: TEXT, body: '500 Internal Server Error\n' });
      else res.destroy();
    }
  }
}
