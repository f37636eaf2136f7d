import { describe, expect, it } from 'vitest';
import { DeadlineError, withApiDeadline, withDeadline } from '../../src/transport/deadline.ts';

const never = () => new Promise<never>(() => undefined);

describe('deadlines', () => {
  it('a call that never answers fails after its deadline, naming what was waited for', async () => {
    const t0 = Date.now();
    await expect(withDeadline(never(), 50, 'node-1: the Docker engine: info')).rejects.toThrow(
      new DeadlineError('node-1: the Docker engine: info did not answer within 0.1 s'),
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(withDeadline(Promise.resolve(7), 50, 'x')).resolves.toBe(7);
  });

  it('every call of an API client, and of the objects it hands out, gets the deadline', async () => {
    const client = {
      info: never,
      ping: () => Promise.resolve('OK'),
      getNode: (id: string) => ({ inspect: never, id }),
    };
    const wrapped = withApiDeadline(client, 30, 'node-2: the Docker engine');
    await expect(wrapped.ping()).resolves.toBe('OK');
    await expect(wrapped.info()).rejects.toThrow('node-2: the Docker engine: info did not answer within');
    const node = wrapped.getNode('n1');
    expect(node.id).toBe('n1');
    await expect(node.inspect()).rejects.toThrow('node-2: the Docker engine: inspect did not answer within');
  });
});
