/** Types for tcp-proxy.mjs (used from TypeScript tests). */
export function startTcpProxy(targetPort: number): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }>;
