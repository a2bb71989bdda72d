// The CLI loads proto/vfio_trace.proto at run time relative to the package root; nothing to copy
// today, but keep the hook so a packed build stays self-contained if the layout changes.
import { existsSync } from 'node:fs';
if (!existsSync(new URL('../proto/vfio_trace.proto', import.meta.url))) {
  console.error('proto/vfio_trace.proto is missing');
  process.exit(2);
}
