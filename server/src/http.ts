/** The HTTP side: the built app with strict security headers, a health check, and the app's settings. */
import type { ClientConfig } from '@duet/core/protocol/client-config';
import express, { type ErrorRequestHandler, type Express } from 'express';
import helmet from 'helmet';
import proxyAddr from 'proxy-addr';
import { isHostAllowed, type HostRule } from './host-check.ts';
import type { Registry } from 'prom-client';
import { staticFiles } from './static-files.ts';

/** `redis-unreachable`: with REDIS_URL, this node cannot reach Redis, so it cannot seat anyone. */
export type Health = 'ok' | 'starting' | 'redis-unreachable';

export interface HttpOptions {
  /** The built web app (web/dist); its index.html answers `/`. */
  staticDir: string;
  /** What /healthz says: 200 for `ok`, 503 with the reason otherwise. */
  health: () => Health;
  /** Served at GET /metrics in the Prometheus text format. */
  metrics: Registry;
  /** When false, /metrics answers only loopback clients (a scraper on the same host). */
  metricsPublic: boolean;
  /** Proxies whose `X-Forwarded-For` names the client (client-address.ts); default none. */
  trustProxy?: readonly string[];
  /** The names a request's `Host` must carry (host-check.ts); undefined: no check. */
  hostRules?: readonly HostRule[] | undefined;
  /** Served at GET /config: what the app needs for the direct path. */
  clientConfig: ClientConfig;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * The page's Content-Security-Policy: everything from our own origin, no inline script or
 * style, no eval. `connect-src 'self'` also covers `ws:`/`wss:` to the same host and port
 * (CSP Level 3 §6.7.2.8; Chromium and Firefox do so) and `GET /config`, which is all the app
 * fetches. A WebRTC data channel is not a fetch: `connect-src` does not govern it, and no
 * browser implements a `webrtc` directive yet; "Always use the relay" is the user's switch.
 * `img-src blob:` is for one thing only: previews of received images, which the app builds
 * from the verified file's Blob (docs/security.md, Files).
 */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

export function createHttpApp(options: HttpOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  // `request.ip` is the client behind a trusted proxy, not the proxy (a loopback proxy must
  // not make every visitor a loopback client of /metrics).
  app.set('trust proxy', proxyAddr.compile([...(options.trustProxy ?? [])]));
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
      referrerPolicy: { policy: 'no-referrer' },
      // Served over plain HTTP on loopback by default; TLS and HSTS belong to the proxy in front.
      strictTransportSecurity: false,
    }),
  );
  // Against DNS rebinding: a name the relay is not meant to be reached by gets nothing.
  app.use((request, response, next) => {
    if (isHostAllowed(request.headers.host, options.hostRules)) return next();
    response.status(421).type('text/plain').send('Misdirected request: this host name is not served here');
  });
  app.get('/healthz', (_request, response) => {
    response.set('Cache-Control', 'no-store');
    const status = options.health();
    response.status(status === 'ok' ? 200 : 503).json({ status });
  });
  // Never cached: TURN credentials may be short-lived.
  app.get('/config', (_request, response) => {
    response.set('Cache-Control', 'no-store').json(options.clientConfig);
  });
  app.get('/metrics', (request, response, next) => {
    if (!options.metricsPublic && !LOOPBACK.has(request.ip ?? '')) return next();
    options.metrics.metrics().then((text) => {
      response.set('Cache-Control', 'no-store').type(options.metrics.contentType).send(text);
    }, next);
  });
  app.use(staticFiles(options.staticDir));
  app.use((_request, response) => {
    response.status(404).type('text/plain').send('Not found');
  });
  // Bad requests (a malformed path, say) get their status and no stack trace, in the reply or the log.
  const onError: ErrorRequestHandler = (error: { status?: unknown }, _request, response, _next) => {
    const status =
      typeof error.status === 'number' && error.status >= 400 && error.status < 600 ? error.status : 500;
    response
      .status(status)
      .type('text/plain')
      .send(status < 500 ? 'Bad request' : 'Internal error');
  };
  app.use(onError);
  return app;
}
