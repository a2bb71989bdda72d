/*
 * vfio-lab runner: executes a trace's host-side operations against the real vfio-pci driver, in
 * order, and prints each real outcome. Built static (gcc -static) and run inside the lab guest.
 *
 *   runner BDF GROUP SCRIPT
 *
 * SCRIPT is the op script the TypeScript side writes (src/lab/op-script.ts): one operation per
 * line, "IDX OP ARGS...", numbers in C notation (0x.. hex or decimal), byte strings as hex.
 * Output (stdout, fully buffered, flushed once at the end so that a run under strace shows the
 * device syscalls and not a write per result):
 *
 *   @@R IDX [ok] [ret=N] [errno=NAME] [data=HEX] [sig=SIGBUS code=BUS_ADRERR addr=0x..]
 *   @@E IDX message          -- the script asked for something the runner cannot do
 *
 * Container and group setup happen once per process, at the first op that needs them (`open`,
 * `map-dma`, `unmap-dma`), and are not trace events: the trace's `open` is
 * VFIO_GROUP_GET_DEVICE_FD, its `close` is close(device fd). A script with set-up ops
 * (`vfio-open container TFD`, `vfio-open group N TFD`, `vfio-close TFD`, `container-op TFD REQ
 * ARG`, `group-op TFD REQ CTFD`, `get-device-fd TFD NAME`) does its own set-up instead: TFD are
 * the trace's fd numbers, mapped to the runner's own as the opens return them. A cdev scenario
 * never opens the group (an open group blocks VFIO_DEVICE_BIND_IOMMUFD with -EBUSY): `cdev-open`
 * opens /dev/vfio/devices/vfioN, `iommufd-open` /dev/iommu, and the iommufd ops run on that fd.
 * Ordinary memory for IOAS_MAP/MAP_DMA: RAM_BASE..+RAM_SIZE is anonymous memory in every run.
 *
 * Processes: `fork N` forks a child that the trace calls N; a line "IDX @N OP ARGS" runs OP in
 * that child (it inherited the fds and BAR mappings), and "IDX @N exit" ends it. The parent hands
 * each such line over a pipe and waits for the child's acknowledgement, so results stay in trace
 * order (both flush stdout around the hand-over).
 *
 * Kernel log (LAB_KLOG=WORD in the environment, set by init.sh for a scenario with a
 * `# lab: klog=WORD` line): after each op the runner reads the records /dev/kmsg gained and prints
 * those containing WORD (or the ratelimit's "callbacks suppressed") as `@@K IDX HEX` (the message
 * text, hex): the event's kernel log. A dev_dbg_ratelimited() callsite prints at most 10 lines per
 * 5 s, so before a CPU access the runner waits out the window once 7 lines were printed in it
 * (one fault prints up to 3: PUD, PMD, PTE).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "errnames.h"

/* Defined here rather than taken from the build host's uapi headers: bookworm's headers predate
 * the DMABUF feature (6.19), and the numbers are ABI. */
#define LAB_FEATURE_DMA_BUF 11
#define LAB_FEATURE_GET (1u << 16)
#define LAB_FEATURE_PROBE (1u << 18)

/* iommufd and the vfio cdev (uapi iommufd.h / vfio.h, 6.2+/6.6+): _IO(';', nr), argument structs
 * by size. Written out because bookworm's uapi headers predate them; the numbers are ABI. */
#define LAB_IOMMU_DESTROY 0x3b80
#define LAB_IOMMU_IOAS_ALLOC 0x3b81
#define LAB_IOMMU_IOAS_IOVA_RANGES 0x3b84
#define LAB_IOMMU_IOAS_MAP 0x3b85
#define LAB_IOMMU_IOAS_UNMAP 0x3b86
#define LAB_IOMMU_HWPT_ALLOC 0x3b89
#define LAB_IOMMU_IOAS_MAP_FILE 0x3b8f
#define LAB_VFIO_DEVICE_BIND_IOMMUFD 0x3b76
#define LAB_VFIO_DEVICE_ATTACH_IOMMUFD_PT 0x3b77
#define LAB_VFIO_DEVICE_DETACH_IOMMUFD_PT 0x3b78
#define RAM_BASE 0x200000000000ull
#define RAM_SIZE (64ull << 20)

#define MAX_MAPS 64
#define MAX_DMABUFS 64
#define MAX_LINE 65536
#define MAX_XFER (1u << 20)

struct mapping {
	int live;
	int region;
	uint64_t offset; /* offset within the region */
	uint64_t length;
	uint64_t trace_addr; /* the address the trace recorded (key for munmap) */
	uint8_t *addr;       /* the real address */
	unsigned long created; /* mmap order: the oldest covering mapping serves an access */
};

static const char *bdf;
static int container_fd = -1, group_fd = -1, device_fd = -1, iommufd = -1;
static const char *group_name;
static int container_state; /* 0 = not set up yet, 1 = ready, -1 = failed */
/* Open device fds, innermost last: `open` pushes, `close` pops; operations use the newest. */
static int open_fds[16];
static int n_open;
static struct mapping maps[MAX_MAPS];
static int dmabufs[MAX_DMABUFS];
static int n_dmabufs;
static unsigned long n_mmaps;

/*
 * Low-power settling. After LOW_POWER_ENTRY the kernel drops its runtime-PM reference and the
 * device suspends asynchronously (a workqueue); every later access resumes it and drops the
 * reference again. Whether the next operation finds the device suspended is a race, and the
 * outcomes differ (a WITH_WAKEUP eventfd only fires on a real resume; a PMCSR write is undone
 * only when a suspend runs in between). The runner removes the race: while it believes low power
 * is engaged it waits, after each operation, until sysfs runtime_status reads "suspended" (or
 * the wakeup eventfd fired, which ends low power), so each op sees the settled state a VMM that
 * is idle between accesses would see.
 */
static int lp_engaged;
static int lp_wake_fd = -1;
static int rt_status_fd = -1;

