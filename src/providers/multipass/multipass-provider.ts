import { totalmem } from 'node:os';
import type { ClusterSpec, MultipassSpec } from '../../config/cluster.ts';
import { InputError, StepError } from '../../errors.ts';
import { ensureOwner, readOwner } from '../../state/owner.ts';
import type { StateStore } from '../../state/store.ts';
import { Semaphore } from '../../transport/semaphore.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { byRoleThenNumber, wantedNodes } from '../node-names.ts';
import type { Machine, MachineListing, NodeWanted, ProgressSink, Provider } from '../provider.ts';
import { multipass, multipassOk } from './cli.ts';
import { cloudInit, MARKER_PATH, parseMarker, type Marker } from './cloud-init.ts';
import {
  deleteArgs,
  infoArgs,
  LAUNCH_PARALLEL,
  LAUNCH_SLACK_MS,
  LAUNCH_TIMEOUT_S,
  launchArgs,
  launchFailure,
  listArgs,
  readMarkerArgs,
  startArgs,
  stopArgs,
} from './commands.ts';
import { parseInfo, parseList, type VmEntry } from './json.ts';
import { memoryProblem } from './spec.ts';
import { listingState, roleInName, verdict } from './ownership.ts';

/** How long `reach` waits for VMs to run and have an address. */
const WAIT_MS = 5 * 60_000;
const MARKER_TIMEOUT_MS = 30_000;

/** The login of Ubuntu's cloud images, which Multipass launches. */
export const MULTIPASS_USER = 'ubuntu';

/** Read a VM's swarmup marker with `multipass exec` (undefined: none, or not readable now). */
export async function readMarker(name: string): Promise<Marker | undefined> {
  const r = await multipass(readMarkerArgs(name, MARKER_PATH), { timeoutMs: MARKER_TIMEOUT_MS });
  return r.code === 0 ? parseMarker(r.stdout) : undefined;
}

/** Every VM Multipass has, in any state. */
export async function listVms(): Promise<VmEntry[]> {
  return parseList(await multipassOk('local', 'multipass list', listArgs()));
}

/**
 * Local VMs with Multipass, one per node, launched from Ubuntu's cloud image with a cloud-init file that adds the
 * cluster's SSH key for `ubuntu`, writes swarmup's owner marker and starts the engine installation during boot.
 * SSH and Swarm both use the address Multipass reports. A VM is the cluster's by name and by marker (ownership.ts).
 */
export class MultipassProvider implements Provider {
  readonly name = 'multipass';
  readonly createsMachines = true;
  readonly enginePreinstalled = false;
  private readonly mp: MultipassSpec;
  private readonly launches = new Semaphore(LAUNCH_PARALLEL);
  /** Markers read in this run (a VM's marker never changes while it lives). */
  private readonly markers = new Map<string, Promise<Marker | undefined>>();

  constructor(
    private readonly spec: ClusterSpec,
    private readonly state: StateStore,
  ) {
    if (!spec.multipass) throw new Error('multipass settings missing');
    this.mp = spec.multipass;
  }

  wanted(): NodeWanted[] {
    return wantedNodes(this.spec.name, this.spec.managers, this.spec.workers);
  }

  async list(): Promise<MachineListing[]> {
    const ours = await this.ours();
    return ours
      .map((vm) => ({
        name: vm.name,
        role: roleInName(this.spec.name, vm.name)!,
        state: listingState(vm.state),
        ...(vm.state !== 'Running' ? { reason: `Multipass says ${vm.state}` } : {}),
      }))
      .sort(byRoleThenNumber);
  }

  async prepare(): Promise<string[]> {
    // Checked before anything is made here or there: a refusal leaves no state behind.
    const owner = readOwner();
    const vms = await listVms();
    const wanted = this.wanted();
    const problems: string[] = [];
    let toLaunch = 0;
    for (const node of wanted) {
      const vm = vms.find((v) => v.name === node.name);
      if (!vm) {
        toLaunch++;
        continue;
      }
      const v = verdict(vm, this.spec.name, owner, await this.marker(vm), this.recorded());
      if (!v.ours)
        problems.push(
          `${node.name}: a Multipass VM of that name exists that swarmup did not create for cluster ${this.spec.name}: ${v.why}; delete or rename it, or choose another --name`,
        );
    }
    if (problems.length > 0) throw new InputError(problems.join('\n'));
    const memory = memoryProblem(toLaunch, this.mp.memory, totalmem());
    if (memory) throw new InputError(memory);
    ensureOwner();
    this.state.clusterKey();
    this.state.write({ name: this.spec.name, provider: 'multipass' });
    return [];
  }

  async create(node: NodeWanted, progress: ProgressSink): Promise<void> {
    await this.launches.acquire();
    try {
      // A failed VM of the cluster (Multipass lost it) is replaced under the same name.
      const existing = (await listVms()).find((v) => v.name === node.name);
      if (existing) {
        const v = verdict(
          existing,
          this.spec.name,
          readOwner(),
          await this.marker(existing),
          this.recorded(),
        );
        if (!v.ours)
          throw new StepError(
            node.name,
            'launch VM',
            `a VM of that name exists that swarmup did not create: ${v.why}`,
          );
        progress(`${node.name}: deleting the VM it replaces (${existing.state})`);
        await this.deleteVms([node.name]);
      }
      const marker = { cluster: this.spec.name, owner: ensureOwner(), node: node.name };
      // Recorded before launching: a run interrupted mid-launch leaves a VM `down` still finds.
      this.record(node.name, true);
      this.state.knownHosts().forget(node.name);
      progress(
        `${node.name}: launching ${this.mp.image} (${this.mp.cpus} CPU, ${this.mp.memory}, ${this.mp.disk} disk)`,
      );
      const r = await multipass(launchArgs(node.name, this.mp), {
        input: cloudInit(marker, this.state.clusterKey().publicKey, this.spec.engine),
        timeoutMs: LAUNCH_TIMEOUT_S * 1000 + LAUNCH_SLACK_MS,
      });
      if (r.code !== 0) {
        const why = launchFailure(`${r.stderr}\n${r.stdout}`, r.timedOut, this.mp);
        // A failed create rolls back: the half-made VM is ours (the name was free), so it goes.
        if ((await listVms()).some((v) => v.name === node.name))
          await this.deleteVms([node.name]).catch(() => undefined);
        else this.record(node.name, false);
        throw new StepError(node.name, 'launch VM', why);
      }
      this.markers.set(node.name, Promise.resolve(marker));
    } finally {
      this.launches.release();
    }
  }

