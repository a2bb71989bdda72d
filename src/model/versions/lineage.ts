// Ancestry on the kernel version tree. Mainline releases form one line (linux-5.8 < linux-5.9 ...);
// a stable point release linux-X.Y.Z branches off linux-X.Y and descends from the earlier points
// of its branch (linux-6.1.50 has every mainline change up to 6.1 and every backport up to .50,
// not the mainline 6.2 ones); a patch-series version S@vN descends from its base release and from
// S@v1..S@v(N-1). The bug catalog uses this to decide which versions carry a bug.

type Node =
  | { kind: 'release'; ver: [number, number] }
  | { kind: 'point'; ver: [number, number, number] }
  | { kind: 'series'; name: string; n: number; base: string };

/** `linux-6.1` / `linux-6.1.50` (also without the prefix); undefined for anything else. */
export function parseKernelNumber(id: string): number[] | undefined {
  const m = /^(?:linux-)?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(id);
  if (m === null) return undefined;
  return m[3] === undefined ? [Number(m[1]), Number(m[2])] : [Number(m[1]), Number(m[2]), Number(m[3])];
}

function node(id: string, baseOf: (id: string) => string | undefined): Node | undefined {
  const at = id.indexOf('@v');
  if (at > 0) {
    const base = baseOf(id);
    if (base === undefined) return undefined;
    return { kind: 'series', name: id.slice(0, at), n: Number(id.slice(at + 2)), base };
  }
  const n = parseKernelNumber(id);
  if (n === undefined) return undefined;
  return n.length === 2 ? { kind: 'release', ver: [n[0], n[1]] } : { kind: 'point', ver: [n[0], n[1], n[2]] };
}

function le2(a: readonly number[], b: readonly number[]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);
}

/**
 * Whether version `a` is `v` or one of its ancestors. `baseOf` names a series version's base
 * release. Unknown ids are nobody's ancestor.
 */
export function isAncestorOrSelf(a: string, v: string, baseOf: (id: string) => string | undefined): boolean {
  if (a === v) return true;
  const na = node(a, baseOf);
  const nv = node(v, baseOf);
  if (na === undefined || nv === undefined) return false;
  if (nv.kind === 'series') {
    if (na.kind === 'series') return na.name === nv.name && na.n <= nv.n;
    return isAncestorOrSelf(a, nv.base, baseOf);
  }
  if (na.kind === 'series') return false;
  if (na.kind === 'release') return le2(na.ver, nv.ver);
  // a is a stable point: only later points of the same branch descend from it.
  return nv.kind === 'point' && nv.ver[0] === na.ver[0] && nv.ver[1] === na.ver[1] && na.ver[2] <= nv.ver[2];
}
