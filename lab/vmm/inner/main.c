/*
 * The inner guest: runs one guest-side scenario against the vfio-pci device the VMM assigned to it.
 *
 * The scenario is a script on the multiboot command line (QEMU -append), commands separated by ';':
 *   find VVVV:DDDD      locate the device on bus 0 and walk its capability list (finds PM)
 *   bars                take the BAR addresses the firmware programmed as the MMIO bases
 *   size                size BAR0-5 (write all-ones, read back, restore)
 *   bar N ADDR          program BAR N with ADDR and use it as that BAR's base
 *   mem 0|1, io 0|1     clear/set COMMAND.MEM / COMMAND.IO (read-modify-write)
 *   pm N                write PMCSR.PowerState = N (0=D0 .. 3=D3hot), other bits as read
 *   cr OFF LEN          config read          cw OFF LEN VAL   config write
 *   rd N OFF [LEN]      MMIO read of BAR N   wr N OFF VAL [LEN]  MMIO write of BAR N
 *   ra ADDR [LEN]       MMIO read of a physical address (e.g. where a BAR used to be)
 *   ior N OFF [LEN]     port read of BAR N   iow N OFF VAL [LEN] port write of BAR N
 *   exit CODE           isa-debug-exit (VMM exit status CODE*2+1); implied `exit 0` at the end
 *
 * Output on COM1: every access to the device is one line in the text-twin event syntax of
 * docs/text-format.md (`guest-mmio-read 0xc0000008 len=4 => data=...`); everything else is a
 * `#` comment. The event part is written and flushed BEFORE the access and the `=> ...` part after
 * it, so a line without `=>` is the access the VMM died on.
 */
#include <stdint.h>
#include "io.h"
#include "serial.h"

#define DEBUG_EXIT_PORT 0xf4

struct mb_info { uint32_t flags, mem_lower, mem_upper, boot_device, cmdline; };

static uint32_t dev_addr;         /* CF8 address of the device, 0 = not found */
static uint32_t bar_base[6];
static uint8_t pm_cap;

static uint32_t cf8(uint32_t a, int off) { return a | (off & 0xfc); }

static uint32_t cfg_raw_read(uint32_t a, int off, int len)
{
  outl(0xCF8, cf8(a, off));
  if (len == 1) return inb(0xCFC + (off & 3));
  if (len == 2) return inw(0xCFC + (off & 3));
  return inl(0xCFC);
}

static void cfg_raw_write(uint32_t a, int off, int len, uint32_t v)
{
  outl(0xCF8, cf8(a, off));
  if (len == 1) outb(0xCFC + (off & 3), (uint8_t)v);
  else if (len == 2) outw(0xCFC + (off & 3), (uint16_t)v);
  else outl(0xCFC, v);
}

/* Config offsets with two hex digits at least, like the text twin's canonical `0x04`. */
static void put_off(int off)
{
  static const char d[] = "0123456789abcdef";
  serial_puts("0x");
  if (off >= 0x100) serial_putc(d[(off >> 8) & 0xf]);
  serial_putc(d[(off >> 4) & 0xf]);
  serial_putc(d[off & 0xf]);
}

static void ev_begin(const char *kind) { serial_puts(kind); serial_putc(' '); }
static void ev_len(int len) { serial_puts(" len="); serial_putc((char)('0' + len)); }
static void ev_go(void) { serial_flush(); }
static void ev_data(uint32_t v, int len) { serial_puts(" => data="); serial_bytes(v, len); serial_putc('\n'); }
static void ev_done(void) { serial_puts(" =>\n"); }

static uint32_t cr(int off, int len)
{
  ev_begin("guest-cfg-read");
  put_off(off);
  ev_len(len);
  ev_go();
  uint32_t v = cfg_raw_read(dev_addr, off, len);
  ev_data(v, len);
  return v;
}

static void cw(int off, int len, uint32_t v)
{
  ev_begin("guest-cfg-write");
  put_off(off);
  ev_len(len);
  serial_puts(" val=");
  serial_hex(v);
  ev_go();
  cfg_raw_write(dev_addr, off, len, v);
  ev_done();
}

static uint32_t mr(uint32_t addr, int len)
{
  ev_begin("guest-mmio-read");
  serial_hex(addr);
  ev_len(len);
  ev_go();
  uint32_t v = mmio_read(addr, len);
  ev_data(v, len);
  return v;
}

