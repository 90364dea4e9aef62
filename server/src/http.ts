/** The HTTP side: the built app with strict security headers, and a health check. */
import express, { type Express } from 'express';
import helmet from 'helmet';

export interface HttpOptions {
  /** The built web app (web/dist). */
  staticDir: string;
  /** Tells /healthz whether the relay is accepting connections. */
  isReady: () => boolean;
}

export function createHttpApp(options: HttpOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"], // no inline script, no eval
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"], // same-origin ws: and wss: (CSP Level 3)
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'none'"],
          frameAncestors: ["'none'"],
        },
      },
      referrerPolicy: { policy: 'no-referrer' },
      // Served over plain HTTP on loopback by default; TLS belongs to the proxy in front.
      strictTransportSecurity: false,
    }),
  );
  app.get('/healthz', (_request, response) => {
    if (options.isReady()) response.json({ status: 'ok' });
    else response.status(503).json({ status: 'starting' });
  });
  app.use(express.static(options.staticDir, { index: 'index.html', maxAge: 0 }));
  app.use((_request, response) => {
    response.status(404).type('text/plain').send('Not found');
  });
  return app;
}
