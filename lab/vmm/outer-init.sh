#!/bin/sh
# /init of the outer guest for the nested-QEMU runs (lab/vmm). Loads vfio (+ virtio-blk for the
# results disk), binds the device DEVICE_ID (/vmm/config: the e1000e or the nvme) to vfio-pci, then
# for every line of /vmm/runs.txt (VARIANT msix-relo: x-msix-relocation=bar2)
#   VMM|RUN|VARIANT|SCRIPT
# runs that QEMU as the VMM of the inner guest (/vmm/inner.elf, SCRIPT on its command line) under
# the project's tracer (strace + sysfs snapshot + QEMU's vfio_*/pci_* trace log), and keeps
# everything under /out/VMM/RUN/. With CAPTURE=plain in /vmm/config each run is recorded instead
# as a user without the tracer would (capture_plain below).
# /out goes back to the host as a tar archive written straight onto the raw disk /dev/vda.
# The QEMU 10 build lives in the chroot /qemu10 (trixie userland); /dev, /proc, /sys and /out are
# bind-mounted into it so both QEMUs see the same paths.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 > /proc/sys/kernel/printk
. /vmm/config    # TIMEOUT CAPTURE DEVICE_ID

echo "@@VMM begin"
for m in $(cat /mods/order); do
  insmod /mods/$m || echo "@@FAIL insmod $m"
done

