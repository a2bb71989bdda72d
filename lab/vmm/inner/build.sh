#!/bin/sh
# Builds the inner guest: a freestanding multiboot v1 ELF32. Usage: build.sh OUT.elf
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CFLAGS="-m32 -ffreestanding -nostdlib -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables -O2 -Wall -Wextra -Werror -std=gnu11"
for f in boot.S serial.c main.c; do
  gcc $CFLAGS -c "$here/$f" -o "$tmp/$f.o"
done
ld -m elf_i386 -nostdlib --no-warn-rwx-segments -T "$here/linker.ld" -o "$out" "$tmp/boot.S.o" "$tmp/serial.c.o" "$tmp/main.c.o"
