import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunInstancesCommand, TerminateInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { HostKeyChangedError } from '../../src/errors.ts';
import { applyPinChanges, pinChanges, pinnedPatterns } from '../../src/providers/ec2/host-keys.ts';
import type { Machine } from '../../src/providers/provider.ts';
import { provisionAll } from '../../src/providers/provision-all.ts';
import { StateStore } from '../../src/state/store.ts';
import { formatKnownHost, hostPattern, KnownHostsFile } from '../../src/transport/known-hosts.ts';
import { ec2Emulator } from '../support/ec2-emulator.ts';

/**
 * EC2 host keys belong to instances: pinned under the instance ID, dropped when the instance is terminated, so a
 * node's new instance (healed, relaunched) is never refused for its predecessor's key. The pin store on a real
 * file system; the provider against moto (whose instances cannot be reached over SSH: a first connection is made
 * as swarmup's SSH transport makes it, by the known_hosts check its host key verifier runs).
 */
const aws = ec2Emulator();
const { ec2 } = aws;

/** An ed25519 public key blob in SSH wire format, as a server presents it. */
function hostKey(): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const len = (n: number) => Buffer.from([0, 0, 0, n]);
  return Buffer.concat([len(type.length), type, len(32), randomBytes(32)]);
}

/** The check swarmup's SSH transport runs on a server's key (src/transport/ssh-connection.ts hostVerifier). */
function connect(kh: KnownHostsFile, m: Machine, key: Buffer): void {
  const address = hostPattern(m.address, m.port);
  kh.verify(m.name, m.hostKeyAlias ?? address, key, m.hostKeyAlias ? address : undefined);
}

const provider = (name: string, managers: number, workers: number) =>
  aws.provider(name, { managers: String(managers), workers: String(workers) });

