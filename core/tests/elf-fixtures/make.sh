#!/bin/sh
# Makes the ELF reader's fixtures: small shared objects for several architectures, the
# same library after patchelf edits and with its section headers removed, and a
# readelf dump of each against which the unit tests compare (core/src/elf/tests.rs).
#
# Needs gcc, the cross compilers gcc-{i686,aarch64,arm,s390x,powerpc64,powerpc64le,
# riscv64}-linux-gnu (Debian packages of the same names; arm is gcc-arm-linux-gnueabihf),
# patchelf, readelf and python3. Run from anywhere; writes beside itself, then records
# the sha256 of every fixture in SHA256SUMS.
set -eu
cd "$(dirname "$0")"
SMALL="-Wl,-z,noseparate-code -Wl,-z,max-page-size=0x1000 -Wl,-z,common-page-size=0x1000 -Wl,--build-id=none -s"
LIB="-shared -fPIC -O1 -fno-asynchronous-unwind-tables -Wl,--version-script=demo.map -Wl,-soname,libdemo.so.1"

build() { # name compiler extra-flags...
    name=$1; cc=$2; shift 2
    "$cc" $LIB $SMALL "$@" -o "$name.so" demo.c -lm
}

build x86_64-gnu gcc -Wl,--hash-style=gnu -Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/../lib' \
    -march=x86-64-v3 -mneeded
build x86_64-sysv gcc -Wl,--hash-style=sysv -Wl,--disable-new-dtags -Wl,-rpath,/opt/demo/lib
build i686 i686-linux-gnu-gcc -Wl,--hash-style=both
build aarch64 aarch64-linux-gnu-gcc
build armv7l arm-linux-gnueabihf-gcc -march=armv7-a+fp
build s390x s390x-linux-gnu-gcc
build ppc64 powerpc64-linux-gnu-gcc
build ppc64le powerpc64le-linux-gnu-gcc
build riscv64 riscv64-linux-gnu-gcc

# Unstripped, with debug info: what `repair --strip` removes (elf::strip).
gcc $LIB -g -Wl,-z,noseparate-code -Wl,-z,max-page-size=0x1000 -Wl,-z,common-page-size=0x1000 \
    -Wl,--build-id=none -o x86_64-debug.so demo.c -lm

# A PIE executable, for PT_INTERP.
gcc -O1 -fno-asynchronous-unwind-tables $SMALL -o x86_64-exe exe.c

# What auditwheel repair does: a longer RUNPATH and a new NEEDED grow .dynstr and
# .dynamic, which patchelf moves to the end of the file.
cp x86_64-gnu.so x86_64-patchelf.so
# (One operation per call: patchelf 0.14 mixes up strings when given several.)
patchelf --set-soname libdemo-patched.so.1 x86_64-patchelf.so
patchelf --set-rpath '$ORIGIN/../demo.libs:$ORIGIN/a/much/longer/runpath/than/before' x86_64-patchelf.so
patchelf --add-needed libextra-0123abcd.so.2 x86_64-patchelf.so

# No section headers at all: only the program headers and the dynamic table remain.
python3 - <<'PY'
import struct
b = bytearray(open("x86_64-sysv.so", "rb").read())
shoff, = struct.unpack_from("<Q", b, 0x28)
del b[shoff:]
struct.pack_into("<Q", b, 0x28, 0)          # e_shoff
struct.pack_into("<HHH", b, 0x3a, 0, 0, 0)  # e_shentsize, e_shnum, e_shstrndx
open("x86_64-noshdr.so", "wb").write(bytes(b))
PY

for f in *.so x86_64-exe; do
    [ "$f" = x86_64-noshdr.so ] && continue
    LC_ALL=C readelf -h -l -d -V --dyn-syms -W "$f" > "$f.readelf"
done
sha256sum *.so x86_64-exe > SHA256SUMS
ls -l *.so x86_64-exe
