#!/usr/bin/env bash
# The install layout and the Debian package (cmake/packaging.cmake), from the
# build under test:
#   1. `cmake --install` puts both binaries, man pages, shell completions, the
#      systemd units, the sysusers file and the polkit rule where they belong;
#   2. CPack makes a .deb (stripped binaries, dependencies from dpkg-shlibdeps),
#      `dpkg -i` installs it into a scratch root (its postinst creates the users
#      there), `modelreg --version` runs from it, and `dpkg -r` removes it;
#   3. systemd-analyze accepts both units.
# Usage: package_test.sh BUILD_DIR
set -euo pipefail
BUILD=$1
T=$(mktemp -d /tmp/modelreg-package-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
VERSION=$(sed -n 's/^project(modelreg VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")
[[ -n $VERSION ]] || fail "no version in CMakeLists.txt"

echo "== 1. cmake --install"
cmake --install "$BUILD" --prefix "$T/inst" >"$T/install.log"
for f in bin/modelreg bin/modelreg-agent share/man/man1/modelreg.1 share/man/man1/modelreg-agent.1 \
  share/bash-completion/completions/modelreg share/zsh/vendor-completions/_modelreg \
  share/fish/vendor_completions.d/modelreg.fish lib/systemd/system/modelreg.service \
  lib/systemd/system/modelreg-agent@.service lib/systemd/system/modelreg-gc.service \
  lib/systemd/system/modelreg-gc.timer lib/sysusers.d/modelreg.conf \
  share/polkit-1/rules.d/50-modelreg-agent.rules share/doc/modelreg/modelreg.default; do
  [[ -s $T/inst/$f ]] || fail "cmake --install did not install $f"
done
head -c 200 "$T/inst/share/man/man1/modelreg.1" | grep -q '^\.TH' || fail "modelreg.1 is not a man page"
grep -q 'complete' "$T/inst/share/bash-completion/completions/modelreg" || fail "bash completion has no complete command"
"$T/inst/bin/modelreg" --version | grep -q "$VERSION" || fail "installed modelreg --version does not say $VERSION"

echo "== 2. the .deb"
(cd "$BUILD" && cpack -G DEB -B "$T/pkg" >"$T/cpack.log" 2>&1) || { cat "$T/cpack.log"; fail "cpack failed"; }
deb=$(ls "$T"/pkg/modelreg_*.deb 2>/dev/null | head -1)
[[ -n $deb ]] || fail "cpack made no .deb: $(ls "$T/pkg")"
depends=$(dpkg-deb --field "$deb" Depends)
echo "Depends: $depends"
for lib in libsqlite3 libssl libgit2 libpq libstdc++; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
dpkg-deb --contents "$deb" >"$T/contents"
for f in ./usr/bin/modelreg ./usr/bin/modelreg-agent ./usr/lib/systemd/system/modelreg.service \
  ./usr/lib/sysusers.d/modelreg.conf ./usr/share/man/man1/modelreg.1; do
  grep -q " $f\$" "$T/contents" || fail "the package lacks $f"
done
R=$T/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers" "$R/etc"
touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/available"
# The scratch root has no shell to chroot into: the maintainer script runs
# outside it with DPKG_ROOT set (packaging/debian/postinst honours it). Its
# dependencies are on this machine, not in the scratch root's database.
dpkg_root() {
  if [[ $(id -u) -eq 0 ]]; then dpkg --root="$R" --force-script-chrootless --force-depends "$@"
  else fakeroot dpkg --root="$R" --force-script-chrootless --force-depends --force-not-root "$@"; fi
}
dpkg_root -i "$deb" >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "dpkg -i failed"; }
dpkg --root="$R" -s modelreg | grep -q '^Status: install ok installed' || fail "dpkg does not list modelreg as installed"
out=$("$R/usr/bin/modelreg" --version) || fail "the installed modelreg --version failed"
echo "installed: $out"
[[ $out == *"$VERSION"* ]] || fail "modelreg --version says '$out', want $VERSION"
"$R/usr/bin/modelreg-agent" --version | grep -q "$VERSION" || fail "the installed modelreg-agent --version is wrong"
file -L "$R/usr/bin/modelreg" | grep -q 'not stripped' && fail "the packaged modelreg is not stripped"
if command -v systemd-sysusers >/dev/null; then
  grep -q '^modelreg:' "$R/etc/passwd" || fail "postinst did not create the user modelreg"
  grep -q '^modelreg-agent:' "$R/etc/passwd" || fail "postinst did not create the user modelreg-agent"
fi
dpkg_root -r modelreg >"$T/dpkg-r.log" 2>&1 || { cat "$T/dpkg-r.log"; fail "dpkg -r failed"; }
[[ ! -e $R/usr/bin/modelreg ]] || fail "dpkg -r left /usr/bin/modelreg"

echo "== 3. the systemd units"
if command -v systemd-analyze >/dev/null; then
  # verify resolves ExecStart= on this machine: point it at the built binaries.
  mkdir -p "$T/units"
  for u in modelreg.service modelreg-agent@.service modelreg-gc.service modelreg-gc.timer; do
    sed "s|/usr/bin/|$T/inst/bin/|" "$T/inst/lib/systemd/system/$u" >"$T/units/$u"
  done
  cp "$T/units/modelreg-agent@.service" "$T/units/modelreg-agent@churn.service"
  SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$T/units/modelreg.service" "$T/units/modelreg-agent@churn.service" \
    "$T/units/modelreg-gc.service" "$T/units/modelreg-gc.timer" \
    >"$T/verify.log" 2>&1 || true
  # Only lines about our units count (the host's own units may have warnings).
  if grep -E 'modelreg(-agent@churn|-gc)?\.(service|timer)' "$T/verify.log" | grep -v 'Failed to open.*env'; then
    fail "systemd-analyze verify complained about the units (above)"
  fi
fi
echo "ok: install layout, .deb ($(du -k "$deb" | cut -f1) KiB), dpkg -i/-r in a scratch root, units"
