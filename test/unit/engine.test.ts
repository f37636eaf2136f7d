import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { engineFactsScript, parseEngineFacts, type EngineFacts } from '../../src/engine/host-facts.ts';
import { asRoot, planEngine } from '../../src/engine/install-plan.ts';
import { parseOsRelease, unsupportedReason } from '../../src/engine/os.ts';
import { MAX_CLOCK_SKEW_S, preflightChecks, probePlan } from '../../src/engine/preflight.ts';
import { facts, osRelease } from '../support/engine-facts.ts';

const script = (p: ReturnType<typeof planEngine>) => p.steps.map((s) => s.script).join('\n');

describe('OS detection', () => {
  it('reads os-release into id, version, codename and package family', () => {
    expect(parseOsRelease(osRelease.debian12)).toMatchObject({
      id: 'debian',
      versionId: '12',
      codename: 'bookworm',
      family: 'apt',
    });
    expect(parseOsRelease(osRelease.ubuntu2404)).toMatchObject({
      id: 'ubuntu',
      versionId: '24.04',
      codename: 'noble',
      family: 'apt',
    });
    expect(parseOsRelease(osRelease.amzn2023)).toMatchObject({
      id: 'amzn',
      versionId: '2023',
      family: 'dnf',
    });
    expect(parseOsRelease(osRelease.rocky9)).toMatchObject({ id: 'rocky', versionId: '9.4', family: 'dnf' });
  });

  it('names what it found when a system is not supported', () => {
    expect(unsupportedReason(parseOsRelease(osRelease.debian12))).toBeUndefined();
    expect(unsupportedReason(parseOsRelease(osRelease.ubuntu2204))).toBeUndefined();
    expect(unsupportedReason(parseOsRelease(osRelease.rocky9))).toBeUndefined();
    expect(unsupportedReason(parseOsRelease(osRelease.alpine))).toMatch(
      /unsupported operating system "Alpine Linux v3.20"/,
    );
    expect(unsupportedReason(parseOsRelease(osRelease.ubuntu1804))).toMatch(
      /unsupported version Ubuntu 18.04.6 LTS \(supported ubuntu: 22.04, 24.04, 26.04; the newest is 26.04\)/,
    );
  });

  it('Debian 13, Debian testing/unstable (no VERSION_ID) and Ubuntu 26.04 are supported', () => {
    for (const os of [osRelease.debian13, osRelease.debianSid, osRelease.ubuntu2604])
      expect(unsupportedReason(parseOsRelease(os)), os).toBeUndefined();
    expect(
      unsupportedReason({ ...parseOsRelease(osRelease.debian12), versionId: '11', prettyName: 'Debian 11' }),
    ).toBe(
      'unsupported version Debian 11 (supported debian: 12, 13, testing/unstable; the newest is testing/unstable)',
    );
  });
});

describe('host facts', () => {
  it('the facts command runs in a real shell here and parses', () => {
    const out = execFileSync('sh', ['-c', engineFactsScript]).toString();
    const f = parseEngineFacts('local', out);
    expect(f.uid).toBe(process.getuid!());
    expect(f.os.id).not.toBe('');
    expect(Math.abs(f.clock - Date.now() / 1000)).toBeLessThan(5);
    expect(f.diskFreeKiB).toBeGreaterThan(0);
    expect(f.addresses).toContain('127.0.0.1');
  });
});

