#!/bin/sh
# check-natives.sh ARCH FILE.node...: fail unless every binary is an ELF for ARCH (x64, arm64,
# armv7 = 32-bit hard-float) that needs no glibc newer than MAX_GLIBC (default 2.36: Debian 12 /
# Raspberry Pi OS bookworm, the oldest OS the release supports). readelf reads any ELF arch.
set -eu
arch=$1; shift
max=${MAX_GLIBC:-2.36}
case "$arch" in
  x64) machine='X86-64' ;;
  arm64) machine='AArch64' ;;
  armv7) machine='ARM' ;;
  *) echo "check-natives.sh: unknown arch $arch" >&2; exit 2 ;;
esac
command -v readelf >/dev/null || { echo "check-natives.sh: readelf missing (apt-get install binutils)" >&2; exit 1; }
bad=0
for f in "$@"; do
  m=$(readelf -h "$f" 2>/dev/null | sed -n 's/^ *Machine: *//p')
  flags=$(readelf -h "$f" 2>/dev/null | sed -n 's/^ *Flags: *//p')
  # Highest GLIBC_x.y among the symbol versions the binary needs (readelf -V: version needs).
  need=$(readelf -V -W "$f" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  cxx=$(readelf -V -W "$f" 2>/dev/null | grep -o 'GLIBCXX_[0-9][0-9.]*' | sort -uV | tail -1)
  ok=ok
  case "$m" in *"$machine") ;; *) ok="FAIL: machine '${m:-not an ELF}', want $machine" ;; esac
  [ "$arch" != armv7 ] || echo "$flags" | grep -q 'hard-float' || ok="FAIL: not hard-float ($flags)"
  if [ "$ok" = ok ] && [ -n "$need" ] && [ "$(printf '%s\n%s\n' "$need" "$max" | sort -V | tail -1)" != "$max" ]; then
    ok="FAIL: needs GLIBC_$need, newer than MAX_GLIBC=$max (bookworm: 2.36)"
  fi
  echo "$(basename "$f"): $m, needs GLIBC_${need:-none}${cxx:+ $cxx}: $ok"
  [ "$ok" = ok ] || bad=1
done
exit $bad
