/* Port I/O and MMIO primitives for the inner guest (x86, ring 0, paging off). */
#ifndef INNER_IO_H
#define INNER_IO_H
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* One load/store of exactly `len` bytes at a physical address: the guest access under test. */
static inline uint32_t mmio_read(uint32_t addr, int len)
{
  if (len == 1) return *(volatile uint8_t *)addr;
  if (len == 2) return *(volatile uint16_t *)addr;
  return *(volatile uint32_t *)addr;
}
static inline void mmio_write(uint32_t addr, int len, uint32_t v)
{
  if (len == 1) *(volatile uint8_t *)addr = (uint8_t)v;
  else if (len == 2) *(volatile uint16_t *)addr = (uint16_t)v;
  else *(volatile uint32_t *)addr = v;
}
#endif
