/* Multiboot v1 entry for the inner guest. QEMU's -kernel loader recognises the header, loads the
   ELF32 and enters here in 32-bit protected mode with paging off, EAX = 0x2BADB002, EBX = the
   multiboot info structure (which carries the -append command line = the scenario script). */
	.section .multiboot, "a"
	.align 4
	.long 0x1BADB002            /* magic */
	.long 0x00000000            /* flags: nothing needed beyond the command line */
	.long -(0x1BADB002 + 0)     /* checksum */

	.section .text
	.globl _start
_start:
	cli
	mov $stack_top, %esp
	push %ebx                   /* multiboot info */
	push %eax                   /* multiboot magic */
	call inner_main
1:	hlt
	jmp 1b

	.section .bss
	.align 16
	.space 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
