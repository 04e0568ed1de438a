/**
 * The metrics endpoint (node:http, no framework): GET /metrics in the
 * Prometheus text format, /healthz (the process answers: liveness) and
 * /readyz (200 once the detector is ready, 503 before and while draining).
 *
 * Optional HTTP basic auth on /metrics (Prometheus' scrape_config
 * basic_auth): the metrics hold no card data, but they do show volumes and
 * failures per issuer. /healthz and /readyz stay open for orchestrator probes;
 * they say only "ok" or "ready". Basic auth sends the password in clear:
 * behind TLS (a sidecar or the mesh) outside a trusted network (docs/security.md).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { PosguardError } from '../errors.js';

export const METRICS_DEFAULT_PORT = 9464;

export interface MetricsServerOptions {
  readonly registry: Registry;
  /** Default 9464; 0 picks a free port (tests). */
  readonly port?: number;
  /** Default 0.0.0.0 (Prometheus scrapes from elsewhere); tests use 127.0.0.1. */
  readonly host?: string;
  /** When set, GET /metrics needs these credentials (HTTP basic auth). */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** Ready to serve its purpose (connected, consuming); /readyz answers 503 while false. */
  readonly ready?: () => boolean;
}

export interface MetricsServer {
  readonly port: number;
  /** http://host:port */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const port = o.port ?? METRICS_DEFAULT_PORT;
  const host = o.host ?? '0.0.0.0';
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new PosguardError('PG_USAGE', `metrics port: expected 0-65535, got ${port}`);
  const ready = o.ready ?? (() => true);
  const authorized = o.basicAuth === undefined ? () => true : basicAuthCheck(o.basicAuth);
  const server = createServer((req, res) => {
    void handle(o.registry, ready, authorized, req, res);
  });
  // A scrape holds no connection open for long; do not let keep-alive sockets delay close().
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => reject(new PosguardError('PG_USAGE', `metrics server cannot listen on ${host}:${port}: ${e.code ?? e.message}`, { cause: e }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Compares the Authorization header with the expected one in constant time. */
function basicAuthCheck(auth: { readonly username: string; readonly password: string }): (req: IncomingMessage) => boolean {
  const expected = Buffer.from(`Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`);
  return (req) => {
    const got = Buffer.from(req.headers.authorization ?? '');
    return got.length === expected.length && timingSafeEqual(got, expected);
  };
}

async function handle(registry: Registry, ready: () => boolean, authorized: (req: IncomingMessage) => boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
  try {
    switch (path) {
      case '/metrics':
        if (!authorized(req)) return send(res, 401, 'text/plain', 'authentication required\n', { 'www-authenticate': 'Basic realm="posguard metrics", charset="UTF-8"' });
        return send(res, 200, registry.contentType, await registry.metrics());
      case '/healthz':
        return send(res, 200, 'text/plain', 'ok\n');
      case '/readyz':
        return ready() ? send(res, 200, 'text/plain', 'ready\n') : send(res, 503, 'text/plain', 'not ready\n');
      default:
        return send(res, 404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
    }
  } catch (e) {
    return send(res, 500, 'text/plain', `metrics failed: ${(e as Error)?.message ?? String(e)}\n`);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
