// fd numbers inside decoded ioctl structs (a BIND's iommufd, HOT_RESET's group fds, SET_IRQS'
// eventfds, IOEVENTFD's and the low-power wakeup eventfd, IOAS_MAP_FILE's fd) are what the caller
// passed: maybe an alias (dup2'd, F_DUPFD'd). The trace names every file by the number it was
// opened at (fd-table.ts), so the model, which knows files by the number their open returned,
// finds the same file. Negative numbers (-1 = none/deconfigure) stay as they are.

import type { EventBody } from '../trace/types.js';

/** `body` with every fd number it carries passed through `name`. */
export function withFileNames(body: EventBody, name: (fd: number) => number): EventBody {
  const n = (fd: number) => (fd < 0 ? fd : name(fd));
  if (body.kind === 'iommufd') return body.op === 'ioas-map-file' ? { ...body, fd: n(body.fd) } : body;
  if (body.kind !== 'ioctl') return body;
  switch (body.op) {
    case 'bind-iommufd':
      return { ...body, iommufd: n(body.iommufd) };
    case 'hot-reset':
      return { ...body, groupFds: body.groupFds.map(n) };
    case 'set-irqs':
      return { ...body, fds: body.fds.map(n) };
    case 'ioeventfd':
      return { ...body, fd: n(body.fd) };
    case 'low-power':
      // wakeupFd is 0 (not an fd) for the requests without a wakeup eventfd.
      return body.request === 'entry-with-wakeup' ? { ...body, wakeupFd: n(body.wakeupFd) } : body;
    default:
      return body;
  }
}
