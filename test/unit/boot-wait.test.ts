import { describe, expect, it } from 'vitest';
import {
  bootWait,
  bootWaitSeconds,
  cloudInitBusy,
  cloudInitWaitScript,
  packageManagerWaitScript,
} from '../../src/engine/boot-state.ts';
import { parseEngineFacts } from '../../src/engine/host-facts.ts';
import { osRelease } from '../support/engine-facts.ts';

/** The facts script's output on a Debian host as the user `admin`, with the boot lines given. */
const output = (boot: string) =>
  [
    'uid=1000',
    'user=admin',
    'sudo=nopasswd',
    'pid1=systemd',
    'dockerd=yes',
    'dockerdversion=27.3.1',
    'direct=no',
    'server=',
    'group=no',
    'cloudinit=yes',
    boot,
    'clock=1700000000.5',
    'disk=1000000',
    'addrs=127.0.0.1 10.0.0.5 ',
    '---os-release---',
    osRelease.debian12,
  ].join('\n');

describe('boot state from the facts script', () => {
  it('cloud-init running while dpkg configures docker-ce: busy, cloud-init first', () => {
    const f = parseEngineFacts('m1', output('cloudinitstatus=running\npkgbusy= apt-get dpkg dpkg'));
    expect(f.boot).toEqual({ cloudInitStatus: 'running', packageManagers: ['apt-get', 'dpkg'] });
    expect(bootWait(f.boot)).toEqual({
      step: 'wait for cloud-init',
      what: 'cloud-init (status: running)',
    });
  });

  it('cloud-init done, unattended-upgrades at work: waits for the package manager, naming it', () => {
    const f = parseEngineFacts('m1', output('cloudinitstatus=done\npkgbusy= unattended-upgr'));
    expect(bootWait(f.boot)).toEqual({ step: 'wait for the package manager', what: 'unattended-upgr' });
  });

  it('cloud-init done and nothing installing: settled', () => {
    const f = parseEngineFacts('m1', output('cloudinitstatus=done\npkgbusy='));
    expect(f.boot).toEqual({ cloudInitStatus: 'done', packageManagers: [] });
    expect(bootWait(f.boot)).toBeUndefined();
  });

  it('no cloud-init on the host (no status line): settled unless a package manager runs', () => {
    expect(bootWait(parseEngineFacts('m1', output('pkgbusy=')).boot)).toBeUndefined();
    expect(bootWait(parseEngineFacts('m1', output('pkgbusy= dnf')).boot)?.step).toBe(
      'wait for the package manager',
    );
  });

  it('an older facts output without the boot lines reads as settled', () => {
    const f = parseEngineFacts('m1', output(''));
    expect(f.boot).toEqual({ cloudInitStatus: '', packageManagers: [] });
    expect(bootWait(f.boot)).toBeUndefined();
  });

  it("cloud-init's statuses: running or not yet started is busy; done, error, disabled are settled", () => {
    for (const s of ['running', 'not run', 'not started', 'degraded running', 'Running'])
      expect(cloudInitBusy(s), s).toBe(true);
    for (const s of ['done', 'error', 'disabled', 'degraded done', ''])
      expect(cloudInitBusy(s), s).toBe(false);
  });
});

describe('the wait is bounded', () => {
  it('15 min unless SWARMUP_BOOT_WAIT_S gives a positive number', () => {
    expect(bootWaitSeconds(undefined)).toBe(900);
    expect(bootWaitSeconds('')).toBe(900);
    expect(bootWaitSeconds('abc')).toBe(900);
    expect(bootWaitSeconds('-5')).toBe(900);
    expect(bootWaitSeconds('30')).toBe(30);
  });

  it('each waiting command carries its own bound, rounded up to whole seconds', () => {
    expect(cloudInitWaitScript(12.2)).toBe('timeout 13 cloud-init status --wait >/dev/null 2>&1 || true');
    expect(packageManagerWaitScript(0.2)).toMatch(/^end=\$\(\( \$\(date \+%s\) \+ 1 \)\)/);
    expect(packageManagerWaitScript(90)).toContain('sleep 1');
  });
});
