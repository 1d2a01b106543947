#!/usr/bin/env bash
# Builds payoutd_<version>_amd64.deb from a built binary, without rebuilding it:
#   packaging/deb/build.sh BINARY OUTPUT_DIR
# prints the .deb's path. The version is CMakeLists.txt's project VERSION, which changelog's first
# entry must name (0.1.0 -> 0.1.0-N). The binary is stripped (no -dbgsym package: the build
# directory keeps the unstripped one). What goes where: packaging/deb/README.md.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: build.sh BINARY OUTPUT_DIR" >&2
  exit 2
fi
binary="$1"
out_dir="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

upstream_version="$(sed -n 's/^project(payoutd VERSION \([0-9.]*\) .*/\1/p' "$root/CMakeLists.txt")"
version="$(dpkg-parsechangelog -l "$here/changelog" -S Version)"
if [[ -z $upstream_version || $version != "$upstream_version"-* ]]; then
  echo "build.sh: packaging/deb/changelog's version $version is not CMakeLists.txt's" \
       "$upstream_version: add a changelog entry" >&2
  exit 1
fi
# Every file's time is the changelog entry's: the same tree gives the same package.
SOURCE_DATE_EPOCH="$(dpkg-parsechangelog -l "$here/changelog" -S Timestamp)"
export SOURCE_DATE_EPOCH

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
stage="$work/payoutd"
doc="$stage/usr/share/doc/payoutd"

install -D -m 0755 "$binary" "$stage/usr/bin/payoutd"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/payoutd"
install -D -m 0644 "$here/payoutd.service" "$stage/lib/systemd/system/payoutd.service"
install -D -m 0644 "$root/config/production.toml" "$stage/etc/payoutd/payoutd.toml"
install -D -m 0644 "$root/data/knp.csv" "$stage/usr/share/payoutd/knp.csv"
install -D -m 0644 "$here/payoutd.1" "$stage/usr/share/man/man1/payoutd.1"
install -D -m 0644 "$here/copyright" "$doc/copyright"
install -D -m 0644 "$here/lintian-overrides" "$stage/usr/share/lintian/overrides/payoutd"
install -D -m 0644 "$here/changelog" "$doc/changelog.Debian"
install -m 0644 "$root/README.md" "$root"/docs/*.md "$doc/"
install -D -m 0644 "$root/config/sandbox.toml" "$doc/examples/sandbox.toml"
find "$stage/usr/share/man" "$doc" -type f ! -name copyright -exec gzip -9n {} +

# The control archive: dependencies of the binary's libraries, as dpkg-shlibdeps reads them
# (it needs a debian/control of the source to run in).
mkdir -p "$work/src/debian" "$stage/DEBIAN"
printf 'Source: payoutd\n\nPackage: payoutd\nArchitecture: amd64\n' >"$work/src/debian/control"
shlibs="$(cd "$work/src" && dpkg-shlibdeps -O "$stage/usr/bin/payoutd")"
shlibs="${shlibs#shlibs:Depends=}"
installed_kb="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@SHLIBS_DEPENDS@/$shlibs/" \
    -e "s/@INSTALLED_SIZE@/$installed_kb/" "$here/control.in" >"$stage/DEBIAN/control"
echo /etc/payoutd/payoutd.toml >"$stage/DEBIAN/conffiles"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$stage/DEBIAN/"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
   xargs -0 md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles"
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$out_dir"
deb="$(cd "$out_dir" && pwd)/payoutd_${version}_amd64.deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
