// A deep copy of model state that keeps classes (ConfigImage), Maps, Sets, typed arrays and
// shared references (two fields pointing at one object still do in the copy). The interleaving
// explorer snapshots the models with it; functions are kept as they are.

export function deepClone<T>(value: T, seen: Map<unknown, unknown> = new Map()): T {
  if (typeof value !== 'object' || value === null) return value;
  const known = seen.get(value);
  if (known !== undefined) return known as T;
  if (value instanceof Uint8Array) {
    const c = value.slice();
    seen.set(value, c);
    return c as T;
  }
  if (Array.isArray(value)) {
    const c: unknown[] = [];
    seen.set(value, c);
    for (const x of value) c.push(deepClone(x, seen));
    return c as T;
  }
  if (value instanceof Map) {
    const c = new Map();
    seen.set(value, c);
    for (const [k, v] of value) c.set(deepClone(k, seen), deepClone(v, seen));
    return c as T;
  }
  if (value instanceof Set) {
    const c = new Set();
    seen.set(value, c);
    for (const v of value) c.add(deepClone(v, seen));
    return c as T;
  }
  const c = Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>;
  seen.set(value, c);
  for (const key of Object.keys(value)) c[key] = deepClone((value as Record<string, unknown>)[key], seen);
  return c as T;
}

/** A stable text form of model state, for telling equal states apart (Maps/Sets in insertion order). */
export function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    if (v instanceof Map) return [...v.entries()];
    if (v instanceof Set) return [...v.values()];
    if (typeof v === 'function') return undefined;
    return v;
  });
}
