/**
 * Resolves once `check` returns true (polled every 5 ms of real time).
 * @throws Error `condition not met in time` after `timeoutMs` (default 5 000 ms)
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}
