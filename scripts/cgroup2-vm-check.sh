#!/usr/bin/env bash
# cgroup2-vm-check.sh: exercises the runner's cgroup-v2 code path (CgroupVersion::kV2 in
# runner/cgroup.cc and runner/sandbox.cc) against a real kernel that mounts ONLY cgroup v2.
#
# Why a VM: our development hosts use a hybrid cgroup layout (memory and pids bound to cgroup v1,
# a controller-less cgroup2 at /sys/fs/cgroup/unified), so the runner always settles on v1 and the
# v2 code never runs there. Remounting the host's cgroups would break every other process on it,
# so this script boots the Debian kernel in QEMU instead:
#   - the host's root filesystem is shared read-only over virtio-9p and becomes the guest's root
#     (same binaries, same bwrap, same python3; tmpfs on /tmp, /run, /var/tmp);
#   - a writable 9p share ($WORK/share) carries the guest script, the test packages and results;
#   - the guest mounts cgroup2 alone at /sys/fs/cgroup, with +memory +pids +cpu enabled below the
#     root, and runs as root:
#       a. <build>/tests/sandbox_test, the whole gtest binary, from the source root (as ctest does);
#       b. ahub verify packages/cache-admission-zipfian --json;
#       c. three hostile packages: a memory hog, a fork bomb and an endless loop, each of which must
#          end as a failed run with killed_by memory / processes / timeout, enforcement cgroup-v2,
#          a peak memory reported, and no ahub-* cgroup left in /sys/fs/cgroup afterwards;
#       plus probe.txt: a tiny program linked with the runner library printing CgroupSupport()
#       and its reason, so a fallback to v1/rlimits is explained rather than only observed.
#   These run in two placements of the runner ("modes"):
#     root: the runner sits in the root cgroup (the only cgroup exempt from the "no internal
#           processes" rule), the simplest case;
#     leaf: the runner sits ALONE in a child cgroup whose controllers are available, as under
#           systemd's Delegate=yes or in a container with its own cgroup namespace.
# It prints one PASS/FAIL line per check and exits 0 only when every check passed.
#
# Usage: scripts/cgroup2-vm-check.sh [BUILD_DIR]
#   BUILD_DIR: an existing build directory (default: build), relative to the source root or
#   absolute; it must hold bin/ahub, bin/cache-sim, runner/libahub_runner.a, tests/sandbox_test.
# Environment: CG2VM_WORK   work area (default /tmp/cg2vm; cleaned of its own files on each run)
#              CG2VM_MODES  "root leaf" (default), or one of them
#              CG2VM_GTEST_FILTER  gtest filter for check a (default: all tests)
#              CG2VM_TIMEOUT seconds before the VM is killed (default 5400; TCG is slow)
#              CG2VM_MEM / CG2VM_CPUS  guest memory in MiB (4096) and vCPUs (2)
# Needs root on the host (apt-get, reading every file for the 9p share); touches nothing of the
# host's cgroups.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build}
[[ $BUILD = /* ]] || BUILD=$SRC/$BUILD
WORK=${CG2VM_WORK:-/tmp/cg2vm}
MODES=${CG2VM_MODES:-root leaf}
GTEST_FILTER=${CG2VM_GTEST_FILTER:-*}
TIMEOUT=${CG2VM_TIMEOUT:-5400}
# Guest memory in MiB. The memory hogs grow in steps, so they meet their cgroup limit whatever
# the guest's size; 4 GiB leaves the sandbox tests' other runs room beside them.
MEM=${CG2VM_MEM:-4096}
CPUS=${CG2VM_CPUS:-2}
SHARE=$WORK/share  # the writable 9p share, mounted at the same path inside the guest
INITRD_DIR=$WORK/initramfs

die() { echo "cgroup2-vm-check: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }

for f in bin/ahub bin/cache-sim runner/libahub_runner.a tests/sandbox_test; do
  [[ -e $BUILD/$f ]] || die "$BUILD/$f missing: build ahub, cache-sim, sandbox_test first"
done

# ---- Host dependencies: QEMU, a Debian kernel with its modules, a static busybox for the initramfs.
need=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
installed qemu-system-x86 || need+=(qemu-system-x86)
installed busybox-static || need+=(busybox-static)
installed linux-image-amd64 || need+=(linux-image-amd64)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# busybox must be static: it runs before any library is reachable.
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
  ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' || die "/bin/busybox is not static (busybox-static)"

# The newest kernel that has its modules installed (9p and virtio are modules in Debian's kernel).
KVER=
for k in $(ls /boot/vmlinuz-* | sed 's|/boot/vmlinuz-||' | sort -V); do
  [[ -d /lib/modules/$k/kernel ]] && KVER=$k
done
[[ -n $KVER ]] || die "no /boot/vmlinuz-* with matching /lib/modules (apt-get install linux-image-amd64)"
KERNEL=/boot/vmlinuz-$KVER
[[ -r $KERNEL ]] || die "$KERNEL unreadable"
log "kernel $KVER"

mkdir -p "$WORK"
rm -rf "$SHARE" "$INITRD_DIR" "$WORK/initramfs.cpio.gz"
mkdir -p "$SHARE/results" "$SHARE/pkgs" "$INITRD_DIR"

# ---- Hostile packages (format ahub/1, runtime python3). Each claims a number its run can never
# produce, so each must end as a failed run; the interesting part is how it was stopped.
make_pkg() {  # id limits script-body description
  local id=$1 limits=$2 body=$3 what=$4 dir=$SHARE/pkgs/$1
  mkdir -p "$dir"
  printf '%s\n' "$body" >"$dir/run.py"
  cat >"$dir/package.yaml" <<EOF
format: ahub/1
id: $id
version: 1
title: "Hostile probe: $what"
summary: "A package whose only experiment $what, to check that the sandbox stops it under cgroup v2."
categories: [cs.OS]
authors:
  - {name: cgroup2-vm-check}
published: 2026-01-01
license: MIT
provenance:
  kind: original
environment:
  runtime: python3
  limits: $limits
experiments:
  - id: run
    command: [python3, run.py, "{out}/result.json"]
claims:
  - id: value
    statement: The experiment writes a value.
    metric: probe.value
    unit: "1"
    value: 1
    expect: {approx: 1, abs: 0.5}
    evidence: {experiment: run, pointer: /value}
EOF
  chmod -R a+rX "$dir"
}
make_pkg cg2-memory-hog '{wall_seconds: 120, memory_mb: 64, processes: 8}' '
import json, sys
# Touch 1 GiB in 8 MiB pieces (bytes of a non-zero byte: real pages, not lazily zeroed ones).
hog = [b"x" * (8 << 20) for _ in range(128)]
json.dump({"value": len(hog)}, open(sys.argv[1], "w"))' "allocates and touches 1 GiB under a 64 MiB limit"
make_pkg cg2-fork-bomb '{wall_seconds: 120, memory_mb: 256, processes: 8}' '
import os, time
# Every process forks for ever; the first refused fork raises and ends that process with status 1.
while True:
    os.fork()
    time.sleep(0.01)' "forks without end under an 8-process limit"
make_pkg cg2-endless-loop '{wall_seconds: 5, memory_mb: 256, processes: 8}' '
import os
# A child and the command itself spin for ever; the whole tree must be gone after the timeout.
os.fork()
while True:
    pass' "spins for ever under a 5-second wall-clock limit"

# ---- Probe: what the runner library itself concludes about cgroups in the guest, and one run.
cat >"$WORK/cg2probe.cc" <<'EOF'
#include <iostream>
#include "runner/cgroup.h"
#include "runner/sandbox.h"
int main(int argc, char** argv) {
  std::string why;
  const ahub::CgroupVersion v = ahub::CgroupSupport(&why);
  std::cout << "cgroup_support "
            << (v == ahub::CgroupVersion::kV2 ? "v2" : v == ahub::CgroupVersion::kV1 ? "v1" : "none")
            << "\nwhy_not " << why << "\n";
  if (argc < 3) return 0;
  ahub::SandboxSpec spec;  // argv[1]: a package dir (read-only), argv[2]: an empty output dir
  spec.argv = {"/bin/echo", "hello"};
  spec.package_dir = argv[1];
  spec.output_dir = argv[2];
  auto r = ahub::NewBubblewrapSandbox()->Run(spec);
  if (!r.ok()) { std::cout << "run_error " << r.status().ToString() << "\n"; return 1; }
  std::cout << "run_enforcement " << r.value().enforcement << "\nrun_exit " << r.value().exit_code
            << "\nrun_peak_memory_mb " << r.value().peak_memory_mb << "\n";
  return 0;
}
EOF
log "building the probe against $BUILD/runner/libahub_runner.a"
c++ -std=c++20 -O1 -I"$SRC" "$WORK/cg2probe.cc" "$BUILD/runner/libahub_runner.a" \
  -lyaml-cpp -lcrypto -pthread -o "$SHARE/cg2probe"

# ---- The guest's script: runs in the guest's root (the host's, read-only) as root.
cat >"$SHARE/guest.sh" <<EOF
#!/bin/sh
# Runs inside the VM; every result goes to $SHARE/results.
SRC='$SRC'; BUILD='$BUILD'; SHARE='$SHARE'; MODES='$MODES'; GTEST_FILTER='$GTEST_FILTER'
EOF
cat >>"$SHARE/guest.sh" <<'EOF'
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp LANG=C.UTF-8
R=$SHARE/results
CG=/sys/fs/cgroup
cd $SRC  # tests run from the source root, as ctest runs them
{
  echo "kernel $(uname -r)"
  echo "mounts:"; grep cgroup /proc/self/mountinfo
  echo "root cgroup.controllers: $(cat $CG/cgroup.controllers)"
  echo "max_user_namespaces: $(cat /proc/sys/user/max_user_namespaces)"
  echo "unprivileged_userns_clone: $(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null)"
  echo "bwrap: $(bwrap --version)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo)"
  grep -E '^(MemTotal|SwapTotal)' /proc/meminfo
} >$R/env.txt 2>&1

# Leftover run cgroups anywhere below the root (the runner names them ahub-<pid>-<n>).
leftovers() { find $CG -mindepth 1 -type d -name 'ahub-[0-9]*' 2>/dev/null; }

# Runs "$@" placed as the mode asks: in the root cgroup, or alone in a fresh child cgroup
# leaf-<n> (this shell stays in the root; the command moves itself there before exec'ing). A fresh
# one each time: a runner may have enabled controllers in the last one, which then takes no process.
LEAVES=0
placed() {
  if [ "$MODE" = leaf ]; then
    LEAVES=$((LEAVES + 1)); LEAF=$CG/leaf-$LEAVES; mkdir $LEAF
    sh -c 'echo $$ >$0/cgroup.procs && exec "$@"' $LEAF "$@"
  else
    "$@"
  fi
}

for MODE in $MODES; do
  D=$R/$MODE; mkdir -p $D
  echo "root subtree_control: $(cat $CG/cgroup.subtree_control)" >$D/cgroup-state.txt

  mkdir -p /tmp/probe-pkg /tmp/probe-out-$MODE && chmod 755 /tmp/probe-pkg
  placed $SHARE/cg2probe /tmp/probe-pkg /tmp/probe-out-$MODE >$D/probe.txt 2>&1
  [ "$MODE" = leaf ] && echo "leaf-$LEAVES after the probe: controllers '$(cat $LEAF/cgroup.controllers)'" \
      "subtree_control '$(cat $LEAF/cgroup.subtree_control)' children '$(ls -d $LEAF/*/ 2>/dev/null)'" >>$D/cgroup-state.txt

  # a. the sandbox tests, from the source root as gtest_discover_tests registers them.
  start=$(date +%s)
  placed $BUILD/tests/sandbox_test --gtest_filter="$GTEST_FILTER" \
      --gtest_output=json:$D/sandbox_test.json >$D/sandbox_test.log 2>&1
  echo "rc=$? seconds=$(( $(date +%s) - start ))" >$D/sandbox_test.rc
  leftovers >$D/leftover-after-sandbox_test.txt

  # b. a real package through `ahub verify`.
  placed $BUILD/bin/ahub verify $SRC/packages/cache-admission-zipfian --json \
      >$D/verify-zipfian.json 2>$D/verify-zipfian.err
  echo "rc=$?" >>$D/verify-zipfian.err

  # c. the hostile packages.
  for p in cg2-memory-hog cg2-fork-bomb cg2-endless-loop; do
    placed $BUILD/bin/ahub verify $SHARE/pkgs/$p --json >$D/$p.json 2>$D/$p.err
    echo "rc=$?" >>$D/$p.err
    leftovers >$D/leftover-after-$p.txt
    # Anything of the run still alive would show here (its command line names run.py).
    ps -eo pid,args | grep '[r]un.py' >$D/alive-after-$p.txt
  done
  find $CG -mindepth 1 -maxdepth 3 -type d >$D/cgroup-tree-at-end.txt
done
dmesg >$R/dmesg.txt
echo done >$R/done
EOF
chmod 755 "$SHARE/guest.sh"

# ---- initramfs: busybox, the modules for virtio-9p, and an /init that builds the guest's root.
log "building the initramfs"
mkdir -p "$INITRD_DIR"/{bin,proc,sys,dev,newroot,lib/modules}
cp /bin/busybox "$INITRD_DIR/bin/busybox"
# Modules in load order: each one's dependencies (modinfo -F depends) before it.
declare -A seen=()
order=()
add_mod() {
  local m=$1 d
  [[ -n ${seen[$m]:-} ]] && return
  seen[$m]=1
  for d in $(modinfo -k "$KVER" -F depends "$m" | tr ',' ' '); do add_mod "$d"; done
  order+=("$m")
}
for m in virtio_pci 9pnet_virtio 9p virtio_rng; do add_mod "$m"; done
for m in "${order[@]}"; do
  f=$(modinfo -k "$KVER" -F filename "$m")
  case $f in
    *.ko) cp "$f" "$INITRD_DIR/lib/modules/$m.ko" ;;
    *.ko.xz) xz -dc "$f" >"$INITRD_DIR/lib/modules/$m.ko" ;;
    *.ko.zst) zstd -qdc "$f" >"$INITRD_DIR/lib/modules/$m.ko" ;;
    *) die "module $m: unexpected file $f" ;;
  esac
  echo "$m" >>"$INITRD_DIR/modules.order"
