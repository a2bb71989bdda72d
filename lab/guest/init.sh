#!/bin/sh
# /init of the lab guest. Loads the vfio modules, snapshots the e1000e from sysfs, binds it to
# vfio-pci, runs every op script under /lab/scen twice (plain, then under strace) and prints
# everything between @@ marker lines on the serial console; lab/lib/serial.mjs parses them.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 > /proc/sys/kernel/printk

echo "@@LAB begin"
for m in $(cat /mods/order); do
  insmod /mods/$m || echo "@@FAIL insmod $m"
done

BDF=""
for d in /sys/bus/pci/devices/*; do
  if [ "$(cat $d/vendor)" = "0x8086" ] && [ "$(cat $d/device)" = "0x10d3" ]; then BDF=$(basename $d); fi
done
[ -n "$BDF" ] || { echo "@@FAIL no e1000e"; poweroff -f; }
D=/sys/bus/pci/devices/$BDF

# The device as the host sees it before vfio-pci takes it (no driver bound: D0, firmware's BARs).
echo "@@SNAP begin"
echo "uname $(uname -r)"
echo "bdf $BDF"
echo "vendor $(cat $D/vendor) device $(cat $D/device)"
echo "iommu_group $(basename $(readlink $D/iommu_group))"
echo "reset_method $(cat $D/reset_method 2>/dev/null)"
echo "power_state $(cat $D/power_state 2>/dev/null)"
echo "pagesize $(getconf PAGESIZE 2>/dev/null || echo 4096)"
cat $D/resource | sed 's/^/resource /'
od -An -v -tx1 $D/config | sed 's/^/config/'
echo "@@SNAP end"

echo vfio-pci > $D/driver_override
echo $BDF > /sys/bus/pci/drivers_probe
GROUP=$(basename $(readlink $D/iommu_group))
i=0
while [ ! -e /dev/vfio/$GROUP ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
echo "@@BOUND driver=$(basename $(readlink $D/driver)) group=$GROUP"

for s in /lab/scen/*.ops; do
  name=$(basename $s .ops)
  # The device as this scenario's open will find it (earlier scenarios leave it closed by vfio-pci).
  echo "@@SCFG begin $name"
  od -An -v -tx1 $D/config | sed 's/^/config/'
  echo "@@SCFG end $name"
  echo "@@RUN begin $name"
  /lab/runner $BDF $GROUP $s
  echo "@@RUN end $name rc=$?"
  # Fixed pids in the capture: the next fork gets 10000 (strace), its child 10001 (the runner).
  echo 9999 > /proc/sys/kernel/ns_last_pid 2>/dev/null
  strace -f -tt -y -xx -s 4096 -o /tmp/$name.strace /lab/runner $BDF $GROUP $s > /tmp/$name.out2 2>&1
  rc=$?
  echo "@@RUN2 begin $name"
  cat /tmp/$name.out2
  echo "@@RUN2 end $name rc=$rc"
  echo "@@STRACE begin $name"
  cat /tmp/$name.strace
  echo "@@STRACE end $name"
  rm -f /tmp/$name.strace /tmp/$name.out2
done

echo "@@DMESG begin"
dmesg
echo "@@DMESG end"
echo "@@LAB end"
poweroff -f
