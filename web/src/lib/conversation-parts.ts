/** The modules `loadConversationCode` brings in, as one chunk (see conversation-code.ts). */
export { Conversation } from '@duet/core/session/conversation';
export { createChannel, preloadSuite } from '@duet/core/session/suites';
export { browserConnect } from './transport.ts';
export { FileShelf } from './files.svelte.ts';
