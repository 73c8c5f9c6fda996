// Polling for a state a test waits on, with a deadline that names what never came.

/**
 * Calls `probe` every `everyMs` until it gives something other than undefined or false. A probe
 * that throws (a peer not listening yet) is tried again; the timeout names its last error.
 */
export async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined | false>, everyMs = 250): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
