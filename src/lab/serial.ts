// Parses the lab guest's serial console (lab/guest/init.sh prints everything between @@ marker
// lines): the sysfs snapshot, each scenario's runner results (plain run and strace run), the
// strace capture and dmesg. Kernel messages may interleave; only marker-delimited lines count.

import type { DeviceSysfs } from '../trace/types.js';

/** One runner result line: `@@R IDX [ok] [ret=N] [errno=E] [data=HEX] [text=HEX] [sig=S code=C addr=A]`. */
export interface RunResult {
  index: number;
  ok?: true;
  ret?: bigint;
  errno?: string;
  data?: Uint8Array;
  /** A sysfs read's text (without its final newline). */
  text?: string;
  signal?: { signal: string; code: string; addr: bigint | null };
  /** `@@E`: the runner could not perform the op (a scenario mistake), with its message. */
  error?: string;
  /** `@@K IDX HEX` lines after the result: kernel log lines the op produced (LAB_KLOG). */
  klog?: string[];
}

export interface ScenarioRun {
  results: Map<number, RunResult>;
  /** The runner's exit status; `done` = it printed @@DONE (ran to the end). */
  rc: number;
  done: boolean;
}

export interface LabConsole {
  /** key -> value lines of the sysfs snapshot; `resource` and `config` rows kept in order. */
  snapshot: { fields: Map<string, string>; resource: string[]; config: string[] };
  bound: string;
  /** Config space read from sysfs right before each scenario ran (hex rows), by scenario. */
  scenarioConfig: Map<string, string[]>;
  /** The function's runtime PM and driver_override right before each scenario ran (settled). */
  scenarioSysfs: Map<string, DeviceSysfs>;
  runs: Map<string, ScenarioRun>;
  runs2: Map<string, ScenarioRun>;
  straces: Map<string, string>;
  /** tracer/vfio-trace's ioctl-args file of each scenario's second run. */
  ioctlArgs: Map<string, string>;
  /** What the tracer printed on stderr during each scenario's second run. */
  tracer: Map<string, string[]>;
  dmesg: string;
  failures: string[];
  complete: boolean;
}

const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

export function parseResultLine(line: string): RunResult | undefined {
  const e = /^@@E (\d+) (.*)$/.exec(line);
  if (e) return { index: Number(e[1]), error: e[2] };
  const m = /^@@R (\d+)((?: \S+)*)\s*$/.exec(line);
  if (!m) return undefined;
  const r: RunResult = { index: Number(m[1]) };
  let sig: string | undefined;
  let code = '';
  let addr: bigint | null = null;
  for (const tok of m[2].trim().split(/\s+/).filter(Boolean)) {
    const [k, v = ''] = tok.split('=', 2) as [string, string?];
    switch (k) {
      case 'ok':
        r.ok = true;
        break;
      case 'ret':
        r.ret = BigInt(v);
        break;
      case 'errno':
        r.errno = v;
        break;
      case 'data':
        r.data = fromHex(v);
        break;
      case 'text':
        r.text = Buffer.from(v, 'hex').toString('utf8');
        break;
      case 'sig':
        sig = v;
        break;
      case 'code':
        code = v;
        break;
      case 'addr':
        addr = BigInt(v);
        break;
      default:
        return undefined;
    }
  }
  if (sig) r.signal = { signal: sig, code, addr };
  return r;
}

function parseRun(lines: string[], endLine: string): ScenarioRun {
  const results = new Map<number, RunResult>();
  let done = false;
  for (const l of lines) {
    if (l === '@@DONE') done = true;
    const k = /^@@K (\d+) ([0-9a-f]*)$/.exec(l);
    if (k) {
      const r = results.get(Number(k[1]));
      if (r) (r.klog ??= []).push(Buffer.from(k[2], 'hex').toString('utf8'));
      continue;
    }
    const r = parseResultLine(l);
    if (r) results.set(r.index, r);
  }
  const rc = Number(/rc=(-?\d+)/.exec(endLine)?.[1] ?? -1);
  return { results, rc, done };
}

