import type Docker from 'dockerode';
import { errorMessage } from '../errors.ts';
import { sleep } from '../transport/ssh-connection.ts';

/**
 * Remove what smoke tests made for a cluster, found by label (swarmup.cluster=<name> and swarmup.smoke): the
 * service, its overlay network, and the image and task containers on every node. Also what an interrupted earlier run left behind
 * (the cluster's lock keeps two smoke tests from running at once). Waits, within `withinMs`, until every node's
 * engine lists none of them; returns one line per thing still there.
 */
export async function removeSmokeResources(
  cluster: string,
  manager: Docker,
  nodes: Array<{ name: string; docker: Docker }>,
  withinMs: number,
): Promise<{ removed: string[]; left: string[] }> {
  const deadline = Date.now() + withinMs;
  const filters = { label: [`swarmup.cluster=${cluster}`, 'swarmup.smoke'] };
  const removed: string[] = [];
  const left: string[] = [];

  const services = await manager.listServices({ filters }).catch(() => []);
  for (const s of services as Array<{ ID: string; Spec?: { Name?: string } }>) {
    try {
      await manager.getService(s.ID).remove();
      removed.push(`service ${s.Spec?.Name ?? s.ID}`);
    } catch (err) {
      left.push(`service ${s.Spec?.Name ?? s.ID}: ${errorMessage(err)}`);
    }
  }
  // Networks and images go once the tasks' containers are gone: retried until then.
  const networks = async () => {
    for (;;) {
      const list = (await manager.listNetworks({ filters }).catch(() => [])) as Array<{
        Id: string;
        Name: string;
      }>;
      let last = '';
      for (const n of list) {
        try {
          await manager.getNetwork(n.Id).remove();
          removed.push(`network ${n.Name}`);
        } catch (err) {
          last = `network ${n.Name}: ${errorMessage(err)}`;
        }
      }
      if (!last) return;
      if (Date.now() > deadline) return void left.push(last);
      await sleep(500);
    }
  };
  const onNode = async (node: { name: string; docker: Docker }) => {
    for (;;) {
      let last = '';
      try {
        // The service is gone: its task containers go too (the agent takes seconds; a forced removal does not).
        const containers = (await node.docker.listContainers({ all: true, filters })) as Array<{
          Id: string;
        }>;
        for (const c of containers) {
          try {
            await node.docker.getContainer(c.Id).remove({ force: true });
          } catch (err) {
            if (!/no such container|is already in progress/i.test(errorMessage(err)))
              last = `container ${c.Id.slice(0, 12)} on ${node.name}: ${errorMessage(err)}`;
          }
        }
        const images = (await node.docker.listImages({ filters })) as Array<{ Id: string }>;
        for (const i of images) {
          try {
            await node.docker.getImage(i.Id).remove({ force: true });
            removed.push(`image ${i.Id.slice(7, 19)} on ${node.name}`);
          } catch (err) {
            last = `image ${i.Id.slice(7, 19)} on ${node.name}: ${errorMessage(err)}`;
          }
        }
        // A worker drops its copy of the overlay network once no task of it runs there.
        const nets = (await node.docker.listNetworks({ filters })) as Array<{ Name: string }>;
        if (nets.length > 0) last ||= `network ${nets[0]!.Name} still attached on ${node.name}`;
        const still = (await node.docker.listContainers({ all: true, filters })) as unknown[];
        if (still.length > 0) last ||= `${still.length} task container(s) still on ${node.name}`;
      } catch (err) {
        last = `${node.name}: ${errorMessage(err)}`;
      }
      if (!last) return;
      if (Date.now() > deadline) return void left.push(last);
      await sleep(500);
    }
  };
  await Promise.all([networks(), ...nodes.map(onNode)]);
  return { removed, left };
}
