// The browser the report tests drive: Debian's chromium (the shared needs-tool gate decides
// whether the tests run), launched headless with every network-reaching feature off.

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