describe('pinChanges (pure)', () => {
  const pinned = new Set([
    'i-0aaaaaaaaaaaaaaa1',
    'i-0bbbbbbbbbbbbbbb2',
    'lab-worker-1',
    'lab-manager-1',
    '10.0.1.7',
  ]);

  it('drops the pins of gone instances and by address; carries a node-name pin only to its one live instance', () => {
    const c = pinChanges(pinned, [
      { id: 'i-0aaaaaaaaaaaaaaa1', node: 'lab-worker-1', state: 'terminated' },
      { id: 'i-0ccccccccccccccc3', node: 'lab-worker-1', state: 'running', target: '10.0.1.7' },
      { id: 'i-0bbbbbbbbbbbbbbb2', node: 'lab-manager-2', state: 'running' },
      { id: 'i-0ddddddddddddddd4', node: 'lab-manager-1', state: 'running' },
    ]);
    expect(c.drop.sort()).toEqual(['10.0.1.7', 'i-0aaaaaaaaaaaaaaa1', 'lab-manager-1', 'lab-worker-1']);
    // lab-worker-1 had two instances: its name's pin may be the terminated one's, so it is not carried.
    expect(c.carry).toEqual([{ from: 'lab-manager-1', to: 'i-0ddddddddddddddd4' }]);
  });

  it('an instance AWS no longer lists at all loses its pin; the bastion address is kept', () => {
    const c = pinChanges(
      new Set(['i-0eeeeeeeeeeeeeee5', '198.51.100.4']),
      [{ id: 'i-0fffffffffffffff6', node: 'lab-manager-1', state: 'running', target: '198.51.100.4' }],
      new Set(['198.51.100.4']),
    );
    expect(c).toEqual({ drop: ['i-0eeeeeeeeeeeeeee5'], carry: [] });
  });

  it('applied to a real known_hosts file: carried keys still verify under the instance ID, dropped lines are gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmup-pins-'));
    try {
      const path = join(dir, 'known_hosts');
      const [m1, gone, bastion] = [hostKey(), hostKey(), hostKey()];
      writeFileSync(
        path,
        formatKnownHost('lab-manager-1', m1) +
          formatKnownHost('i-0aaaaaaaaaaaaaaa1', gone) +
          formatKnownHost('198.51.100.4', bastion),
        { mode: 0o600 },
      );
      const kh = new KnownHostsFile(path);
      applyPinChanges(
        kh,
        pinChanges(
          pinnedPatterns(kh),
          [
            { id: 'i-0aaaaaaaaaaaaaaa1', node: 'lab-worker-1', state: 'terminated' },
            { id: 'i-0ddddddddddddddd4', node: 'lab-manager-1', state: 'running', target: '10.0.1.8' },
          ],
          new Set(['198.51.100.4']),
        ),
      );
      expect([...pinnedPatterns(kh)].sort()).toEqual(['198.51.100.4', 'i-0ddddddddddddddd4']);
      expect(() => kh.verify('lab-manager-1', 'i-0ddddddddddddddd4', m1)).not.toThrow();
      expect(() => kh.verify('lab-manager-1', 'i-0ddddddddddddddd4', hostKey())).toThrow(HostKeyChangedError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('EC2 host keys against the emulator', () => {
  aws.freshForEachTest();

  it("a node's new instance (relaunched out of band, same tags) is not refused for its predecessor's key; the old pin goes", async () => {
    const { machines } = await provisionAll(provider('hk', 1, 1));
    const kh = new StateStore('hk').knownHosts();
    const keys = new Map(machines.map((m) => [m.name, hostKey()]));
    for (const m of machines) connect(kh, m, keys.get(m.name)!);

    // The worker's instance is terminated and another one launched like it ("launch more like this"): the same
    // Name and cluster tags, new host keys.
    const [old] = await aws.named('hk', 'hk-worker-1');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [old!.InstanceId!] }));
    await ec2.send(
      new RunInstancesCommand({
        ImageId: aws.ami,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 't3.small',
        TagSpecifications: [{ ResourceType: 'instance', Tags: old!.Tags! }],
      }),
    );

    const again = await provider('hk', 1, 1).reach();
    const worker = again.find((m) => m.name === 'hk-worker-1')!;
    expect(worker.hostKeyAlias).not.toBe(old!.InstanceId);
    expect(() => connect(kh, worker, hostKey())).not.toThrow();
    // The manager, the same instance, still must show the key it showed first.
    const manager = again.find((m) => m.name === 'hk-manager-1')!;
    expect(() => connect(kh, manager, keys.get('hk-manager-1')!)).not.toThrow();
    expect(() => connect(kh, manager, hostKey())).toThrow(HostKeyChangedError);
    // The terminated instance's key pins nothing any more.
    expect(readFileSync(kh.path, 'utf8')).not.toContain(old!.InstanceId!);
    expect(readFileSync(kh.path, 'utf8')).not.toContain(keys.get('hk-worker-1')!.toString('base64'));
    const ids = Object.fromEntries(
      (await Promise.all(machines.map((m) => aws.named('hk', m.name)))).map((is) => {
        const live = is.find((i) => i.State?.Name === 'running')!;
        return [nodeOf(live), live.InstanceId!];
      }),
    );
    // Each instance's key is pinned under its own ID.
    for (const m of again) expect(m.hostKeyAlias).toBe(ids[m.name]);
  });

  it('remove(name) terminates the instance and drops its pin', async () => {
    const { machines } = await provisionAll(provider('hk', 1, 1));
    const kh = new StateStore('hk').knownHosts();
    const keys = new Map(machines.map((m) => [m.name, hostKey()]));
    for (const m of machines) connect(kh, m, keys.get(m.name)!);
    await provider('hk', 1, 1).remove('hk-worker-1', () => undefined);
    const text = readFileSync(kh.path, 'utf8');
    expect(text).not.toContain(keys.get('hk-worker-1')!.toString('base64'));
    expect(text).toContain(keys.get('hk-manager-1')!.toString('base64'));
  });

  it('a node healed by the provider (its instance terminated, a replacement launched): the new instance is trusted on first use', async () => {
    const { machines } = await provisionAll(provider('hk', 1, 1));
    const kh = new StateStore('hk').knownHosts();
    for (const m of machines) connect(kh, m, hostKey());
    const [old] = await aws.named('hk', 'hk-worker-1');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [old!.InstanceId!] }));
    const healed = await provisionAll(provider('hk', 1, 1));
    expect(healed.created).toBe(1);
    const worker = healed.machines.find((m) => m.name === 'hk-worker-1')!;
    expect(() => connect(kh, worker, hostKey())).not.toThrow();
    expect(readFileSync(kh.path, 'utf8')).not.toContain(old!.InstanceId!);
  });
});

function nodeOf(i: Instance): string {
  return i.Tags?.find((t) => t.Key === 'Name')?.Value ?? '';
}