describe('engine install plan', () => {
  it('present and running: untouched', () => {
    const p = planEngine(facts({ dockerd: true, serverVersion: '27.3.1', dockerdVersion: '27.3.1' }), {
      source: 'docker-ce',
    });
    expect(p.steps).toEqual([]);
    expect(p.summary).toBe('present (27.3.1)');
  });

  it('present, matching the pin, running: untouched; a different version is reinstalled pinned', () => {
    expect(
      planEngine(facts({ dockerd: true, serverVersion: '27.3.1' }), { source: 'docker-ce', version: '27.3' })
        .steps,
    ).toEqual([]);
    const p = planEngine(facts({ dockerd: true, serverVersion: '26.1.0' }), {
      source: 'docker-ce',
      version: '27.3',
    });
    expect(script(p)).toMatch(/apt-cache madison docker-ce/);
    expect(script(p)).toMatch(/docker-ce="\$v"/);
  });

  it('installed but stopped: started only', () => {
    const p = planEngine(facts({ dockerd: true, dockerdVersion: '20.10.24', systemd: false }), {
      source: 'distro',
    });
    expect(p.steps.map((s) => s.title)).toEqual(['start the engine (dockerd)']);
    // As it last ran when swarmup stopped it (its command line kept), else plain dockerd.
    expect(script(p)).toContain('/var/lib/swarmup/dockerd.cmdline');
    expect(script(p)).toContain('set -- dockerd');
    expect(script(p)).toMatch(/setsid nohup "\$@"/);
  });

  it('Debian 13 and sid, distro: docker.io with the docker-cli package where the distribution splits it out', () => {
    for (const os of [osRelease.debian13, osRelease.debianSid]) {
      const p = planEngine(facts({}, os), { source: 'distro' });
      expect(script(p)).toContain('apt-cache show docker-cli >/dev/null 2>&1 && cli=docker-cli');
      expect(script(p)).toContain('install docker.io $cli');
    }
    const pinned = planEngine(facts({}, osRelease.debian13), { source: 'distro', version: '26.1' });
    expect(script(pinned)).toContain('apt-cache madison docker-cli');
    expect(script(pinned)).toContain('install docker.io="$v" $cli');
  });

  it("sid: Docker's repository has nothing for it; the default source becomes distro, an explicit one is refused", () => {
    const p = planEngine(facts({}, osRelease.debianSid), { source: 'docker-ce', sourceDefaulted: true });
    expect(p.summary).toMatch(
      /^install docker.io from the debian testing\/unstable repositories \(Docker's repository/,
    );
    const refused = planEngine(facts({}, osRelease.debianSid), { source: 'docker-ce' });
    expect(refused.problem).toMatch(/no packages for Debian testing\/unstable .*use engine.source distro/);
    const noble = planEngine(facts({}, osRelease.ubuntu2604), { source: 'docker-ce' });
    expect(script(noble)).toContain('https://download.docker.com/linux/ubuntu resolute stable');
  });

  it('an engine that runs but cannot be asked (no docker CLI, no curl) is not started again', () => {
    const p = planEngine(
      facts({ dockerd: true, dockerdVersion: '26.1.5', dockerdRunning: true, dockerCli: false }),
      {
        source: 'distro',
      },
    );
    expect(p.steps).toEqual([]);
  });

  it('debian, distro: docker.io through apt with a lock timeout and retries, then systemd start', () => {
    const p = planEngine(facts(), { source: 'distro' });
    expect(p.summary).toBe('install docker.io from the debian 12 repositories');
    expect(script(p)).toContain('apt-get -q -y -o DPkg::Lock::Timeout=600 install docker.io $cli');
    expect(script(p)).toContain('retry ');
    expect(script(p)).toContain('systemctl enable --now docker');
  });

  it("ubuntu, docker-ce: Docker's apt repository for the release codename", () => {
    const p = planEngine(facts({}, osRelease.ubuntu2404), { source: 'docker-ce' });
    expect(script(p)).toContain('https://download.docker.com/linux/ubuntu noble stable');
    expect(script(p)).toContain(
      'docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin',
    );
  });

  it('script: needs a pinned VERSION, and is never re-run on an installed host', () => {
    expect(planEngine(facts(), { source: 'script' }).problem).toMatch(/needs engine.version/);
    const p = planEngine(facts(), { source: 'script', version: '27.3.1' });
    expect(script(p)).toContain('VERSION=27.3.1 sh /tmp/swarmup-get-docker.sh');
    expect(
      planEngine(facts({ dockerd: true, serverVersion: '26.0.0' }), { source: 'script', version: '27.3.1' })
        .problem,
    ).toMatch(/never re-run on an installed host/);
    expect(
      planEngine(facts({ dockerd: true, serverVersion: '27.3.1' }), { source: 'script', version: '27.3.1' })
        .steps,
    ).toEqual([]);
  });

  it('dnf family: docker-ce repository on Rocky, distro package on Amazon Linux 2023, refusals otherwise', () => {
    const rocky = planEngine(facts({}, osRelease.rocky9), { source: 'docker-ce' });
    expect(script(rocky)).toContain('https://download.docker.com/linux/centos/docker-ce.repo');
    expect(script(rocky)).toContain('dnf -y install docker-ce docker-ce-cli');
    const amzn = planEngine(facts({}, osRelease.amzn2023), { source: 'distro', version: '25.0' });
    expect(script(amzn)).toContain("dnf -y install 'docker-25.0*'");
    expect(planEngine(facts({}, osRelease.amzn2023), { source: 'docker-ce' }).problem).toMatch(
      /no packages for Amazon Linux/,
    );
    expect(planEngine(facts({}, osRelease.rocky9), { source: 'distro' }).problem).toMatch(
      /use engine.source docker-ce/,
    );
  });

  it('unsupported OS: a problem naming what was found', () => {
    expect(planEngine(facts({}, osRelease.alpine), { source: 'docker-ce' }).problem).toMatch(
      /Alpine Linux v3.20/,
    );
  });

  it('none: verify only', () => {
    expect(planEngine(facts(), { source: 'none' }).problem).toBe(
      'no Docker engine, and engine.source is none',
    );
  });

  it('non-root user: sudo -n for root steps, added to the docker group, connection reopened', () => {
    const f = facts({ uid: 1000, user: 'deploy', sudo: 'nopasswd', cloudInit: true });
    const p = planEngine(f, { source: 'distro' });
    expect(p.steps.map((s) => [s.title, s.root])).toEqual([
      ['wait for cloud-init', false],
      ['install docker.io from the debian 12 repositories', true],
      ['start the engine (systemd)', true],
      ['add deploy to the docker group', true],
    ]);
    expect(p.reconnect).toBe(true);
    expect(asRoot(f, 'id -u')).toBe("sudo -n sh -c 'id -u'");
    expect(asRoot(facts(), 'id -u')).toBe("sh -c 'id -u'");
  });

  it('a user whose sudo asks for a password: a clear problem', () => {
    const p = planEngine(facts({ uid: 1000, user: 'deploy', sudo: 'no' }), { source: 'distro' });
    expect(p.problem).toMatch(
      /user deploy needs root for "install docker.io.*" but has no passwordless sudo/,
    );
  });
});

describe('pre-flight checks', () => {
  const hosts = [
    { name: 'm1', advertiseAddress: '10.0.0.1' },
    { name: 'w1', advertiseAddress: '10.0.0.2' },
  ];
  const base = (over: Partial<EngineFacts> = {}) => facts({ addresses: ['127.0.0.1', '10.0.0.2'], ...over });

  it('clock skew against the first manager', () => {
    const input = {
      hosts,
      facts: new Map([
        ['m1', facts()],
        ['w1', base()],
      ]),
      reference: 'm1',
    };
    expect(
      preflightChecks({
        ...input,
        clockOffsets: new Map([
          ['m1', 0.2],
          ['w1', 1.5],
        ]),
      }),
    ).toEqual([]);
    const skewed = preflightChecks({
      ...input,
      clockOffsets: new Map([
        ['m1', 0],
        ['w1', -(MAX_CLOCK_SKEW_S + 20)],
      ]),
    });
    expect(skewed).toEqual([
      { host: 'w1', check: 'clock', message: expect.stringMatching(/30.0 s behind m1/) },
    ]);
  });

  it('the advertise address must be an address of the host', () => {
    const problems = preflightChecks({
      hosts,
      facts: new Map([
        ['m1', facts()],
        ['w1', base({ addresses: ['127.0.0.1', '172.17.0.9'] })],
      ]),
      clockOffsets: new Map(),
      reference: 'm1',
    });
    expect(problems).toEqual([
      {
        host: 'w1',
        check: 'address',
        message: expect.stringContaining('10.0.0.2 is not an address of this host (it has 172.17.0.9)'),
      },
    ]);
  });

  it('free disk space', () => {
    const problems = preflightChecks({
      hosts,
      facts: new Map([['m1', facts({ diskFreeKiB: 300 * 1024 })]]),
      clockOffsets: new Map(),
      reference: 'm1',
    });
    expect(problems).toEqual([
      { host: 'm1', check: 'disk', message: expect.stringContaining('only 300 MiB free') },
    ]);
  });

  it('probes: joining hosts from the reference (2377 only to managers), the reference from another host', () => {
    const roles = [
      { name: 'm1', role: 'manager' as const },
      { name: 'm2', role: 'manager' as const },
      { name: 'w1', role: 'worker' as const },
    ];
    expect(probePlan(roles, new Set(['m1', 'm2', 'w1']), 'm1')).toEqual([
      { from: 'm1', to: 'm2', ports: ['tcp:2377', 'tcp:7946', 'udp:7946', 'udp:4789'] },
      { from: 'm1', to: 'w1', ports: ['tcp:7946', 'udp:7946', 'udp:4789'] },
      { from: 'm2', to: 'm1', ports: ['tcp:2377', 'tcp:7946', 'udp:7946', 'udp:4789'] },
    ]);
    expect(probePlan(roles, new Set(['w1']), 'm1')).toEqual([
      { from: 'm1', to: 'w1', ports: ['tcp:7946', 'udp:7946', 'udp:4789'] },
    ]);
  });
});
