import { expect } from 'vitest';
import { InputError } from '../../src/errors.ts';

/** The message of the InputError `fn` throws (bad input: exit 2); fails the test when it throws nothing or another error. */
export function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error('expected an InputError');
}