static void lp_settle(void)
{
	if (!lp_engaged || rt_status_fd < 0) return;
	for (int i = 0; i < 400; i++) {
		if (lp_wake_fd >= 0) {
			uint64_t v;
			if (read(lp_wake_fd, &v, sizeof v) == (ssize_t)sizeof v) {
				lp_engaged = 0;
				return;
			}
		}
		char st[32] = { 0 };
		if (pread(rt_status_fd, st, sizeof st - 1, 0) > 0 && !strncmp(st, "suspended", 9)) return;
		usleep(5000);
	}
}

/*
 * Runtime-PM settling for sysfs operations. Closing the device, or a sysfs write that resumes
 * it (d3cold_allowed, power/control, reset), leaves an asynchronous idle suspend behind: a read
 * of power_state right after races with it. Before a sysfs read and after a sysfs write the
 * runner waits until runtime_status reads the same twice 20 ms apart and is neither "suspending"
 * nor "resuming" (at most 2 s), so the trace records the state the device settles in.
 */
static void rpm_settle(void)
{
	if (rt_status_fd < 0) return;
	char prev[32] = { 0 };
	for (int i = 0; i < 100; i++) {
		char st[32] = { 0 };
		if (pread(rt_status_fd, st, sizeof st - 1, 0) <= 0) return;
		if (!strcmp(st, prev) && strncmp(st, "suspending", 10) && strncmp(st, "resuming", 8)) return;
		memcpy(prev, st, sizeof prev);
		usleep(20000);
	}
}

static void put_hex(const uint8_t *p, size_t n);

/* ---- kernel log capture (LAB_KLOG) ------------------------------------------------------- */

static const char *klog_word;
static int kmsg_fd = -1;
static int klog_lines; /* lines printed since the last wait */

static void klog_open(void)
{
	klog_word = getenv("LAB_KLOG");
	if (!klog_word || !*klog_word) { klog_word = NULL; return; }
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0) lseek(kmsg_fd, 0, SEEK_END);
	/* A window opened by an earlier scenario may still be running. */
	usleep(5100000);
}

/* Before a CPU access: a fresh ratelimit window when this one may not hold another fault. */
static void klog_window(void)
{
	if (kmsg_fd < 0 || klog_lines <= 7) return;
	usleep(5100000);
	klog_lines = 0;
}

static void klog_drain(long idx)
{
	if (kmsg_fd < 0) return;
	static char rec[8192];
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof rec - 1);
		if (n < 0 && errno == EPIPE) continue; /* records were overwritten: go on with the next */
		if (n <= 0) return;
		rec[n] = 0;
		/* "PRI,SEQ,USEC,FLAGS;text\n continuation lines" */
		char *text = strchr(rec, ';');
		if (!text) continue;
		text++;
		char *nl = strchr(text, '\n');
		if (nl) *nl = 0;
		if (!strstr(text, klog_word) && !strstr(text, "callbacks suppressed")) continue;
		printf("@@K %ld ", idx);
		put_hex((const uint8_t *)text, strlen(text));
		printf("\n");
		klog_lines++;
	}
}

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_armed;
static volatile int fault_signo, fault_code;
static void *volatile fault_addr;

static void on_fault(int signo, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!fault_armed) {
		signal(signo, SIG_DFL);
		raise(signo);
		return;
	}
	fault_signo = signo;
	fault_code = si->si_code;
	fault_addr = si->si_addr;
	siglongjmp(fault_jmp, 1);
}

static const char *sig_code_name(int signo, int code)
{
	if (signo == SIGBUS) {
		switch (code) {
		case BUS_ADRALN: return "BUS_ADRALN";
		case BUS_ADRERR: return "BUS_ADRERR";
		case BUS_OBJERR: return "BUS_OBJERR";
		case BUS_MCEERR_AR: return "BUS_MCEERR_AR";
		case BUS_MCEERR_AO: return "BUS_MCEERR_AO";
		}
	} else if (signo == SIGSEGV) {
		switch (code) {
		case SEGV_MAPERR: return "SEGV_MAPERR";
		case SEGV_ACCERR: return "SEGV_ACCERR";
		}
	}
	if (code == SI_KERNEL) return "SI_KERNEL";
	return "SI_UNKNOWN";
}

/* ---- result printing -------------------------------------------------------------------- */

static void put_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
}

static void result_ret(long idx, long long ret, int err, const uint8_t *data, size_t n)
{
	printf("@@R %ld", idx);
	if (ret < 0) {
		printf(" errno=%s", errno_name(err));
	} else {
		printf(" ret=%lld", ret);
		if (data && n) {
			printf(" data=");
			put_hex(data, n);
		}
	}
	putchar('\n');
}

static void result_err(long idx, const char *msg)
{
	printf("@@E %ld %s\n", idx, msg);
}

/* ---- parsing helpers -------------------------------------------------------------------- */

static char *next_tok(char **s)
{
	char *p = *s;
	while (*p == ' ' || *p == '\t') p++;
	if (!*p || *p == '\n') return NULL;
	char *start = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n') p++;
	if (*p) *p++ = 0;
	*s = p;
	return start;
}

static int num(char **s, long long *out)
{
	char *t = next_tok(s);
	if (!t) return -1;
	char *end;
	errno = 0;
	*out = (long long)strtoull(t, &end, 0);
	if (t[0] == '-') *out = strtoll(t, &end, 0);
	return (*end || errno) ? -1 : 0;
}

/* "-" is an empty byte string. */
static long hexbytes(char **s, uint8_t *buf, size_t cap)
{
	char *t = next_tok(s);
	if (!t) return -1;
	if (!strcmp(t, "-")) return 0;
	size_t n = strlen(t);
	if (n % 2 || n / 2 > cap) return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(t + 2 * i, "%2x", &v) != 1) return -1;
		buf[i] = (uint8_t)v;
	}
	return (long)(n / 2);
}

static uint64_t region_offset(int region, uint64_t off)
{
	return ((uint64_t)region << 40) | off;
}

/* ---- operations ------------------------------------------------------------------------- */

/* Trace fd -> runner fd, for scripts that do their own set-up (set-up ops). */
#define MAX_SETUP_FDS 32
static struct { long long trace; int real; } setup_fds[MAX_SETUP_FDS];
static int n_setup_fds;

