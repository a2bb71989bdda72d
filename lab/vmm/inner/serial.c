#include "serial.h"
#include "io.h"

#define COM1 0x3F8

void serial_init(void)
{
  outb(COM1 + 1, 0x00); /* no interrupts */
  outb(COM1 + 3, 0x80); /* DLAB */
  outb(COM1 + 0, 0x01); /* 115200 baud */
  outb(COM1 + 1, 0x00);
  outb(COM1 + 3, 0x03); /* 8N1 */
  outb(COM1 + 2, 0xC7); /* FIFO on, cleared */
}

void serial_putc(char c)
{
  while (!(inb(COM1 + 5) & 0x20)) {} /* THR empty */
  outb(COM1, (uint8_t)c);
}

void serial_puts(const char *s)
{
  while (*s) serial_putc(*s++);
}

static const char hexdig[] = "0123456789abcdef";

void serial_hex(uint32_t v)
{
  char buf[11];
  int i = 10;
  buf[i] = 0;
  do { buf[--i] = hexdig[v & 0xf]; v >>= 4; } while (v);
  buf[--i] = 'x';
  buf[--i] = '0';
  serial_puts(&buf[i]);
}

void serial_bytes(uint32_t v, int len)
{
  for (int i = 0; i < len; i++) {
    serial_putc(hexdig[(v >> (8 * i + 4)) & 0xf]);
    serial_putc(hexdig[(v >> (8 * i)) & 0xf]);
  }
}

void serial_flush(void)
{
  while (!(inb(COM1 + 5) & 0x40)) {} /* transmitter empty: every byte has left the UART */
}
