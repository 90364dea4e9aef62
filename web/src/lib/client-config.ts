/**
 * The relay's settings for the app (`GET /config`, server/src/http.ts): ICE servers for the
 * direct path and the frame limit. Without them the app still works, through the relay only.
 */
import { clientConfig, type ClientConfig } from '@duet/core/protocol/client-config';

/**
 * The relay's answer to `GET /config` (asked for by the page as a join begins), checked;
 * undefined when it cannot be had or makes no sense.
 */
export async function readClientConfig(answer: Promise<Response>): Promise<ClientConfig | undefined> {
  try {
    const response = await answer;
    if (!response.ok) return undefined;
    const parsed = clientConfig.safeParse(await response.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
