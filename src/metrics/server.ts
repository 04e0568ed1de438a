/**
 * The metrics endpoint (node:http, no framework): GET /metrics in the
 * Prometheus text format, /healthz (the process answers: liveness) and
 * /readyz (200 once the detector is ready, 503 before and while draining).
 */
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
  const server = createServer((req, res) => {
    void handle(o.registry, ready, req, res);
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

async function handle(registry: Registry, ready: () => boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
  try {
    switch (path) {
      case '/metrics':
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
