import { setTimeout as sleep } from 'node:timers/promises';
import { StepError } from '../errors.ts';
import type { HostHandle } from '../playbook/playbook.ts';
import { bootWait, cloudInitWaitScript, packageManagerWaitScript } from './boot-state.ts';
import type { EngineFacts } from './host-facts.ts';

/** Slack given to one waiting command beyond its own bound (connection, start-up). */
const SLACK_MS = 30_000;

const minutes = (ms: number): string =>
  ms >= 60_000 ? `${Math.round(ms / 6_000) / 10} min` : `${Math.round(ms / 1000)} s`;

/**
 * Wait, on one host that reported itself busy, until cloud-init has finished and no package manager runs, then
 * return its facts read again. Each wait is one bounded command; the whole is bounded by `deadline` (epoch ms),
 * past which a StepError names the host, the wait and what is still at work.
 */
export async function waitForBoot(
  h: HostHandle,
  facts: EngineFacts,
  deadline: number,
  reread: () => Promise<EngineFacts>,
): Promise<EngineFacts> {
  const started = Date.now();
  let f = facts;
  let said = '';
  for (;;) {
    const wait = bootWait(f.boot);
    if (!wait) {
      h.log(`settled after ${minutes(Date.now() - started)}`);
      return f;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new StepError(
        h.name,
        wait.step,
        `${wait.what} still running after ${minutes(Date.now() - started)} (the deadline; SWARMUP_BOOT_WAIT_S sets it)`,
      );
    }
    const note = `${wait.step}: ${wait.what} is still at work (waiting up to ${minutes(left)})`;
    if (note.replace(/\(waiting.*/, '') !== said) h.log(note);
    said = note.replace(/\(waiting.*/, '');
    const script =
      wait.step === 'wait for cloud-init'
        ? cloudInitWaitScript(left / 1000)
        : packageManagerWaitScript(left / 1000);
    const t = Date.now();
    const r = await h.exec(script, { deadlineMs: left + SLACK_MS });
    if (r.code !== 0) {
      const out = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' ');
      throw new StepError(h.name, wait.step, `exited ${r.code}${out ? `: ${out}` : ''}`);
    }
    f = await reread();
    // A wait that returned at once while the host is still busy: do not spin.
    if (bootWait(f.boot) && Date.now() - t < 1000) await sleep(1000);
  }
}
