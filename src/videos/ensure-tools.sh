#!/bin/sh
# What the video pipeline (npm run videos, test/videos) needs from the distribution: ffmpeg (with
# ffprobe), a voice (Festival with its HTS voice; flite and espeak-ng are fallbacks) and chromium.
# Installs whatever is missing with apt-get; nothing is downloaded from anywhere else.
set -eu
cd "$(dirname "$0")/../.."
sh infra/ensure-browser.sh
missing=""
command -v ffmpeg >/dev/null 2>&1 || missing="$missing ffmpeg"
command -v ffprobe >/dev/null 2>&1 || missing="$missing ffmpeg"
command -v text2wave >/dev/null 2>&1 || missing="$missing festival"
[ -d /usr/share/festival/voices/us/cmu_us_slt_arctic_hts ] || missing="$missing festvox-us-slt-hts"
[ -z "$missing" ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null || true
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
else
  echo "the video pipeline needs:$missing (Debian packages)" >&2; exit 1
fi