BDF=""
for d in /sys/bus/pci/devices/*; do
  if [ "$(cat $d/vendor)" = "0x${DEVICE_ID%:*}" ] && [ "$(cat $d/device)" = "0x${DEVICE_ID#*:}" ]; then BDF=$(basename $d); fi
done
[ -n "$BDF" ] || { echo "@@FAIL no device $DEVICE_ID"; poweroff -f; }
D=/sys/bus/pci/devices/$BDF
echo vfio-pci > $D/driver_override
echo $BDF > /sys/bus/pci/drivers_probe
GROUP=$(basename $(readlink $D/iommu_group))
i=0
while [ ! -e /dev/vfio/$GROUP ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
echo "@@VMM bound $BDF driver=$(basename $(readlink $D/driver)) group=$GROUP"

mkdir -p /out
{
  echo "kernel $(uname -r)"
  echo "bdf $BDF"
  echo "iommu_group $GROUP"
} > /out/outer.txt

if [ -d /qemu10 ]; then
  for m in dev proc sys out; do mount --bind /$m /qemu10/$m; done
  # The tracer's ioctl argument capture needs tracefs; the chroot has no mount(8) to mount it itself.
  mount -t tracefs nodev /qemu10/sys/kernel/tracing
  # The chroot gets the inner guest, the tracer and the strace wrapper (its own coreutils date).
  mkdir -p /qemu10/vmm/bin
  cp /vmm/inner.elf /vmm/vfio-trace /qemu10/vmm/ && cp /vmm/bin/strace /qemu10/vmm/bin/
fi

dmesg -c > /out/dmesg-boot.txt
# What a bug reporter without the project's tracer attaches (issue 20, item 9): lspci -vvv -xxxx of
# the device, plain `strace -f -tt -e trace=... -o` (no -y, no -xx, default -s 32), QEMU's -trace
# log without -msg timestamp=on, a log in libvirt's per-domain layout (header line, the command
# line one argument per line, then QEMU's stderr), and dmesg. The header says it was written
# here, not by libvirt; its fields (qemu version, kernel) are the ones libvirt prints.
capture_plain() {
  lspci -vvv -xxxx -s $BDF > $O/lspci.txt 2>&1
  QVER=$($ROOTCMD /usr/bin/qemu-system-x86_64 --version | head -1 | sed 's/^QEMU emulator version //')
  {
    echo "$(/vmm/bin/date -u '+%Y-%m-%d %H:%M:%S.%3N+0000'): starting up libvirt version: none (lab/vmm/outer-init.sh writes this log in libvirt's layout), qemu version: $QVER, kernel: $(uname -r), hostname: lab"
    echo "LC_ALL=C \\"
    echo "PATH=/usr/bin:/bin \\"
    echo "/usr/bin/qemu-system-x86_64 \\"
    n=$#; k=0
    for a in "$@"; do
      k=$((k+1))
      case "$a" in *[!A-Za-z0-9_,.=:/@%+-]*) a="'$a'";; esac
      if [ $k -lt $n ]; then echo "$a \\"; else echo "$a"; fi
    done
  } > $O/libvirt.log
  if [ "$variant" = attach ]; then
    attach_strace "$@"
    rc=$?
  else
  # Every syscall under nested TCG is too slow (a 5 s session passes the timeout): the syscalls a
  # VFIO report needs, with --seccomp-bpf so the others do not stop QEMU's threads.
  timeout -s KILL $TIMEOUT $ROOTCMD /usr/bin/strace -f -tt --seccomp-bpf -e trace=execve,openat,close,ioctl,pread64,pwrite64,mmap,munmap \
    -o $O/qemu.strace /usr/bin/qemu-system-x86_64 "$@" \
    > /tmp/stdout.txt 2>> $O/libvirt.log
  rc=$?
  fi
  if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then why=shutdown; else why=crashed; fi
  echo "$(/vmm/bin/date -u '+%Y-%m-%d %H:%M:%S.%3N+0000'): shutting down, reason=$why" >> $O/libvirt.log
  return $rc
}

# The attach variant: QEMU starts paused (-S, HMP monitor on the FIFOs $MON.in/.out); once its
# device fd is open (realize done, the guest not started) a plain `strace -f -tt -p PID` attaches,
# as a reporter does to a running VMM: no execve, no openat of the group, no GET_DEVICE_FD, no mmap
# of the BARs, and the calls in flight show as `<... resumed>`. Then `cont` runs the guest. The
# strace has no syscall filter (what a reporter types): after start-up QEMU makes few calls.
attach_strace() {
  $ROOTCMD /usr/bin/qemu-system-x86_64 "$@" > /tmp/stdout.txt 2>> $O/libvirt.log &
  QPID=$!
  i=0
  until ls -l /proc/$QPID/fd 2>/dev/null | grep -q 'vfio-device'; do
    sleep 0.2; i=$((i+1)); [ $i -lt 300 ] || { kill -9 $QPID; wait $QPID; return 124; }
  done
  sleep 1
  /usr/bin/strace -f -tt -p $QPID -o $O/qemu.strace 2> /tmp/strace-stderr.txt &
  SPID=$!
  # Attached when every thread has a tracer.
  i=0
  while grep -q '^TracerPid:[[:space:]]*0$' /proc/$QPID/task/*/status 2>/dev/null; do
    sleep 0.2; i=$((i+1)); [ $i -lt 100 ] || break
  done
  sleep 1
  ( sleep $TIMEOUT; kill -9 $QPID ) 2>/dev/null &
  WPID=$!
  echo cont > $MON.in
  wait $QPID
  qrc=$?
  kill $WPID 2>/dev/null
  wait $SPID
  cat /tmp/strace-stderr.txt >> $O/attach-notes.txt
  return $qrc
}