  async start(name: string, progress: ProgressSink): Promise<void> {
    progress(`${name}: starting`);
    await multipassOk(name, 'start VM', startArgs(name), { timeoutMs: LAUNCH_TIMEOUT_S * 1000 });
  }

  /** `multipass stop NAME`: the VM shuts down (its engine with it); its disk and its IP lease stay. */
  async stop(name: string, progress: ProgressSink): Promise<void> {
    progress(`${name}: stopping`);
    await multipassOk(name, 'stop VM', stopArgs(name), { timeoutMs: LAUNCH_TIMEOUT_S * 1000 });
  }

  async remove(name: string, progress: ProgressSink): Promise<void> {
    progress(`${name}: deleting the VM (delete --purge)`);
    if ((await listVms()).some((v) => v.name === name)) await this.deleteVms([name]);
    else this.record(name, false);
  }

  async reach(names?: string[], progress?: ProgressSink): Promise<Machine[]> {
    const ours = await this.ours();
    const wantedNames = names ?? ours.filter((v) => v.state === 'Running').map((v) => v.name);
    const missing = wantedNames.filter((n) => !ours.some((v) => v.name === n));
    if (missing.length > 0) throw new StepError(missing[0]!, 'find VM', 'no VM of the cluster has that name');
    if (wantedNames.length === 0) return [];
    const deadline = Date.now() + WAIT_MS;
    let said = false;
    for (;;) {
      const info = parseInfo(await multipassOk('local', 'multipass info', infoArgs(wantedNames)));
      const notReady = wantedNames.filter((n) => {
        const vm = info.find((v) => v.name === n);
        return !vm || vm.state !== 'Running' || vm.ipv4.length === 0;
      });
      if (notReady.length === 0) return this.machines(wantedNames, info);
      if (Date.now() > deadline)
        throw new StepError(
          notReady[0]!,
          'wait for VM',
          `not running with an IPv4 address after ${WAIT_MS / 60_000} min`,
        );
      if (!said) progress?.(`waiting for ${notReady.join(', ')} to run and have an address`);
      said = true;
      await sleep(2000);
    }
  }

  async location(): Promise<string> {
    return 'Multipass on this machine';
  }

  async removeAll(progress: ProgressSink): Promise<{ removed: string[] }> {
    const names = (await this.ours()).map((v) => v.name);
    if (names.length > 0) {
      progress(`deleting ${names.length} VM${names.length === 1 ? '' : 's'} (${names.join(', ')})`);
      await this.deleteVms(names);
    }
    return { removed: names.map((n) => `VM ${n}`) };
  }

  private machines(names: string[], info: VmEntry[]): Machine[] {
    const privateKey = this.state.clusterKeyPath();
    return names
      .map((name) => {
        const address = info.find((v) => v.name === name)!.ipv4[0]!;
        return {
          name,
          address,
          port: 22,
          user: MULTIPASS_USER,
          privateKey,
          advertiseAddress: address,
          // Pinned by node: Multipass hands a deleted VM's address to the next one it launches.
          hostKeyAlias: name,
          role: roleInName(this.spec.name, name)!,
        };
      })
      .sort(byRoleThenNumber);
  }

  /** The cluster's VMs: its names, and its marker (or, when not running, this state home's record of it). */
  private async ours(): Promise<VmEntry[]> {
    const owner = readOwner();
    const vms = (await listVms()).filter((v) => roleInName(this.spec.name, v.name) && v.state !== 'Deleted');
    const verdicts = await Promise.all(
      vms.map(async (vm) => verdict(vm, this.spec.name, owner, await this.marker(vm), this.recorded()).ours),
    );
    return vms.filter((_, i) => verdicts[i]);
  }

  private marker(vm: VmEntry): Promise<Marker | undefined> {
    if (vm.state !== 'Running') return Promise.resolve(undefined);
    let m = this.markers.get(vm.name);
    if (!m) {
      m = readMarker(vm.name);
      this.markers.set(vm.name, m);
    }
    return m;
  }

  private async deleteVms(names: string[]): Promise<void> {
    await multipassOk(names.length === 1 ? names[0]! : 'local', 'delete VM', deleteArgs(names));
    for (const n of names) {
      this.markers.delete(n);
      this.record(n, false);
      this.state.knownHosts().forget(n);
    }
  }

  private recorded(): string[] {
    return this.state.read()?.machines ?? [];
  }

  private record(name: string, launched: boolean): void {
    if (!this.state.exists() && !launched) return;
    const now = this.recorded().filter((n) => n !== name);
    this.state.write({
      name: this.spec.name,
      provider: 'multipass',
      machines: launched ? [...now, name] : now,
    });
  }
}