static void mw(uint32_t addr, int len, uint32_t v)
{
  ev_begin("guest-mmio-write");
  serial_hex(addr);
  ev_len(len);
  serial_puts(" val=");
  serial_hex(v);
  ev_go();
  mmio_write(addr, len, v);
  ev_done();
}

/* Port I/O to an I/O BAR has no text-twin event kind yet: reported as a comment line. */
static uint32_t pr(uint32_t port, int len)
{
  serial_puts("# guest-io-read ");
  serial_hex(port);
  ev_len(len);
  ev_go();
  uint32_t v = len == 1 ? inb((uint16_t)port) : len == 2 ? inw((uint16_t)port) : inl((uint16_t)port);
  ev_data(v, len);
  return v;
}

static void pw(uint32_t port, int len, uint32_t v)
{
  serial_puts("# guest-io-write ");
  serial_hex(port);
  ev_len(len);
  serial_puts(" val=");
  serial_hex(v);
  ev_go();
  if (len == 1) outb((uint16_t)port, (uint8_t)v);
  else if (len == 2) outw((uint16_t)port, (uint16_t)v);
  else outl((uint16_t)port, v);
  ev_done();
}

static void finish(uint32_t code)
{
  serial_puts("# exit ");
  serial_hex(code);
  serial_putc('\n');
  serial_flush();
  outl(DEBUG_EXIT_PORT, code);
  for (;;) __asm__ volatile("hlt");
}

static void fail(const char *why)
{
  serial_puts("# error ");
  serial_puts(why);
  serial_putc('\n');
  finish(0x7f);
}

/* ---- script parsing ---- */

static const char *sp;

static void skip_blank(void) { while (*sp == ' ' || *sp == '\t') sp++; }

static int word(char *out, int max)
{
  skip_blank();
  int n = 0;
  while (*sp && *sp != ' ' && *sp != '\t' && *sp != ';' && n < max - 1) out[n++] = *sp++;
  out[n] = 0;
  return n;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int number(uint32_t *out)
{
  char w[16];
  if (!word(w, sizeof w)) return 0;
  uint32_t v = 0;
  const char *p = w;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    p += 2;
    if (!*p) return 0;
    for (; *p; p++) {
      int d = hexval(*p);
      if (d < 0) return 0;
      v = v * 16 + (uint32_t)d;
    }
  } else {
    for (; *p; p++) {
      if (*p < '0' || *p > '9') return 0;
      v = v * 10 + (uint32_t)(*p - '0');
    }
  }
  *out = v;
  return 1;
}

static uint32_t need(void)
{
  uint32_t v;
  if (!number(&v)) fail("bad number");
  return v;
}

static uint32_t opt_len(void)
{
  uint32_t v;
  const char *save = sp;
  if (!number(&v)) { sp = save; return 4; }
  if (v != 1 && v != 2 && v != 4) fail("bad length");
  return v;
}

static int streq(const char *a, const char *b)
{
  while (*a && *a == *b) { a++; b++; }
  return *a == *b;
}

static void need_dev(void) { if (!dev_addr) fail("no device: run find first"); }

static void cmd_find(void)
{
  char w[16];
  word(w, sizeof w);
  /* VVVV:DDDD */
  uint32_t want = 0;
  for (const char *p = w; *p; p++) {
    if (*p == ':') continue;
    int d = hexval(*p);
    if (d < 0) fail("bad id");
    want = want * 16 + (uint32_t)d;
  }
  want = (want & 0xffff) << 16 | (want >> 16); /* config dword 0 is device<<16 | vendor */
  for (uint32_t slot = 0; slot < 32 && !dev_addr; slot++)
    for (uint32_t fn = 0; fn < 8 && !dev_addr; fn++) {
      uint32_t a = 0x80000000u | slot << 11 | fn << 8;
      if (cfg_raw_read(a, 0, 4) == want) {
        dev_addr = a;
        static const char d[] = "0123456789abcdef";
        serial_puts("# dev 00:");
        serial_putc(d[slot >> 4]);
        serial_putc(d[slot & 0xf]);
        serial_putc('.');
        serial_putc(d[fn]);
        serial_putc('\n');
      }
    }
  if (!dev_addr) fail("device not found");
  cr(0x00, 4);
  /* Capability walk: the PM capability is where PMCSR lives. */
  if (cr(0x06, 2) & 0x10) {
    uint32_t p = cr(0x34, 1) & 0xfc;
    for (int guard = 0; p && guard < 48; guard++) {
      uint32_t hdr = cr((int)p, 2);
      if ((hdr & 0xff) == 0x01) pm_cap = (uint8_t)p;
      p = (hdr >> 8) & 0xfc;
    }
  }
  serial_puts("# pm-cap ");
  serial_hex(pm_cap);
  serial_putc('\n');
}

