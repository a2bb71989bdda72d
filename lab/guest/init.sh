#!/bin/sh
# /init of the lab guest. Loads the vfio modules, snapshots the lab device (/lab/device names its
# vendor and device ids; the e1000e without it) from sysfs, binds it to vfio-pci, runs every op
# script under /lab/scen twice (plain, then under tracer/vfio-trace; once only when /lab/single
# exists, as the random campaign wants) and prints everything between @@ marker lines on the
# serial console; src/lab/serial.ts parses them.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 > /proc/sys/kernel/printk

echo "@@LAB begin"
for m in $(cat /mods/order); do
  # /lab/modparams: "vfio_pci disable_idle_d3=Y ..." lines (a scenario's `# lab: module-params=`).
  n=$(echo $m | sed 's/^[0-9]*-//; s/\.ko.*$//; s/-/_/g')
  args=$(sed -n "s/^$n //p" /lab/modparams 2>/dev/null)
  insmod /mods/$m $args || echo "@@FAIL insmod $m $args"
done

# The address of the (last) PCI function with these vendor and device ids.
find_bdf() {
  for d in /sys/bus/pci/devices/*; do
    if [ "$(cat $d/vendor)" = "$1" ] && [ "$(cat $d/device)" = "$2" ]; then basename $d; fi
  done | tail -n 1
}

# vfio-pci creates VFs on a PF bound to it only with enable_sriov=1 (vfio_pci_sriov_configure).
[ -e /sys/module/vfio_pci/parameters/enable_sriov ] && echo Y > /sys/module/vfio_pci/parameters/enable_sriov

# An SR-IOV VF under test (/lab/pf names its PF's ids): bind the PF to vfio-pci, enable one VF;
# vfio-pci's bus notifier binds the new VF to vfio-pci too (it is unbound again below).
if [ -e /lab/pf ]; then
  read PVEN PDEV < /lab/pf
  PF=$(find_bdf $PVEN $PDEV)
  [ -n "$PF" ] || { echo "@@FAIL no PF $PVEN:$PDEV"; poweroff -f; }
  P=/sys/bus/pci/devices/$PF
  [ -e $P/driver ] && echo $PF > $P/driver/unbind
  echo vfio-pci > $P/driver_override
  echo $PF > /sys/bus/pci/drivers_probe
  echo 1 > $P/sriov_numvfs || echo "@@FAIL sriov_numvfs on $PF"
  echo "@@PF $PF driver=$(basename $(readlink $P/driver)) numvfs=$(cat $P/sriov_numvfs)"
  # vfio-pci gave the PF a random VF token (uuid_gen): the PF's user must set one before any VF
  # opens. The lab sets the all-zero token by opening the PF once with it.
  printf '0 open 00000000-0000-0000-0000-000000000000\n1 close\n' > /tmp/pf-token.ops
  /lab/runner $PF $(basename $(readlink $P/iommu_group)) /tmp/pf-token.ops > /tmp/pf-token.out 2>&1
  PFTOKEN="rc=$? $(tr '\n' ' ' < /tmp/pf-token.out)"
fi

VEN=0x8086; DEV=0x10d3
[ -e /lab/device ] && read VEN DEV < /lab/device
BDF=$(find_bdf $VEN $DEV)
[ -n "$BDF" ] || { echo "@@FAIL no device $VEN:$DEV"; poweroff -f; }
D=/sys/bus/pci/devices/$BDF
# A built-in driver may have claimed it at boot (the guest loads no other modules).
[ -e $D/driver ] && echo $BDF > $D/driver/unbind

# The device as the host sees it before vfio-pci takes it (no driver bound: D0, firmware's BARs).
echo "@@SNAP begin"
echo "uname $(uname -r)"
echo "bdf $BDF"
echo "vendor $(cat $D/vendor) device $(cat $D/device)"
echo "iommu_group $(basename $(readlink $D/iommu_group))"
echo "reset_method $(cat $D/reset_method 2>/dev/null)"
echo "power_state $(cat $D/power_state 2>/dev/null)"
# busybox has no getconf: the page size as the kernel reports it for our own mappings.
echo "pagesize $(getconf PAGESIZE 2>/dev/null || awk '/^KernelPageSize:/ { print $2 * 1024; exit }' /proc/self/smaps 2>/dev/null || echo 4096)"
echo "cmdline $(cat /proc/cmdline)"
# Transparent huge pages: the mm core offers a BAR fault a PMD/PUD only when THP is not "never".
echo "thp $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
echo "modparams $(for p in /sys/module/vfio_pci/parameters/*; do [ -f $p ] && echo vfio_pci.$(basename $p)=$(cat $p); done | tr '\n' ' ')"
cat $D/resource | sed 's/^/resource /'
# SR-IOV: the PF's capability (the device itself, or a VF's physfn) and where a VF sits in it.
P=$D; [ -e $D/physfn ] && P=$(readlink -f $D/physfn)
if [ -e $P/sriov_totalvfs ]; then
  echo "sriov totalvfs=$(cat $P/sriov_totalvfs) numvfs=$(cat $P/sriov_numvfs) offset=$(cat $P/sriov_offset) stride=$(cat $P/sriov_stride) vfdevice=$(cat $P/sriov_vf_device) enable_sriov=$(cat /sys/module/vfio_pci/parameters/enable_sriov 2>/dev/null)"
  echo "pfresource $(sed -n 8,13p $P/resource | tr '\n' ';')"
fi
if [ -e $D/physfn ]; then
  echo "physfn $(basename $P) driver=$(basename $(readlink $P/driver 2>/dev/null) 2>/dev/null)"
  echo "pftoken $PFTOKEN"
  for v in $P/virtfn*; do [ "$(readlink -f $v)" = "$(readlink -f $D)" ] && echo "vfindex ${v##*virtfn}"; done
fi
od -An -v -tx1 $D/config | sed 's/^/config/'
echo "@@SNAP end"

echo vfio-pci > $D/driver_override
echo $BDF > /sys/bus/pci/drivers_probe
GROUP=$(basename $(readlink $D/iommu_group))
i=0
while [ ! -e /dev/vfio/$GROUP ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
echo "@@BOUND driver=$(basename $(readlink $D/driver)) group=$GROUP"

# Waits until runtime PM settled: runtime_status reads the same twice 20 ms apart and is neither
# suspending nor resuming (a close or a sysfs read leaves an asynchronous idle suspend behind).
# (Its own variable names: the scenario loop's $s must survive it.)
settle() {
  rpm_prev=""; rpm_n=0
  while [ $rpm_n -lt 100 ]; do
    rpm_now=$(cat $D/power/runtime_status 2>/dev/null)
    [ "$rpm_now" = "$rpm_prev" ] && [ "$rpm_now" != suspending ] && [ "$rpm_now" != resuming ] && break
    rpm_prev=$rpm_now; sleep 0.02; rpm_n=$((rpm_n+1))
  done
}

for s in /lab/scen/*.ops; do
  name=$(basename $s .ops)
  # Runtime PM and driver_override as this scenario finds the device (before the config read
  # below, which resumes it for a moment).
  settle
  echo "@@SSYS $name $(cat $D/power_state) $(cat $D/power/runtime_status) $(cat $D/power/control) $(cat $D/d3cold_allowed) $(cat $D/driver_override)"
  # The device as this scenario's open will find it (earlier scenarios leave it closed by vfio-pci).
  # Printed only when it changed since the last scenario (the random campaign runs thousands).
  od -An -v -tx1 $D/config > /tmp/cfg.new
  if cmp -s /tmp/cfg.new /tmp/cfg.old; then
    echo "@@SCFG same $name"
  else
    echo "@@SCFG begin $name"
    sed 's/^/config/' /tmp/cfg.new
    echo "@@SCFG end $name"
    mv /tmp/cfg.new /tmp/cfg.old
  fi
  # A scenario with `# lab: klog=FUNC`: FUNC's dynamic debug prints on, and the runner hands the
  # kernel log lines naming it to each event (LAB_KLOG).
  klog=$(cat /lab/scen/$name.klog 2>/dev/null)
  if [ -n "$klog" ]; then
    [ -e /proc/dynamic_debug/control ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
    ctl=/proc/dynamic_debug/control; [ -e $ctl ] || ctl=/sys/kernel/debug/dynamic_debug/control
    echo "func $klog +p" > $ctl || echo "@@FAIL dynamic debug for $klog"
  fi
  echo "@@RUN begin $name"
  LAB_KLOG=$klog /lab/runner $BDF $GROUP $s
  echo "@@RUN end $name rc=$?"
  [ -e /lab/single ] && continue
  # The second run goes through the project's tracer, as a bug reporter would run it: strace plus
  # the ioctl argument capture (tracefs). Pids in the capture are fixed: the tracer's forks start
  # at 10000 and happen in the same order every run.
  echo 9999 > /proc/sys/kernel/ns_last_pid 2>/dev/null
  rm -rf /tmp/cap
  bash /lab/vfio-trace --bdf $BDF -o /tmp/cap -- /lab/runner $BDF $GROUP $s > /tmp/$name.out2 2>/tmp/$name.err2
  rc=$?
  echo "@@RUN2 begin $name"
  cat /tmp/$name.out2
  echo "@@RUN2 end $name rc=$rc"
  sed "s/^/@@TRACER $name /" /tmp/$name.err2
  echo "@@STRACE begin $name"
  cat /tmp/cap/strace.log
  echo "@@STRACE end $name"
  echo "@@ARGS begin $name"
  cat /tmp/cap/ioctl-args 2>/dev/null
  echo "@@ARGS end $name"
  rm -rf /tmp/cap /tmp/$name.out2 /tmp/$name.err2
done

echo "@@DMESG begin"
dmesg
echo "@@DMESG end"
echo "@@LAB end"
poweroff -f