done
cat >"$INITRD_DIR/init" <<EOF
#!/bin/busybox sh
SHARE='$SHARE' SRC='$SRC' BUILD='$BUILD'
EOF
cat >>"$INITRD_DIR/init" <<'EOF'
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The accelerator probe boots with cg2vm.probe: it only has to show that the guest runs at all.
if grep -q cg2vm.probe /proc/cmdline; then echo CG2VM-ALIVE; poweroff -f; fi
for m in $(cat /modules.order); do insmod /lib/modules/$m.ko || echo "init: insmod $m failed"; done
fail() { echo "init: $*"; poweroff -f; }
# The host's root, read-only; cache=loose: nothing changes it while the guest runs.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /newroot ||
  fail "cannot mount the host root"
N=/newroot
# The source and build trees may live below a directory the guest covers with tmpfs (a copy of the
# tree in /tmp, say): set them aside now and put them back on top of the tmpfs below.
i=0
for p in $SRC $BUILD; do
  case $p in /tmp/*|/var/tmp/*|/run/*)
    i=$((i + 1)); mkdir -p /keep/$i; mount --bind $N$p /keep/$i && echo "$i $p" >>/keep/list ;;
  esac
done
mount -t proc proc $N/proc
mount -t sysfs sysfs $N/sys
mount -t devtmpfs devtmpfs $N/dev
mkdir -p $N/dev/pts $N/dev/shm 2>/dev/null
mount -t devpts devpts $N/dev/pts
mount -t tmpfs tmpfs $N/dev/shm
for d in /tmp /run /var/tmp; do mount -t tmpfs -o mode=1777 tmpfs $N$d; done
[ -f /keep/list ] && while read i p; do mkdir -p $N$p && mount --move /keep/$i $N$p; done </keep/list
# Only cgroup v2 (no v1 hierarchy at all), with the domain controllers handed to children.
mount -t cgroup2 cgroup2 $N/sys/fs/cgroup || fail "cannot mount cgroup2"
echo "+memory +pids +cpu" >$N/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable controllers"
mkdir -p $N$SHARE
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=512000 share $N$SHARE ||
  fail "cannot mount the share"
# bubblewrap runs as a fresh unprivileged uid and needs unprivileged user namespaces.
echo 1 >/proc/sys/kernel/unprivileged_userns_clone 2>/dev/null
[ "$(cat /proc/sys/user/max_user_namespaces)" -gt 0 ] || echo 15000 >/proc/sys/user/max_user_namespaces
umount -l /proc /sys /dev 2>/dev/null
# switch_root, not chroot: the kernel refuses new user namespaces (bwrap) to a chrooted process.
# Once guest.sh is done, power off through sysrq (the host's root has no poweroff of its own that
# works without an init system).
echo "init: running $SHARE/guest.sh"
exec switch_root $N /bin/sh -c "/bin/sh $SHARE/guest.sh; echo \"guest.sh exited \$?\"; sync;
  echo o >/proc/sysrq-trigger; sleep 60"
EOF
chmod 755 "$INITRD_DIR/init"
(cd "$INITRD_DIR" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initramfs.cpio.gz"

# ---- Boot. KVM when it really works, else TCG. /dev/kvm may open and still hang the guest (seen
# on nested hosts whose CPU flags lack vmx), so a first boot with KVM must print CG2VM-ALIVE.
accel=tcg
if [[ -w /dev/kvm ]]; then
  timeout 60 qemu-system-x86_64 -accel kvm -cpu max -m 256 -nographic -no-reboot -nic none \
    -kernel "$KERNEL" -initrd "$WORK/initramfs.cpio.gz" \
    -append "console=ttyS0 panic=-1 quiet rdinit=/init cg2vm.probe" </dev/null \
    >"$WORK/kvm-probe.log" 2>&1 || true
  grep -q CG2VM-ALIVE "$WORK/kvm-probe.log" && accel=kvm
fi
log "booting with $accel (timeout ${TIMEOUT}s); console in $WORK/console.log"
start=$(date +%s)
set +e
timeout "$TIMEOUT" qemu-system-x86_64 \
  -accel "$accel" -cpu max -smp "$CPUS" -m "$MEM" \
  -kernel "$KERNEL" -initrd "$WORK/initramfs.cpio.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init" \
  -nographic -no-reboot -nic none -device virtio-rng-pci \
  -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
  -fsdev local,id=share,path="$SHARE",security_model=none,multidevs=remap \
  -device virtio-9p-pci,fsdev=share,mount_tag=share \
  </dev/null >"$WORK/console.log" 2>&1
qrc=$?
set -e
elapsed=$(($(date +%s) - start))
log "VM ran ${elapsed}s (qemu rc $qrc, accelerator $accel)"
echo "vm: accel=$accel seconds=$elapsed qemu_rc=$qrc kernel=$KVER" >"$SHARE/results/vm.txt"
[[ -f $SHARE/results/done ]] || { tail -40 "$WORK/console.log" >&2; die "the guest did not finish"; }

# ---- Judge the results.
/usr/bin/python3 - "$SHARE/results" "$MODES" <<'EOF'
import json, os, re, sys
res, modes = sys.argv[1], sys.argv[2].split()
failures = 0
def check(ok, name, detail):
    global failures
    failures += not ok
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
def read(path, default=""):
    try:
        with open(path) as f: return f.read()
    except OSError: return default
def report(path):
    try:
        with open(path) as f: return json.load(f)
    except (OSError, ValueError): return None
print(read(f"{res}/vm.txt").strip())
print(read(f"{res}/env.txt").splitlines()[0])
for mode in modes:
    d = f"{res}/{mode}"
    probe = dict(l.split(" ", 1) for l in read(f"{d}/probe.txt").splitlines() if " " in l)
    check(probe.get("cgroup_support") == "v2" and probe.get("run_enforcement") == "cgroup-v2",
          f"[{mode}] probe",
          f"CgroupSupport={probe.get('cgroup_support')} run={probe.get('run_enforcement')} "
          f"peak={probe.get('run_peak_memory_mb')} why_not={probe.get('why_not', '').strip()!r}")
    # a. sandbox_test
    g = report(f"{d}/sandbox_test.json")
    rc = read(f"{d}/sandbox_test.rc").strip()
    if g is None:
        check(False, f"[{mode}] a. sandbox_test", f"no gtest report ({rc}); see {d}/sandbox_test.log")
    else:
        failed = [(s["name"], t["name"], t["failures"]) for s in g["testsuites"]
                  for t in s["testsuite"] if t.get("failures")]
        skipped = [f"{s['name']}.{t['name']}" for s in g["testsuites"] for t in s["testsuite"]
                   if t.get("result") == "SKIPPED"]
        check(not failed, f"[{mode}] a. sandbox_test",
              f"{g['tests']} tests, {len(failed)} failed, {len(skipped)} skipped ({rc})")
        for suite, test, fs in failed:
            for f in fs:
                msg = " | ".join(f["failure"].splitlines()[:6])
                print(f"        {suite}.{test}: {msg}")
        for s in skipped: print(f"        skipped: {s}")
    left = read(f"{d}/leftover-after-sandbox_test.txt").split()
    check(not left, f"[{mode}] a. no ahub-* cgroups left by sandbox_test", " ".join(left) or "none")
    # b. a real package
    r = report(f"{d}/verify-zipfian.json")
    if r is None:
        check(False, f"[{mode}] b. verify cache-admission-zipfian",
              read(f"{d}/verify-zipfian.err").strip()[-300:])
    else:
        run = r["runs"][0]
        check(r["level"] == "reproduces" and run["enforcement"] == "cgroup-v2"
              and run["killed_by"] == "none" and run["peak_memory_mb"] > 0,
              f"[{mode}] b. verify cache-admission-zipfian",
              f"level={r['level']} enforcement={run['enforcement']} killed_by={run['killed_by']} "
              f"peak_memory_mb={run['peak_memory_mb']:.1f} wall={run['wall_seconds']:.2f}s")
    # c. hostile packages
    for pkg, want in [("cg2-memory-hog", "memory"), ("cg2-fork-bomb", "processes"),
                      ("cg2-endless-loop", "timeout")]:
        r = report(f"{d}/{pkg}.json")
        left = read(f"{d}/leftover-after-{pkg}.txt").split()
        alive = read(f"{d}/alive-after-{pkg}.txt").strip()
        if r is None:
            check(False, f"[{mode}] c. {pkg}", read(f"{d}/{pkg}.err").strip()[-300:])
            continue
        run = r["runs"][0]
        check(run["killed_by"] == want and run["enforcement"] == "cgroup-v2"
              and r["level"] == "failed" and run["peak_memory_mb"] > 0 and not left and not alive,
              f"[{mode}] c. {pkg}",
              f"level={r['level']} killed_by={run['killed_by']} (want {want}) "
              f"enforcement={run['enforcement']} exit={run['exit']} signal={run['signal']} "
              f"peak_memory_mb={run['peak_memory_mb']:.1f} wall={run['wall_seconds']:.2f}s "
              f"leftover_cgroups={left or 'none'} alive={alive or 'none'}")
print(f"SUMMARY: {'PASS' if failures == 0 else 'FAIL'} ({failures} failed check(s)); "
      f"results in {res}")
sys.exit(1 if failures else 0)
EOF
