const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `check` every `intervalMs` until it returns a value (anything but undefined); when `timeoutMs` passes first,
 * throw naming what never came, the deadline and the last thing seen (`check` may set it through `seen`). A test
 * that waits for a state must not carry on without it: what it checks next would then test something else.
 */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: (seen: (text: string) => void) => Promise<T | undefined>,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing yet';
  const seen = (text: string) => (last = text);
  for (;;) {
    const v = await check(seen);
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`${what}: never came within ${timeoutMs / 1000} s (last seen: ${last})`);
    await sleep(intervalMs);
  }
}
