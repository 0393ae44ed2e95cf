/** Wait on a condition, never on a fixed sleep: poll `probe` until it returns a value that `ok` accepts. */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  ok: (v: T) => boolean = (v) => Boolean(v),
  opts: { timeout?: number; interval?: number; what?: string } = {},
): Promise<T> {
  const timeout = opts.timeout ?? 15000;
  const interval = opts.interval ?? 100;
  const deadline = Date.now() + timeout;
  let last: T | undefined;
  let lastErr: unknown;
  for (;;) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const detail = lastErr ? ` (last error: ${(lastErr as Error).message ?? lastErr})` : ` (last value: ${JSON.stringify(last)?.slice(0, 500)})`;
      throw new Error(`timed out after ${timeout} ms waiting for ${opts.what ?? 'condition'}${detail}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