static void setup_fd_set(long long trace, int real)
{
	for (int i = 0; i < n_setup_fds; i++) if (setup_fds[i].trace == trace) { setup_fds[i].real = real; return; }
	if (n_setup_fds < MAX_SETUP_FDS) setup_fds[n_setup_fds++] = (typeof(setup_fds[0])){ trace, real };
}

/* The runner's fd for a trace fd; an fd the trace never opened is passed as it is (the kernel
 * answers EBADF for it, as it would have). */
static int setup_fd(long long trace)
{
	for (int i = 0; i < n_setup_fds; i++) if (setup_fds[i].trace == trace) return setup_fds[i].real;
	return (int)trace;
}

static int setup_container(const char *group)
{
	char path[64];
	container_fd = open("/dev/vfio/vfio", O_RDWR);
	if (container_fd < 0) { perror("open /dev/vfio/vfio"); return -1; }
	snprintf(path, sizeof path, "/dev/vfio/%s", group);
	group_fd = open(path, O_RDWR);
	if (group_fd < 0) { perror(path); return -1; }
	struct vfio_group_status st = { .argsz = sizeof st };
	if (ioctl(group_fd, VFIO_GROUP_GET_STATUS, &st) < 0 || !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "group %s not viable\n", group);
		return -1;
	}
	if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container_fd) < 0) { perror("SET_CONTAINER"); return -1; }
	if (ioctl(container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) { perror("SET_IOMMU"); return -1; }
	return 0;
}

/* The group and its container, set up on first need (see the top comment). */
static int need_container(long idx)
{
	if (!container_state) container_state = setup_container(group_name) ? -1 : 1;
	if (container_state < 0) result_err(idx, "container setup failed");
	return container_state < 0;
}

/* /dev/vfio/devices/vfioN of the device: the vfioN entry of its sysfs vfio-dev directory. */
static int open_cdev(void)
{
	char path[320];
	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	DIR *d = opendir(path);
	if (!d) return -1;
	struct dirent *de;
	int fd = -1;
	errno = ENOENT;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "vfio", 4)) continue;
		snprintf(path, sizeof path, "/dev/vfio/devices/%s", de->d_name);
		fd = open(path, O_RDWR);
		break;
	}
	closedir(d);
	return fd;
}

static int live_maps(void)
{
	for (int i = 0; i < MAX_MAPS; i++) if (maps[i].live) return 1;
	return 0;
}

static struct mapping *find_map_for(int bar, uint64_t off, uint64_t len)
{
	/* The trace locates CPU accesses by BAR offset only. With two live mappings of one BAR the
	 * oldest one that covers the access is used, as the model does (its mapping list is in
	 * creation order). The runner once took the newest: with a read-only and a read-write
	 * mapping of BAR0 the random campaign saw SIGSEGV where the model used the other one. */
	struct mapping *best = NULL;
	for (int i = 0; i < MAX_MAPS; i++) {
		struct mapping *m = &maps[i];
		if (m->live && m->region == bar && off >= m->offset && off + len <= m->offset + m->length &&
		    (!best || m->created < best->created))
			best = m;
	}
	return best;
}

static void cpu_access(long idx, int bar, uint64_t off, int len, int write, uint64_t value)
{
	struct mapping *m = find_map_for(bar, off, (uint64_t)len);
	if (!m) { result_err(idx, "no live mapping covers the access"); return; }
	volatile uint8_t *p = m->addr + (off - m->offset);
	uint64_t v = 0;
	if (sigsetjmp(fault_jmp, 1)) {
		fault_armed = 0;
		printf("@@R %ld sig=%s code=%s addr=0x%llx\n", idx, fault_signo == SIGBUS ? "SIGBUS" : "SIGSEGV",
		       sig_code_name(fault_signo, fault_code), (unsigned long long)(uintptr_t)fault_addr);
		return;
	}
	fault_armed = 1;
	switch (len) {
	case 1: if (write) *(volatile uint8_t *)p = (uint8_t)value; else v = *(volatile uint8_t *)p; break;
	case 2: if (write) *(volatile uint16_t *)p = (uint16_t)value; else v = *(volatile uint16_t *)p; break;
	case 4: if (write) *(volatile uint32_t *)p = (uint32_t)value; else v = *(volatile uint32_t *)p; break;
	case 8: if (write) *(volatile uint64_t *)p = value; else v = *(volatile uint64_t *)p; break;
	default: fault_armed = 0; result_err(idx, "CPU access width must be 1, 2, 4 or 8"); return;
	}
	fault_armed = 0;
	if (write) {
		printf("@@R %ld ok\n", idx);
	} else {
		uint8_t b[8];
		for (int i = 0; i < len; i++) b[i] = (uint8_t)(v >> (8 * i));
		printf("@@R %ld ok data=", idx);
		put_hex(b, (size_t)len);
		putchar('\n');
	}
}

static int fd_for_trace_fd(long long fd)
{
	/* The trace's fds belong to another process: any non-negative one stands for "a valid fd of
	 * the kind the call needs"; negative ones (-1 clears, < -1 invalid) are passed as they are. */
	return fd < 0 ? (int)fd : eventfd(0, EFD_CLOEXEC);
}

static void do_ioctl_buf(long idx, unsigned long req, void *buf, size_t outlen)
{
	errno = 0;
	int r = ioctl(device_fd, req, buf);
	result_ret(idx, r, errno, r >= 0 ? buf : NULL, r >= 0 ? outlen : 0);
}

static uint8_t xfer[MAX_XFER];
static uint8_t argbuf[MAX_XFER];

/* The user buffer of a pread/pwrite: `xfer`, or, when the op line ends in "BAR OFFSET", the
 * address of that BAR offset in this process's mapping (the copy then goes through the BAR). */
static uint8_t *user_buf(long idx, char **rest, uint64_t len, int *bad)
{
	long long bar, off;
	char *save = *rest;
	if (num(rest, &bar)) { *rest = save; return xfer; }
	if (num(rest, &off)) { *bad = 1; return NULL; }
	struct mapping *m = find_map_for((int)bar, (uint64_t)off, len ? len : 1);
	if (!m) { result_err(idx, "no live mapping covers the user buffer"); *bad = 2; return NULL; }
	return m->addr + ((uint64_t)off - m->offset);
}

