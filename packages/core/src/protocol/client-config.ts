/**
 * What the relay tells the app at `GET /config`: the ICE servers for the direct path and the
 * largest frame, so that both paths carry the same frames. One schema, checked by the relay when
 * it reads `ICE_SERVERS` and by the app when it reads the answer. zod/mini, like control.ts:
 * the app loads it with the conversation, and full zod stays out of the page.
 */
import { z } from 'zod/mini';

/** `stun:`/`stuns:`/`turn:`/`turns:` URLs (RFC 7064, RFC 7065): host, optional port and transport. */
const ICE_URL = /^(stuns?|turns?):[^\s?#/]+(\?transport=(udp|tcp))?$/;

const iceUrl = z
  .string()
  .check(z.maxLength(512), z.regex(ICE_URL, 'must be a stun:, stuns:, turn: or turns: URL'));

const secret = z.optional(z.string().check(z.maxLength(512)));

/** One `RTCIceServer`. A TURN server needs a username and a credential (browsers refuse it otherwise). */
export const iceServer = z
  .strictObject({
    urls: z.union([iceUrl, z.array(iceUrl).check(z.minLength(1), z.maxLength(8))]),
    username: secret,
    credential: secret,
  })
  .check(
    z.refine((server) => {
      const urls = [server.urls].flat();
      // A bad URL is reported once, by its own check.
      if (!urls.every((url) => ICE_URL.test(url)) || urls.every((url) => url.startsWith('stun'))) return true;
      return server.username !== undefined && server.credential !== undefined;
    }, 'a turn: or turns: server needs a username and a credential'),
  );

export type IceServer = z.infer<typeof iceServer>;

export const iceServers = z
  .array(iceServer, { error: 'must be an array of RTCIceServer objects' })
  .check(z.maxLength(16));

export const clientConfig = z.strictObject({
  iceServers,
  maxFrameBytes: z.int().check(z.positive()),
});

export type ClientConfig = z.infer<typeof clientConfig>;
