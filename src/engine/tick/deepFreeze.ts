/**
 * Freezes a JSON value and everything in it, skipping subtrees already frozen (so freezing the
 * state each frame costs only what changed). Ticks share one state object per frame and process:
 * a tick that tried to mutate it would make results depend on which shards share a process.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) for (const v of value) deepFreeze(v);
  else for (const k of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[k]);
  return value;
}