/* ---- forked children ---------------------------------------------------------------------- */

#define MAX_KIDS 8
struct kid { long trace_pid; pid_t pid; int to, ack; };
static struct kid kids[MAX_KIDS];
static int n_kids;

static void run_op(long idx, char *op, char *rest);

/* The child's life: run the lines the parent hands over until `exit` (or the pipe closes). */
static void child_loop(int in, int ack)
{
	FILE *f = fdopen(in, "r");
	static char cline[MAX_LINE];
	while (f && fgets(cline, sizeof cline, f)) {
		char *rest = cline;
		char *t = next_tok(&rest);
		if (!t) continue;
		long idx = strtol(t, NULL, 10);
		char *op = next_tok(&rest);
		if (op && !strcmp(op, "exit")) {
			printf("@@R %ld ok\n", idx);
			fflush(stdout);
			_exit(0); /* the kernel unmaps the child's VMAs and closes its fds */
		}
		if (op) run_op(idx, op, rest);
		else result_err(idx, "missing op");
		fflush(stdout);
		if (write(ack, "k", 1) != 1) _exit(1);
	}
	fflush(stdout);
	_exit(0);
}

static void do_fork(long idx, long trace_pid)
{
	int down[2], up[2];
	if (n_kids >= MAX_KIDS || pipe(down) || pipe(up)) { result_err(idx, "cannot fork another child"); return; }
	fflush(stdout);
	pid_t p = fork();
	if (p < 0) { result_ret(idx, -1, errno, NULL, 0); return; }
	if (p == 0) {
		close(down[1]);
		close(up[0]);
		n_kids = 0;
		child_loop(down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	kids[n_kids++] = (struct kid){ trace_pid, p, down[1], up[0] };
	printf("@@R %ld ok\n", idx);
}

static void to_kid(long idx, long trace_pid, char *op, char *rest)
{
	struct kid *k = NULL;
	for (int i = 0; i < n_kids; i++) if (kids[i].trace_pid == trace_pid && kids[i].pid > 0) k = &kids[i];
	if (!k) { result_err(idx, "no such child process"); return; }
	fflush(stdout);
	dprintf(k->to, "%ld %s %s%s", idx, op, rest, strchr(rest, '\n') ? "" : "\n");
	if (!strcmp(op, "exit")) {
		waitpid(k->pid, NULL, 0);
		close(k->to);
		close(k->ack);
		k->pid = 0;
		return;
	}
	char c;
	if (read(k->ack, &c, 1) != 1) result_err(idx, "child died");
}

static void run_op(long idx, char *op, char *rest)
{
	long long a, b, c, d, e;
	long n;
	int r;

	if (!strcmp(op, "sysfs-read") || !strcmp(op, "sysfs-write")) {
		/* sysfs-read FILE | sysfs-write FILE VALUE ('-' = empty): FILE is relative to the
		 * device's directory unless it starts with '/'. A write sends VALUE plus a newline,
		 * as `echo` does; a read reports the text without its final newline (hex). */
		int wr = op[6] == 'w';
		char *file = next_tok(&rest), *val = wr ? next_tok(&rest) : NULL;
		if (!file || (wr && !val)) goto bad;
		char path[512], buf[4096];
		if (file[0] == '/') snprintf(path, sizeof path, "%s", file);
		else snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/%s", bdf, file);
		if (!wr) rpm_settle();
		errno = 0;
		int fd = open(path, wr ? O_WRONLY : O_RDONLY);
		if (fd < 0) { result_ret(idx, -1, errno, NULL, 0); return; }
		ssize_t got;
		if (wr) {
			int n = snprintf(buf, sizeof buf, "%s\n", strcmp(val, "-") ? val : "");
			got = write(fd, buf, (size_t)n);
		} else {
			got = read(fd, buf, sizeof buf - 1);
		}
		int err = errno;
		close(fd);
		if (got < 0) { result_ret(idx, -1, err, NULL, 0); return; }
		if (wr) {
			result_ret(idx, got, 0, NULL, 0);
			rpm_settle();
			return;
		}
		size_t n = (size_t)got;
		if (n > 0 && buf[n - 1] == '\n') n--;
		printf("@@R %ld ret=%zd text=", idx, got);
		put_hex((const uint8_t *)buf, n);
		putchar('\n');
		return;
	}
	if (!strcmp(op, "open")) {
		if (need_container(idx)) return;
		/* "open [UUID]": the group path's VF token option, "BDF vf_token=UUID". */
		char name[128];
		char *tok = next_tok(&rest);
		if (tok)
			snprintf(name, sizeof name, "%s vf_token=%s", bdf, tok);
		else
			snprintf(name, sizeof name, "%s", bdf);
		errno = 0;
		int fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, name);
		if (fd >= 0 && n_open < 16) open_fds[n_open++] = device_fd = fd;
		result_ret(idx, fd, errno, NULL, 0);
	} else if (!strcmp(op, "close")) {
		errno = 0;
		r = close(device_fd);
		if (n_open > 0) n_open--;
		/* A live mapping holds the device file: its release (which ends low power) waits for the
		 * last munmap, and until then the device keeps suspending (random campaign, 6.12). */
		if (n_open == 0 && !live_maps()) lp_engaged = 0;
		device_fd = n_open > 0 ? open_fds[n_open - 1] : -1;
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "cfg-read") || !strcmp(op, "region-read")) {
		int cfg = op[0] == 'c', ub = 0;
		long long region = 7;
		if (!cfg && num(&rest, &region)) goto bad;
		if (num(&rest, &a) || num(&rest, &b) || b < 0 || b > MAX_XFER) goto bad;
		uint8_t *buf = user_buf(idx, &rest, (uint64_t)b, &ub);
		if (ub == 1) goto bad;
		if (ub) return;
		errno = 0;
		ssize_t got = pread(device_fd, buf, (size_t)b, (off_t)region_offset((int)region, (uint64_t)a));
		/* Bytes that landed in a BAR are not read back: that would be another device access. */
		result_ret(idx, got, errno, buf == xfer ? xfer : NULL, got > 0 && buf == xfer ? (size_t)got : 0);
	} else if (!strcmp(op, "cfg-write") || !strcmp(op, "region-write")) {
		int cfg = op[0] == 'c', ub = 0;
		long long region = 7;
		if (!cfg && num(&rest, &region)) goto bad;
		if (num(&rest, &a) || (n = hexbytes(&rest, xfer, MAX_XFER)) < 0) goto bad;
		uint8_t *buf = user_buf(idx, &rest, (uint64_t)n, &ub);
		if (ub == 1) goto bad;
		if (ub) return;
		errno = 0;
		ssize_t put = pwrite(device_fd, buf, (size_t)n, (off_t)region_offset((int)region, (uint64_t)a));
		result_ret(idx, put, errno, NULL, 0);
	} else if (!strcmp(op, "mmap")) {
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c) || num(&rest, &d) || num(&rest, &e)) goto bad;
		int slot = -1;
		for (int i = 0; i < MAX_MAPS; i++) if (!maps[i].live) { slot = i; break; }
		if (slot < 0) { result_err(idx, "too many mappings"); return; }
		/* Map at the trace's address when it gave one, so that addresses (mmap's return, si_addr)
		 * are the same on every run. */
		int flags = MAP_SHARED | (e ? MAP_FIXED_NOREPLACE : 0);
		errno = 0;
		void *p = mmap((void *)(uintptr_t)e, (size_t)c, (int)d, flags, device_fd,
			       (off_t)region_offset((int)a, (uint64_t)b));
		if (p == MAP_FAILED) { result_ret(idx, -1, errno, NULL, 0); return; }
		/* The VMA covers whole pages: on a 16K/64K host a 4K request maps (and lets us touch) a page. */
		uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
		uint64_t vlen = ((uint64_t)c + pg - 1) / pg * pg;
		maps[slot] = (struct mapping){ 1, (int)a, (uint64_t)b, vlen, e ? (uint64_t)e : (uint64_t)(uintptr_t)p, p, ++n_mmaps };
		printf("@@R %ld ret=%llu\n", idx, (unsigned long long)(uintptr_t)p);
	} else if (!strcmp(op, "munmap")) {
		if (num(&rest, &a) || num(&rest, &b)) goto bad;
		uint8_t *real = (uint8_t *)(uintptr_t)a;
		for (int i = 0; i < MAX_MAPS; i++) {
			if (maps[i].live && maps[i].trace_addr == (uint64_t)a) {
				real = maps[i].addr;
				maps[i].live = 0;
				break;
			}
		}
		errno = 0;
		r = munmap(real, (size_t)b);
		if (n_open == 0 && !live_maps()) lp_engaged = 0;
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "mem-read") || !strcmp(op, "mem-write")) {
		int w = op[4] == 'w';
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c) || (w && num(&rest, &d))) goto bad;
		cpu_access(idx, (int)a, (uint64_t)b, (int)c, w, w ? (uint64_t)d : 0);
	} else if (!strcmp(op, "get-info")) {
		if (num(&rest, &a) || a < 0 || a > 4096) goto bad;
		memset(argbuf, 0, (size_t)a + 24);
		((struct vfio_device_info *)argbuf)->argsz = (uint32_t)a;
		do_ioctl_buf(idx, VFIO_DEVICE_GET_INFO, argbuf, a < 24 ? (size_t)a : 24);
	} else if (!strcmp(op, "get-region-info")) {
		if (num(&rest, &a) || num(&rest, &b) || b < 0 || b > 4096) goto bad;
		memset(argbuf, 0, (size_t)b + 32);
		struct vfio_region_info *ri = (void *)argbuf;
		ri->argsz = (uint32_t)b;
		ri->index = (uint32_t)a;
		do_ioctl_buf(idx, VFIO_DEVICE_GET_REGION_INFO, argbuf, (size_t)(b < 32 ? 32 : b));
	} else if (!strcmp(op, "get-irq-info")) {
		if (num(&rest, &a) || num(&rest, &b) || b < 0 || b > 4096) goto bad;
		memset(argbuf, 0, (size_t)b + 16);
		struct vfio_irq_info *ii = (void *)argbuf;
		ii->argsz = (uint32_t)b;
		ii->index = (uint32_t)a;
		do_ioctl_buf(idx, VFIO_DEVICE_GET_IRQ_INFO, argbuf, 16);
	} else if (!strcmp(op, "set-irqs")) {
		/* set-irqs FLAGS INDEX START COUNT ARGSZ [DATA-HEX]: with DATA_EVENTFD and no data, the
		 * runner supplies `count` fresh eventfds. */
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c) || num(&rest, &d) || num(&rest, &e)) goto bad;
		if (e < 0 || e > 65536) goto bad;
		memset(argbuf, 0, (size_t)e + 20);
		struct vfio_irq_set *s = (void *)argbuf;
		s->argsz = (uint32_t)e;
		s->flags = (uint32_t)a;
		s->index = (uint32_t)b;
		s->start = (uint32_t)c;
		s->count = (uint32_t)d;
		n = hexbytes(&rest, s->data, 65536);
		if (n <= 0 && (a & VFIO_IRQ_SET_DATA_EVENTFD)) {
			int32_t *fds = (int32_t *)s->data;
			for (long long i = 0; i < d && 20 + 4 * (i + 1) <= e; i++) fds[i] = eventfd(0, EFD_CLOEXEC);
		}
		errno = 0;
		r = ioctl(device_fd, VFIO_DEVICE_SET_IRQS, argbuf);
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "reset")) {
		errno = 0;
		r = ioctl(device_fd, VFIO_DEVICE_RESET);
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "get-hot-reset-info")) {
		if (num(&rest, &a) || a < 0 || a > 4096) goto bad;
		memset(argbuf, 0, (size_t)a + 16);
		((struct vfio_pci_hot_reset_info *)argbuf)->argsz = (uint32_t)a;
		errno = 0;
		r = ioctl(device_fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, argbuf);
		/* On -ENOSPC the kernel still fills `count`: print the header either way. */
		printf("@@R %ld ", idx);
		if (r < 0) printf("errno=%s data=", errno_name(errno)); else printf("ret=%d data=", r);
		put_hex(argbuf, a < 12 ? 12 : (size_t)a);
		putchar('\n');
	} else if (!strcmp(op, "hot-reset")) {
		/* hot-reset FLAGS NFDS FD...: non-negative trace fds become this process's group fd. */
		if (num(&rest, &a) || num(&rest, &b) || b < 0 || b > 64) goto bad;
		memset(argbuf, 0, 12 + 4 * (size_t)b);
		struct vfio_pci_hot_reset *h = (void *)argbuf;
		h->argsz = (uint32_t)(12 + 4 * b);
		h->flags = (uint32_t)a;
		h->count = (uint32_t)b;
		for (long long i = 0; i < b; i++) {
			if (num(&rest, &c)) goto bad;
			h->group_fds[i] = c >= 0 ? group_fd : (int32_t)c;
		}
		errno = 0;
		r = ioctl(device_fd, VFIO_DEVICE_PCI_HOT_RESET, argbuf);
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "ioeventfd")) {
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c) || num(&rest, &d)) goto bad;
		struct vfio_device_ioeventfd io = { .argsz = sizeof io, .flags = (uint32_t)a, .offset = (uint64_t)b,
						    .data = (uint64_t)c, .fd = fd_for_trace_fd(d) };
		errno = 0;
		r = ioctl(device_fd, VFIO_DEVICE_IOEVENTFD, &io);
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "feature")) {
		/* feature FLAGS PAYLOAD-HEX: flags carry the feature id in the low 16 bits. */
		if (num(&rest, &a) || (n = hexbytes(&rest, argbuf + 8, MAX_XFER - 8)) < 0) goto bad;
		struct vfio_device_feature *f = (void *)argbuf;
		f->argsz = (uint32_t)(8 + n);
		f->flags = (uint32_t)a;
		errno = 0;
		r = ioctl(device_fd, VFIO_DEVICE_FEATURE, argbuf);
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "low-power")) {
		/* low-power FLAGS WAKEUP-FD (payload only for entry-with-wakeup, feature 4). */
		if (num(&rest, &a) || num(&rest, &b)) goto bad;
		struct vfio_device_feature *f = (void *)argbuf;
		f->flags = (uint32_t)a;
		f->argsz = 8;
		int wake = -1;
		if ((a & 0xffff) == 4) {
			wake = b >= 0 ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : (int)b;
			int32_t pl[2] = { wake, 0 };
			memcpy(argbuf + 8, pl, 8);
			f->argsz = 16;
		}
		errno = 0;
		r = ioctl(device_fd, VFIO_DEVICE_FEATURE, argbuf);
		result_ret(idx, r, errno, NULL, 0);
		if (r == 0 && (a & 0x20000) && !(a & LAB_FEATURE_PROBE)) {
			if ((a & 0xffff) == 3 || (a & 0xffff) == 4) {
				lp_engaged = 1;
				lp_wake_fd = (a & 0xffff) == 4 ? wake : -1;
			} else if ((a & 0xffff) == 5) {
				lp_engaged = 0;
			}
		}
	} else if (!strcmp(op, "dma-buf")) {
		/* dma-buf FLAGS REGION OPEN-FLAGS DMABUF-FLAGS NR OFF:LEN... */
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c) || num(&rest, &d) || num(&rest, &e)) goto bad;
		if (e < 0 || e > 1024) goto bad;
		memset(argbuf, 0, 8 + 16 + 16 * (size_t)e);
		struct vfio_device_feature *f = (void *)argbuf;
		f->argsz = (uint32_t)(8 + 16 + 16 * e);
		f->flags = (uint32_t)a;
		uint32_t *hdr = (uint32_t *)(argbuf + 8);
		hdr[0] = (uint32_t)b;
		hdr[1] = (uint32_t)c;
		hdr[2] = (uint32_t)d;
		hdr[3] = (uint32_t)e;
		uint64_t *rg = (uint64_t *)(argbuf + 24);
		for (long long i = 0; i < e; i++) {
			char *t = next_tok(&rest);
			unsigned long long off, len;
			/* strtoull, not sscanf %lli: that saturates 0xfffffffffffff000 to LLONG_MAX, and the
			 * range the kernel saw was not the trace's (the lab's ioctl argument capture showed it). */
			char *colon = t ? strchr(t, ':') : NULL, *end1, *end2;
			if (!colon) goto bad;
			errno = 0;
			off = strtoull(t, &end1, 0);
			len = strtoull(colon + 1, &end2, 0);
			if (end1 != colon || *end2 || end2 == colon + 1 || errno) goto bad;
			rg[2 * i] = off;
			rg[2 * i + 1] = len;
		}
		errno = 0;
		r = ioctl(device_fd, VFIO_DEVICE_FEATURE, argbuf);
		/* Only a real export returns a new fd (PROBE returns 0); the trace numbers exports from 0. */
		if (r >= 0 && (a & LAB_FEATURE_GET) && !(a & LAB_FEATURE_PROBE) && n_dmabufs < MAX_DMABUFS)
			dmabufs[n_dmabufs++] = r;
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "map-dma")) {
		/* map-dma VADDR IOVA SIZE FLAGS: type1 on the container. Mappings sit at the trace's
		 * addresses (see mmap), so the trace's vaddr is valid here as it is. */
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c) || num(&rest, &d)) goto bad;
		if (need_container(idx)) return;
		struct vfio_iommu_type1_dma_map m = { .argsz = sizeof m, .flags = (uint32_t)d, .vaddr = (uint64_t)a,
						      .iova = (uint64_t)b, .size = (uint64_t)c };
		errno = 0;
		r = ioctl(container_fd, VFIO_IOMMU_MAP_DMA, &m);
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "unmap-dma")) {
		/* unmap-dma IOVA SIZE FLAGS: prints the size the kernel reports unmapped as data (u64). */
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c)) goto bad;
		if (need_container(idx)) return;
		struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof u, .flags = (uint32_t)c, .iova = (uint64_t)a,
							.size = (uint64_t)b };
		errno = 0;
		r = ioctl(container_fd, VFIO_IOMMU_UNMAP_DMA, &u);
		result_ret(idx, r, errno, (const uint8_t *)&u.size, sizeof u.size);
	} else if (!strcmp(op, "cdev-open")) {
		errno = 0;
		int fd = open_cdev();
		if (fd >= 0 && n_open < 16) open_fds[n_open++] = device_fd = fd;
		result_ret(idx, fd, errno, NULL, 0);
	} else if (!strcmp(op, "iommufd-open")) {
		errno = 0;
		r = open("/dev/iommu", O_RDWR);
		/* At a fixed number, so a scenario's BIND can name it (iommufd=100). */
		if (r >= 0 && r != 100 && dup2(r, 100) == 100) { close(r); r = 100; }
		if (r >= 0) iommufd = r;
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "bind-iommufd")) {
		/* bind-iommufd FD FLAGS ARGSZ: a non-negative trace fd is this process's iommufd. */
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c) || c < 0 || c > 4096) goto bad;
		memset(argbuf, 0, (size_t)c + 24);
		uint32_t *w = (uint32_t *)argbuf;
		w[0] = (uint32_t)c;
		w[1] = (uint32_t)b;
		w[2] = (uint32_t)(a >= 0 ? iommufd : (int)a);
		errno = 0;
		r = ioctl(device_fd, LAB_VFIO_DEVICE_BIND_IOMMUFD, argbuf);
		result_ret(idx, r, errno, argbuf + 12, 4);
	} else if (!strcmp(op, "attach-pt") || !strcmp(op, "detach-pt")) {
		/* attach-pt PT FLAGS ARGSZ / detach-pt FLAGS ARGSZ; attach prints the pt_id written back. */
		int att = op[0] == 'a';
		if ((att && num(&rest, &a)) || num(&rest, &b) || num(&rest, &c) || c < 0 || c > 4096) goto bad;
		memset(argbuf, 0, (size_t)c + 24);
		uint32_t *w = (uint32_t *)argbuf;
		w[0] = (uint32_t)c;
		w[1] = (uint32_t)b;
		if (att) w[2] = (uint32_t)a;
		errno = 0;
		r = ioctl(device_fd, att ? LAB_VFIO_DEVICE_ATTACH_IOMMUFD_PT : LAB_VFIO_DEVICE_DETACH_IOMMUFD_PT, argbuf);
		result_ret(idx, r, errno, att ? argbuf + 8 : NULL, att ? 4 : 0);
	} else if (!strcmp(op, "ioas-alloc")) {
		if (num(&rest, &a)) goto bad;
		uint32_t w[3] = { sizeof w, (uint32_t)a, 0 };
		errno = 0;
		r = ioctl(iommufd, LAB_IOMMU_IOAS_ALLOC, w);
		result_ret(idx, r, errno, (const uint8_t *)&w[2], 4);
	} else if (!strcmp(op, "ioas-map") || !strcmp(op, "ioas-map-file")) {
		/* ioas-map IOAS FLAGS VA LEN IOVA / ioas-map-file IOAS FLAGS FD START LEN IOVA; prints the iova. */
		int file = !strcmp(op, "ioas-map-file");
		long long f = 0;
		if (num(&rest, &a) || num(&rest, &b) || (file && num(&rest, &f)) || num(&rest, &c) || num(&rest, &d) || num(&rest, &e)) goto bad;
		struct { uint32_t size, flags, ioas_id; int32_t fd_or_reserved; uint64_t va_or_start, length, iova; } m = {
			sizeof m, (uint32_t)b, (uint32_t)a, file ? (int32_t)f : 0, (uint64_t)c, (uint64_t)d, (uint64_t)e };
		errno = 0;
		r = ioctl(iommufd, file ? LAB_IOMMU_IOAS_MAP_FILE : LAB_IOMMU_IOAS_MAP, &m);
		result_ret(idx, r, errno, (const uint8_t *)&m.iova, 8);
	} else if (!strcmp(op, "ioas-unmap")) {
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c)) goto bad;
		struct { uint32_t size, ioas_id; uint64_t iova, length; } u = { sizeof u, (uint32_t)a, (uint64_t)b, (uint64_t)c };
		errno = 0;
		r = ioctl(iommufd, LAB_IOMMU_IOAS_UNMAP, &u);
		result_ret(idx, r, errno, (const uint8_t *)&u.length, 8);
	} else if (!strcmp(op, "ioas-iova-ranges")) {
		/* ioas-iova-ranges IOAS NUM: the ranges go to the console as a comment line. */
		if (num(&rest, &a) || num(&rest, &b) || b < 0 || b > 64) goto bad;
		static uint64_t ranges[128];
		struct { uint32_t size, ioas_id, num_iovas, reserved; uint64_t allowed, align; } q = {
			sizeof q, (uint32_t)a, (uint32_t)b, 0, (uint64_t)(uintptr_t)ranges, 0 };
		errno = 0;
		r = ioctl(iommufd, LAB_IOMMU_IOAS_IOVA_RANGES, &q);
		int err = errno;
		printf("# iova-ranges %ld: num=%u align=0x%llx", idx, q.num_iovas, (unsigned long long)q.align);
		for (uint32_t i = 0; r == 0 && i < q.num_iovas && i < 64; i++)
			printf(" 0x%llx-0x%llx", (unsigned long long)ranges[2 * i], (unsigned long long)ranges[2 * i + 1]);
		putchar('\n');
		result_ret(idx, r, err, NULL, 0);
	} else if (!strcmp(op, "hwpt-alloc")) {
		/* hwpt-alloc FLAGS DEV PT: the 6.6 struct (40 bytes, no vendor data); prints out_hwpt_id. */
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c)) goto bad;
		struct { uint32_t size, flags, dev_id, pt_id, out_hwpt_id, reserved, data_type, data_len; uint64_t data_uptr; } h = {
			sizeof h, (uint32_t)a, (uint32_t)b, (uint32_t)c, 0, 0, 0, 0, 0 };
		errno = 0;
		r = ioctl(iommufd, LAB_IOMMU_HWPT_ALLOC, &h);
		result_ret(idx, r, errno, (const uint8_t *)&h.out_hwpt_id, 4);
	} else if (!strcmp(op, "iommufd-destroy")) {
		if (num(&rest, &a)) goto bad;
		uint32_t w[2] = { sizeof w, (uint32_t)a };
		errno = 0;
		r = ioctl(iommufd, LAB_IOMMU_DESTROY, w);
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "vfio-open")) {
		/* vfio-open container TFD | vfio-open group N TFD */
		char *what = next_tok(&rest);
		char path[64];
		if (!what) goto bad;
		if (!strcmp(what, "container")) {
			snprintf(path, sizeof path, "/dev/vfio/vfio");
		} else if (!strcmp(what, "group")) {
			if (num(&rest, &b) || b < 0) goto bad;
			snprintf(path, sizeof path, "/dev/vfio/%lld", b);
		} else goto bad;
		if (num(&rest, &a)) goto bad;
		errno = 0;
		r = open(path, O_RDWR);
		if (r >= 0) setup_fd_set(a, r);
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "vfio-close")) {
		if (num(&rest, &a)) goto bad;
		errno = 0;
		r = close(setup_fd(a));
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "container-op")) {
		/* container-op TFD REQ ARG: GET_API_VERSION / CHECK_EXTENSION / SET_IOMMU take ARG by value. */
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c)) goto bad;
		int cfd = setup_fd(a);
		errno = 0;
		r = ioctl(cfd, (unsigned long)b, (unsigned long)c);
		if (r >= 0 && b == VFIO_SET_IOMMU) container_fd = cfd; /* MAP_DMA goes there */
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "group-op")) {
		/* group-op TFD REQ CTFD: GET_STATUS (a status struct), SET_CONTAINER (&container fd), UNSET_CONTAINER. */
		if (num(&rest, &a) || num(&rest, &b) || num(&rest, &c)) goto bad;
		int gfd = setup_fd(a), cfd = setup_fd(c);
		struct vfio_group_status st = { .argsz = sizeof st };
		errno = 0;
		if (b == VFIO_GROUP_GET_STATUS) r = ioctl(gfd, VFIO_GROUP_GET_STATUS, &st);
		else if (b == VFIO_GROUP_SET_CONTAINER) r = ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &cfd);
		else r = ioctl(gfd, (unsigned long)b);
		result_ret(idx, r, errno, NULL, 0);
	} else if (!strcmp(op, "get-device-fd")) {
		/* get-device-fd TFD NAME: a success is the device's open (as `open`). */
		if (num(&rest, &a)) goto bad;
		char *name = next_tok(&rest);
		if (!name) goto bad;
		int gfd = setup_fd(a);
		errno = 0;
		int fd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, name);
		if (fd >= 0) group_fd = gfd;
		if (fd >= 0 && n_open < 16) open_fds[n_open++] = device_fd = fd;
		result_ret(idx, fd, errno, NULL, 0);
	} else if (!strcmp(op, "fork")) {
		if (num(&rest, &a) || a <= 0) goto bad;
		do_fork(idx, (long)a);
	} else if (!strcmp(op, "dmabuf-close")) {
		if (num(&rest, &a)) goto bad;
		if (a < 0 || a >= n_dmabufs) { result_err(idx, "no such dmabuf"); return; }
		errno = 0;
		r = close(dmabufs[a]);
		result_ret(idx, r, errno, NULL, 0);
	} else {
		result_err(idx, "unknown op");
	}
	return;
