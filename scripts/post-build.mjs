// Runs after `tsc`: the CLI loads proto/vfio_trace.proto at run time relative to the package root,
// so its absence is a broken build; and tsc does not keep the executable bit, which `npx
// vfio-replay` (and `git bisect run npx vfio-replay check`) needs on the bin file.
import { chmodSync, existsSync } from 'node:fs';

if (!existsSync(new URL('../proto/vfio_trace.proto', import.meta.url))) {
  console.error('proto/vfio_trace.proto is missing');
  process.exit(2);
}
chmodSync(new URL('../dist/src/cli/main.js', import.meta.url), 0o755);
