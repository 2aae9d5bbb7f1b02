/** config: the shared widget attributes resolved into mesh options. */
export { resolveMeshOptions, parseByteSize, parseRelayUrls, parseIceServers, resolveUserName, clipName, AttributeError, USER_NAME_KEY } from './widget-options';
export type { SharedAttributes, PageContext } from './widget-options';
