/** Types for processes.mjs (used from TypeScript tests). */
export interface ServerProcess {
  pid: number;
  url: string;
  stop(): Promise<void>;
}
export const ROOT: string;
export function startNodeProcess(script: string, args: string[], ready: RegExp, timeoutMs?: number): Promise<ServerProcess>;
export function startRelay(options?: { port?: number; log?: string }): Promise<ServerProcess>;
export function freePort(): Promise<number>;
export function startCoturn(options?: { user?: string; pass?: string }): Promise<ServerProcess & { iceServer: RTCIceServer; logFile: string; log(): string; allocations(): number }>;
export function startMosquitto(): Promise<ServerProcess & { logFile: string; log(): string }>;
export function startStaticServer(root: string, cors?: boolean): Promise<ServerProcess>;
export function startMqttBroker(): Promise<ServerProcess>;
export function startTorrentTracker(): Promise<ServerProcess>;
