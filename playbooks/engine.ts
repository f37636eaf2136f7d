import { applyEngines, planEngines, readEngineFacts } from '../src/engine/ensure.ts';
import { definePlaybook } from '../src/playbook/playbook.ts';

/** `swarmup engine install`: make every host's engine installed, running and usable by the SSH user. */
export default definePlaybook({
  name: 'engine install',
  description: 'install and start the Docker engine where it is missing',
  async run(all): Promise<string[]> {
    const ctx = all.withHosts(await all.provider.reach());
    const reading = await readEngineFacts(ctx);
    const plans = planEngines(ctx, reading);
    await applyEngines(ctx, plans, reading);
    return plans.map((p) => `${p.host}: ${p.summary}`);
  },
});
