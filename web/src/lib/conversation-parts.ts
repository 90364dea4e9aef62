/** The modules `loadConversationCode` brings in, as one chunk (lazy.ts). */
export { Conversation } from '@duet/core/session/conversation';
export { createChannel, preloadSuite, rehearseSuite } from '@duet/core/session/suites';
export { readClientConfig } from './client-config.ts';
export { browserConnectDirect } from './direct-link.ts';
export { browserConnect } from './transport.ts';
export { FileShelf } from './files.svelte.ts';