export function parseConsole(text: string): LabConsole {
  const lines = text.split('\n');
  const out: LabConsole = {
    snapshot: { fields: new Map(), resource: [], config: [] },
    bound: '',
    scenarioConfig: new Map(),
    scenarioSysfs: new Map(),
    runs: new Map(),
    runs2: new Map(),
    straces: new Map(),
    ioctlArgs: new Map(),
    tracer: new Map(),
    dmesg: '',
    failures: [],
    complete: false,
  };
  let i = 0;
  let lastConfig: string[] = [];
  // Collects lines up to the closing marker (exclusive); returns them and the closing line.
  const until = (prefix: string): { body: string[]; end: string } => {
    const body: string[] = [];
    while (i < lines.length && !lines[i].startsWith(prefix)) body.push(lines[i++]);
    const end = lines[i] ?? '';
    i++;
    return { body, end };
  };
  while (i < lines.length) {
    const l = lines[i++];
    let m: RegExpExecArray | null;
    if (l === '@@SNAP begin') {
      for (const s of until('@@SNAP end').body) {
        if (s.startsWith('resource ')) out.snapshot.resource.push(s.slice(9));
        else if (s.startsWith('config')) out.snapshot.config.push(s.slice(6));
        else {
          const sp = s.indexOf(' ');
          if (sp > 0) out.snapshot.fields.set(s.slice(0, sp), s.slice(sp + 1));
        }
      }
    } else if (l.startsWith('@@BOUND ')) {
      out.bound = l.slice(8);
    } else if ((m = /^@@SCFG begin (\S+)$/.exec(l))) {
      lastConfig = until(`@@SCFG end ${m[1]}`).body.filter((s) => s.startsWith('config')).map((s) => s.slice(6));
      out.scenarioConfig.set(m[1], lastConfig);
    } else if ((m = /^@@SSYS (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)$/.exec(l))) {
      // power_state runtime_status power/control d3cold_allowed driver_override, settled.
      out.scenarioSysfs.set(m[1], { powerState: m[2], runtimeStatus: m[3], control: m[4], d3coldAllowed: m[5], driverOverride: m[6] });
    } else if ((m = /^@@SCFG same (\S+)$/.exec(l))) {
      // The guest prints the config only when it changed since the previous scenario.
      out.scenarioConfig.set(m[1], lastConfig);
    } else if ((m = /^@@RUN begin (\S+)$/.exec(l))) {
      const { body, end } = until(`@@RUN end ${m[1]} `);
      out.runs.set(m[1], parseRun(body, end));
    } else if ((m = /^@@RUN2 begin (\S+)$/.exec(l))) {
      const { body, end } = until(`@@RUN2 end ${m[1]} `);
      out.runs2.set(m[1], parseRun(body, end));
    } else if ((m = /^@@STRACE begin (\S+)$/.exec(l))) {
      const { body } = until(`@@STRACE end ${m[1]}`);
      out.straces.set(m[1], body.join('\n') + (body.length ? '\n' : ''));
    } else if ((m = /^@@ARGS begin (\S+)$/.exec(l))) {
      const { body } = until(`@@ARGS end ${m[1]}`);
      out.ioctlArgs.set(m[1], body.join('\n') + (body.length ? '\n' : ''));
    } else if ((m = /^@@TRACER (\S+) (.*)$/.exec(l))) {
      out.tracer.set(m[1], [...(out.tracer.get(m[1]) ?? []), m[2]]);
    } else if (l === '@@DMESG begin') {
      out.dmesg = until('@@DMESG end').body.join('\n');
    } else if (l.startsWith('@@FAIL ')) {
      out.failures.push(l.slice(7));
    } else if (l === '@@LAB end') {
      out.complete = true;
    }
  }
  return out;
}
