import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEngineFacts, type EngineFacts } from '../../src/engine/host-facts.ts';
import { parseInfo, parseNodes, type ClusterNode, type HostFacts } from '../../src/swarm/facts.ts';

/** A state captured from real engines (test/fixtures/engines, made by test/support/capture-engine-fixtures.ts). */
interface Fixture {
  hosts: Array<{
    host: string;
    /** The host's address when captured (the states where addresses matter): what swarmup advertises for it. */
    address?: string;
    info: unknown;
    nodes: unknown[] | null;
    nodesError: string | null;
  }>;
  /** Hosts whose engine was stopped: what swarmup's engine facts command printed there. */
  stoppedEngines?: Array<{ host: string; address: string; engineFacts: string }>;
}

export interface LoadedFixture {
  facts: HostFacts[];
  /** The node list of the first manager that answered. */
  nodes: ClusterNode[];
  /** The cluster's name: the hosts' names without -manager-N / -worker-N. */
  prefix: string;
  /** Engine facts of the hosts whose engine was stopped, parsed as swarmup parses them. */
  stopped: Map<string, EngineFacts>;
  /** Every host's address when captured (where recorded). */
  addresses: Map<string, string>;
}

/** Every host's facts as swarmup reads them (a manager's failed node list kept as its error). */
export function loadFixture(state: string): LoadedFixture {
  const path = resolve(import.meta.dirname, `../fixtures/engines/${state}.json`);
  const f = JSON.parse(readFileSync(path, 'utf8')) as Fixture;
  const facts = f.hosts.map((h) => {
    const facts = parseInfo(h.host, h.address ?? '', h.info);
    if (facts.isManager) {
      if (h.nodes) facts.nodes = parseNodes(h.nodes);
      else facts.nodesError = h.nodesError ?? 'no answer';
    }
    return facts;
  });
  const stopped = new Map(
    (f.stoppedEngines ?? []).map((s) => [s.host, parseEngineFacts(s.host, s.engineFacts)]),
  );
  const addresses = new Map([
    ...f.hosts.flatMap((h) => (h.address ? [[h.host, h.address] as const] : [])),
    ...(f.stoppedEngines ?? []).map((s) => [s.host, s.address] as const),
  ]);
  const prefix = (f.hosts[0] ?? f.stoppedEngines![0]!).host.replace(/-(manager|worker)-\d+$/, '');
  return { facts, nodes: facts.find((x) => x.nodes)?.nodes ?? [], prefix, stopped, addresses };
}

/** Every host's facts as status reads them, and the node list of the first manager that answered. */
export function loadEngineFixture(state: string): { facts: HostFacts[]; nodes: ClusterNode[] } {
  const { facts, nodes } = loadFixture(state);
  return { facts, nodes };
}