static void cmd_bars(void)
{
  need_dev();
  for (int i = 0; i < 6; i++) bar_base[i] = cr(0x10 + 4 * i, 4) & ~0xfu;
}

static void cmd_size(void)
{
  need_dev();
  for (int i = 0; i < 6; i++) {
    int off = 0x10 + 4 * i;
    uint32_t orig = cr(off, 4);
    cw(off, 4, 0xffffffffu);
    uint32_t m = cr(off, 4);
    cw(off, 4, orig);
    uint32_t size = (m & 1) ? (~(m & ~0x3u) + 1) & 0xffff : ~(m & ~0xfu) + 1;
    serial_puts("# bar ");
    serial_hex((uint32_t)i);
    serial_puts(m == 0 ? " none" : (m & 1) ? " io size=" : " mem size=");
    if (m) serial_hex(size);
    serial_putc('\n');
  }
}

static void cmd_bit(uint32_t bit)
{
  need_dev();
  uint32_t on = need();
  uint32_t c = cr(0x04, 2);
  cw(0x04, 2, on ? (c | bit) : (c & ~bit));
}

static void cmd_pm(void)
{
  need_dev();
  uint32_t state = need();
  if (!pm_cap) fail("no PM capability");
  uint32_t v = cr(pm_cap + 4, 2);
  cw(pm_cap + 4, 2, (v & ~3u) | (state & 3));
}

static uint32_t bar_addr(void)
{
  uint32_t n = need();
  if (n > 5) fail("bad BAR");
  return bar_base[n] + need();
}

static void run(const char *script)
{
  char cmd[16];
  sp = script;
  for (;;) {
    skip_blank();
    while (*sp == ';') { sp++; skip_blank(); }
    if (!*sp) break;
    const char *start = sp;
    word(cmd, sizeof cmd);
    serial_puts("# step ");
    for (const char *p = start; *p && *p != ';'; p++) serial_putc(*p);
    serial_putc('\n');
    if (streq(cmd, "find")) cmd_find();
    else if (streq(cmd, "bars")) cmd_bars();
    else if (streq(cmd, "size")) cmd_size();
    else if (streq(cmd, "bar")) {
      need_dev();
      uint32_t n = need(), a = need();
      if (n > 5) fail("bad BAR");
      cw(0x10 + 4 * (int)n, 4, a);
      bar_base[n] = a & ~0xfu;
    } else if (streq(cmd, "mem")) cmd_bit(0x2);
    else if (streq(cmd, "io")) cmd_bit(0x1);
    else if (streq(cmd, "pm")) cmd_pm();
    else if (streq(cmd, "cr")) { need_dev(); uint32_t o = need(); cr((int)o, (int)opt_len()); }
    else if (streq(cmd, "cw")) { need_dev(); uint32_t o = need(), l = opt_len(), v = need(); cw((int)o, (int)l, v); }
    else if (streq(cmd, "rd")) { uint32_t a = bar_addr(); mr(a, (int)opt_len()); }
    else if (streq(cmd, "ra")) { uint32_t a = need(); mr(a, (int)opt_len()); }
    else if (streq(cmd, "wr")) { uint32_t a = bar_addr(), v = need(); mw(a, (int)opt_len(), v); }
    else if (streq(cmd, "ior")) { uint32_t a = bar_addr(); pr(a, (int)opt_len()); }
    else if (streq(cmd, "iow")) { uint32_t a = bar_addr(), v = need(); pw(a, (int)opt_len(), v); }
    else if (streq(cmd, "exit")) finish(need());
    else fail("unknown command");
    skip_blank();
    if (*sp && *sp != ';') fail("trailing text");
  }
}

void inner_main(uint32_t magic, struct mb_info *mbi)
{
  serial_init();
  serial_puts("# vfio-inner 1\n");
  if (magic != 0x2BADB002u || !(mbi->flags & 4) || !mbi->cmdline) fail("no multiboot command line");
  /* QEMU's multiboot loader passes "KERNEL-PATH ARGS": the script is everything after the path. */
  const char *s = (const char *)mbi->cmdline;
  while (*s && *s != ' ') s++;
  while (*s == ' ') s++;
  serial_puts("# script ");
  serial_puts(s);
  serial_putc('\n');
  run(s);
  finish(0);
}
