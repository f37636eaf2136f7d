import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseInfo, parseNodes, type ClusterNode, type HostFacts } from '../../src/swarm/facts.ts';

/** A state captured from real engines (test/fixtures/engines, made by test/support/capture-engine-fixtures.ts). */
interface Fixture {
  hosts: Array<{ host: string; info: unknown; nodes: unknown[] | null; nodesError: string | null }>;
}

/** Every host's facts as status reads them, and the node list of the first manager that answered. */
export function loadEngineFixture(state: string): { facts: HostFacts[]; nodes: ClusterNode[] } {
  const path = resolve(import.meta.dirname, `../fixtures/engines/${state}.json`);
  const f = JSON.parse(readFileSync(path, 'utf8')) as Fixture;
  const facts = f.hosts.map((h) => {
    const facts = parseInfo(h.host, '', h.info);
    if (facts.isManager && h.nodes) facts.nodes = parseNodes(h.nodes);
    return facts;
  });
  return { facts, nodes: facts.find((x) => x.nodes)?.nodes ?? [] };
}
