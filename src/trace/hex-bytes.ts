// Bytes as lower-case hex, two digits each ('' for none): what Buffer#toString('hex') gives,
// without a Buffer object per call. The replay log shows the data of most events (`data=...`, an
// observation in a divergence), so this runs hundreds of thousands of times per replay.

const DIGITS: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Up to this many bytes are concatenated digit pairs; longer data goes through one Buffer. */
const SMALL = 32;

export function hexBytes(d: Uint8Array): string {
  const n = d.length;
  if (n > SMALL) return Buffer.from(d.buffer, d.byteOffset, n).toString('hex');
  let s = '';
  for (let i = 0; i < n; i++) s += DIGITS[d[i]!];
  return s;
}
