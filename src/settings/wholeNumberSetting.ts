/**
 * A whole-number setting from the environment: unset or empty gives `fallback`; anything else
 * must be a whole number of at least `least`, or a RangeError names the setting and the value.
 * (config.ts checks the server's own settings with zod; the modules that read their limits
 * directly from an environment share this.)
 */
export function wholeNumberSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, { least = 0, unit = '' } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < least) throw new RangeError(`${name} must be a whole number${unit ? ` of ${unit}` : ''} ≥ ${least}, got "${raw}"`);
  return value;
}
