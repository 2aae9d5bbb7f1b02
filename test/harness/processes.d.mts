/** Types for processes.mjs (used from TypeScript tests). */
export interface ServerProcess {
  pid: number;
  url: string;
  stop(): Promise<void>;
}
export const ROOT: string;
export function startNodeProcess(script: string, args: string[], ready: RegExp, timeoutMs?: number): Promise<ServerProcess>;
export function startRelay(): Promise<ServerProcess>;
export function startStaticServer(root: string, cors?: boolean): Promise<ServerProcess>;
export function startMqttBroker(): Promise<ServerProcess>;
export function startTorrentTracker(): Promise<ServerProcess>;
