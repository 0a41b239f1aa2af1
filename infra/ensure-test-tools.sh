#!/bin/sh
# Tools the suites call besides nats-server, all from the distribution's packages (nothing is
# downloaded from elsewhere):
#   openssl, curl, jq          a client nobody here wrote; docs/agent-protocol.md's shell session
#   chromium                   the dashboard's browser suite (ensure-browser.sh)
#   iproute2, nftables         network namespaces and host isolation (agent, scanner tests)
#   passwd, openssh-client     usermod --root on prepared roots; ssh-keygen for key fingerprints
#   apt-utils, dpkg-dev        a local file: apt repository for the patch tests (apt-ftparchive)
#   samba-ad-dc, ldb-tools     a real Active Directory domain controller for the identity tests
#   samba-ad-provision         its provisioning data (the AD schema), only recommended by samba-ad-dc
#   sslscan                    a second opinion on the scanner's TLS findings
#   ffmpeg, espeak-ng,         the video pipeline's checks
#   festival, festvox-us-slt-hts, flite
#   util-linux                 setpriv (children die with their parent)
set -eu
sh "$(dirname "$0")/ensure-browser.sh"
sh "$(dirname "$0")/../src/videos/ensure-tools.sh"
need="openssl:openssl curl:curl jq:jq ip:iproute2 nft:nftables usermod:passwd ssh-keygen:openssh-client apt-ftparchive:apt-utils \
dpkg-deb:dpkg-dev samba-tool:samba-ad-dc ldbmodify:ldb-tools sslscan:sslscan ffmpeg:ffmpeg espeak-ng:espeak-ng festival:festival \
flite:flite setpriv:util-linux"
missing=""
for pair in $need; do
  cmd=${pair%%:*}
  pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/sbin/$cmd" ] || missing="$missing $pkg"
done
# The HTS voice is a data package: check its folder.
[ -d /usr/share/festival/voices/us/cmu_us_slt_arctic_hts ] || missing="$missing festvox-us-slt-hts"
# So is the DC's schema: a package of its own since Samba 4.16 (Debian 12), which samba-ad-dc only
# recommends — without it `samba-tool domain provision` fails ("install samba-ad-provision").
if [ ! -d /usr/share/samba/setup/ad-schema ] && command -v apt-cache >/dev/null 2>&1 && apt-cache show samba-ad-provision >/dev/null 2>&1; then
  missing="$missing samba-ad-provision"
fi
[ -z "$missing" ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  echo "stockade tests: installing$missing from the distribution's packages" >&2
  $SUDO apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "stockade tests need:$missing" >&2; exit 1
fi
