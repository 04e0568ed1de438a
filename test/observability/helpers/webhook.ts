/** An Alertmanager webhook receiver owned by the test: records every notification with its path and arrival time. */
import { createServer, type Server } from 'node:http';

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

export interface Notification {
  /** The receiver path, e.g. /hooks/risk-page. */
  path: string;
  at: number;
  body: { receiver: string; status: string; alerts: WebhookAlert[]; groupLabels: Record<string, string> };
}

export interface Webhook {
  readonly port: number;
  readonly notifications: Notification[];
  /** Resolves with the first notification (already received or to come) that matches, or rejects after timeoutMs. */
  waitFor(match: (n: Notification) => boolean, timeoutMs: number): Promise<Notification>;
  close(): Promise<void>;
}

export async function startWebhook(): Promise<Webhook> {
  const notifications: Notification[] = [];
  const waiters: { match: (n: Notification) => boolean; resolve: (n: Notification) => void }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      const n: Notification = { path: req.url ?? '/', at: Date.now(), body: JSON.parse(body) as Notification['body'] };
      notifications.push(n);
      for (const w of [...waiters]) {
        if (w.match(n)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(n);
        }
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    notifications,
    waitFor(match, timeoutMs) {
      const hit = notifications.find(match);
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { match, resolve: (n: Notification) => { clearTimeout(t); resolve(n); } };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no matching notification within ${timeoutMs} ms; got ${JSON.stringify(notifications.map((x) => [x.path, x.body.status, x.body.groupLabels]))}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
