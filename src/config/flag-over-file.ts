/** One setting of the spec, given by a command-line flag or in the config file (the flag wins). */
export interface FlagOverFile<F, V> {
  /** The flag's value, when the flag was given. */
  flag: F | undefined;
  /** The file's value (when the flag was not given, the one that counts). */
  file: V | undefined;
  /** The flag's value over the file's. */
  value: F | V | undefined;
  /** What a message about the value names: `--flag` when the flag gave it, else the file's field (`where`). */
  field: string;
}

/**
 * The one rule every resolver of the spec follows (the swarm options and each provider's section): the flag over
 * the file's value, and the message names whichever gave it.
 */
export function flagOverFile<F, V>(
  flag: F | undefined,
  flagName: string,
  file: V | undefined,
  fileField: string,
  where: (field: string) => string,
): FlagOverFile<F, V> {
  return {
    flag,
    file,
    value: flag ?? file,
    field: flag !== undefined ? flagName : where(fileField),
  };
}