while IFS='|' read -r vmm run variant script; do
  [ -n "$vmm" ] || continue
  O=/out/$vmm/$run
  X=""
  [ "$variant" = "no-mmap" ] && X=",x-no-mmap=on"
  [ "$variant" = "msix-relo" ] && X=",x-msix-relocation=bar2"
  MONITOR="-monitor none"
  EXTRA=""
  if [ "$variant" = attach ]; then
    MON=/out/monitor-$run; rm -f $MON.in $MON.out; mkfifo $MON.in $MON.out
    MONITOR="-S -monitor pipe:$MON"
  fi
  if [ "$variant" = bad-name ]; then
    # A sysfs-like directory for a function of the same slot that does not exist, whose iommu_group
    # link is the device's group: QEMU opens the group (already open for the first device) and asks
    # it for that name; the kernel answers ENODEV. The directory itself is ours; the failure is the
    # kernel's.
    BAD=${BDF%.*}.7
    mkdir -p /out/fakedev/$BAD
    ln -sf /sys/kernel/iommu_groups/$GROUP /out/fakedev/$BAD/iommu_group
    EXTRA="-device vfio-pci,sysfsdev=/out/fakedev/$BAD,rombar=0"
  fi
  if [ "$vmm" = "qemu-10" ]; then ROOTCMD="chroot /qemu10"; else ROOTCMD=""; fi
  QLOG=/tmp/qemu-$run.log
  STAMP="-msg timestamp=on"
  if [ "$CAPTURE" = plain ]; then QLOG=$O/qemu-trace.log; STAMP=""; mkdir -p $O; fi
  # The stamped variant: what libvirt runs (-msg timestamp=on: QEMU's stderr lines and its -trace
  # log carry the date), with x-no-mmap so QEMU reports the failed read on stderr.
  if [ "$variant" = stamped ]; then STAMP="-msg timestamp=on"; X=",x-no-mmap=on"; fi
  set -- -machine pc -accel tcg -m 64M -smp 1 -nodefaults -no-user-config -display none \
    $MONITOR -no-reboot -serial file:$O/serial.txt \
    -device vfio-pci,host=$BDF,rombar=0$X $EXTRA -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel /vmm/inner.elf -append "$script" \
    -trace 'vfio_*' -trace 'pci_*' -D $QLOG $STAMP
  echo "@@VMM run $vmm $run"
  t0=$(date +%s)
  if [ "$CAPTURE" = plain ]; then
    capture_plain "$@"
    rc=$?
  else
  # The project's tracer (tracer/vfio-trace): sysfs snapshot + info + strace.log + qemu.log in $O.
  # /vmm/bin first on PATH: an strace wrapper adding --seccomp-bpf, and a date that knows %N.
  timeout -s KILL $TIMEOUT $ROOTCMD env PATH=/vmm/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    bash /vmm/vfio-trace --bdf $BDF -o $O --qemu-log $QLOG -- /usr/bin/qemu-system-x86_64 "$@" \
    > /tmp/stdout.txt 2> /tmp/stderr.txt
  rc=$?
  fi
  if [ $rc -eq 137 ]; then
    # The time limit killed the tracer's shell, not what it started: a QEMU left behind would hold
    # the group and fail every later run with EBUSY. QEMU's log shows where the session was stuck.
    for p in $(pidof qemu-system-x86_64 strace); do kill -9 $p; done
    sleep 1
    [ -e $O/qemu.log ] || cp $QLOG $O/qemu.log 2>/dev/null
  fi
  t1=$(date +%s)
  mkdir -p $O
  echo "$script" > $O/script.txt
  echo "qemu-system-x86_64 $*" > $O/cmdline.txt
  cp /tmp/stdout.txt $O/stdout.txt
  if [ "$CAPTURE" != plain ]; then
    grep -v '^vfio-trace: ' /tmp/stderr.txt > $O/stderr.txt
    grep '^vfio-trace: ' /tmp/stderr.txt > $O/tracer-stderr.txt
  fi
  echo $rc > $O/exit-status
  echo $((t1 - t0)) > $O/wall-seconds
  cat $D/power_state > $O/power_state.after 2>/dev/null
  dmesg -c > $O/dmesg.txt
  rm -rf /out/fakedev; [ -n "$MON" ] && rm -f $MON.in $MON.out; MON=""
  echo "@@VMM done $vmm $run rc=$rc wall=$((t1 - t0))s"
done < /vmm/runs.txt

if [ -d /qemu10 ]; then for m in out sys proc dev; do umount /qemu10/$m; done; fi
echo "@@VMM packing"
tar -cf /dev/vda -C /out . && sync
echo "@@VMM end"
poweroff -f
