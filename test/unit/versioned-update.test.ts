import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSequenceConflict, updateVersioned } from '../../src/swarm/versioned-update.ts';

/**
 * A node or swarm update sent at a version another update already moved past: what the engine answered (captured
 * from Docker 20.10, test/fixtures/engines/update-out-of-sequence.json), as dockerode throws it. CI met it when a
 * scale-down demoted a manager while swarmkit updated that node itself: the demote failed and up exited 3.
 */
const fixture = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../fixtures/engines/update-out-of-sequence.json'), 'utf8'),
) as { answers: Record<string, { status: number; body: { message: string } }> };
const dockerodeError = (a: { status: number; body: { message: string } }) =>
  Object.assign(new Error(`(HTTP code ${a.status}) server error - ${a.body.message} `), {
    statusCode: a.status,
    json: a.body,
  });
const nodeConflict = dockerodeError(fixture.answers.nodeUpdate!);
const swarmConflict = dockerodeError(fixture.answers.swarmUpdate!);

describe('an update another update went before (update out of sequence)', () => {
  it('is told apart from other errors, for node and swarm updates alike', () => {
    expect(isSequenceConflict(nodeConflict)).toBe(true);
    expect(isSequenceConflict(swarmConflict)).toBe(true);
    expect(
      isSequenceConflict(
        new Error(
          '(HTTP code 500) server error - rpc error: code = Unknown desc = The swarm does not have a leader',
        ),
      ),
    ).toBe(false);
  });

  it('is read again and written again at the new version, once the conflict is met', async () => {
    let version = 10;
    const written: number[] = [];
    await updateVersioned(
      async () => ({ version: version++ }), // someone else updated between each read
      async (current) => {
        written.push(current.version);
        if (written.length === 1) throw nodeConflict;
      },
    );
    expect(written).toEqual([10, 11]);
  });

  it('any other error is thrown at once; conflicts that never end are thrown after the last attempt', async () => {
    let writes = 0;
    const other = new Error('(HTTP code 404) no such node');
    await expect(
      updateVersioned(
        async () => ({}),
        async () => {
          writes++;
          throw other;
        },
      ),
    ).rejects.toBe(other);
    expect(writes).toBe(1);
    writes = 0;
    await expect(
      updateVersioned(
        async () => ({}),
        async () => {
          writes++;
          throw swarmConflict;
        },
        3,
      ),
    ).rejects.toBe(swarmConflict);
    expect(writes).toBe(3);
  });
});
