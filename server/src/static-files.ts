/**
 * The built web app (web/dist), served as the build left it: each text file has brotli and gzip
 * copies made at build time (web/vite.config.ts), and the copy the browser accepts is sent as is,
 * with `Content-Encoding` and `Vary: Accept-Encoding`, so that no request costs a compression.
 *
 * Caching: Vite names every file under `assets/` after a hash of its contents, so a browser may
 * keep one for a year without asking again (`immutable`); a new build has new names. Anything
 * else (`index.html`, which names the current assets) is revalidated on every load (`no-cache`:
 * the ETag makes that a 304 when nothing changed).
 */
import { relative, sep } from 'node:path';
import type { RequestHandler } from 'express';
import expressStaticGzip from 'express-static-gzip';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';

/** Vite's output folder for content-hashed files (`build.assetsDir`). */
const HASHED_DIR = 'assets';

export function staticFiles(dir: string): RequestHandler {
  return expressStaticGzip(dir, {
    enableBrotli: true,
    // Brotli is about 10 % smaller than gzip on our bundles; every browser that sends br has it.
    orderPreference: ['br', 'gzip'],
    index: 'index.html',
    serveStatic: {
      cacheControl: false,
      setHeaders: (response, path) => {
        const hashed = relative(dir, path).split(sep)[0] === HASHED_DIR;
        response.setHeader('Cache-Control', hashed ? IMMUTABLE : REVALIDATE);
      },
    },
  });
}