bad:
	result_err(idx, "malformed arguments");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: runner BDF GROUP SCRIPT\n");
		return 2;
	}
	bdf = argv[1];
	char rt[128];
	snprintf(rt, sizeof rt, "/sys/bus/pci/devices/%s/power/runtime_status", bdf);
	rt_status_fd = open(rt, O_RDONLY | O_CLOEXEC);
	static char outbuf[1 << 22];
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	FILE *in = fopen(argv[3], "r");
	if (!in) { perror(argv[3]); return 2; }
	group_name = argv[2];
	klog_open();
	/* Ordinary memory at a fixed address, so traces can IOAS_MAP/MAP_DMA "guest RAM" by VA. */
	mmap((void *)(uintptr_t)RAM_BASE, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);

	/* A script that opens its own container/group does the set-up itself (set-up ops). */
	static char line[MAX_LINE];
	int own_setup = 0;
	while (fgets(line, sizeof line, in)) if (strstr(line, " vfio-open ")) own_setup = 1;
	rewind(in);
	if (own_setup) container_state = 1; /* its own ops set up the container; need_container() must not */


	while (fgets(line, sizeof line, in)) {
		char *rest = line;
		char *t = next_tok(&rest);
		if (!t || t[0] == '#') continue;
		long idx = strtol(t, NULL, 10);
		char *op = next_tok(&rest);
		if (!op) { result_err(idx, "missing op"); continue; }
		if (op[0] == '@') {
			char *kop = next_tok(&rest);
			if (!kop) { result_err(idx, "missing op"); continue; }
			to_kid(idx, strtol(op + 1, NULL, 10), kop, rest);
			continue;
		}
		if (!strcmp(op, "mem-read") || !strcmp(op, "mem-write")) klog_window();
		run_op(idx, op, rest);
		klog_drain(idx);
		lp_settle();
	}
	/* Children still alive end first: they hold the device files too. */
	fflush(stdout);
	for (int i = 0; i < n_kids; i++) {
		if (kids[i].pid <= 0) continue;
		close(kids[i].to);
		waitpid(kids[i].pid, NULL, 0);
	}
	/* Leave the device closed so the next scenario starts from a fresh open. */
	for (int i = 0; i < MAX_MAPS; i++) if (maps[i].live) munmap(maps[i].addr, maps[i].length);
	for (int i = 0; i < n_dmabufs; i++) close(dmabufs[i]);
	while (n_open > 0) close(open_fds[--n_open]);
	if (iommufd >= 0) close(iommufd);
	printf("@@DONE\n");
	fflush(stdout);
	return 0;
}
