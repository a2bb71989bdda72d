/* COM1 (0x3F8) output. Lines are flushed (transmitter empty) before every risky access, because
   the VMM may die on that access and whatever is still in the UART would be lost. */
#ifndef INNER_SERIAL_H
#define INNER_SERIAL_H
#include <stdint.h>
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);
void serial_hex(uint32_t v);      /* 0x-prefixed, no leading zeros */
void serial_bytes(uint32_t v, int len); /* little-endian bytes, two hex digits each */
void serial_flush(void);
#endif
